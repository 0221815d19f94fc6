"""A home equipped from a shop's shelf, published as its bridges would publish it.

The hub's reports become: the door a Zigbee2MQTT contact sensor ("entrance"), the help and "I am
fine" buttons Zigbee2MQTT switches ("help", "fine button"), movement a Zigbee2MQTT PIR ("hall pir",
seen whenever the elder draws water or opens or closes the door), electricity a Tasmota plug
("kitchen_plug"), water a wireless M-Bus meter read by wmbusmeters. Gas has no off-the-shelf
sensor here and is left out. Shapes as each project documents them (see gateway/bridges/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shouwang.domain.devices import EVERY_ACTION, DeviceMap
from shouwang.domain.model import SensorKind
from simulator.home import Report

DOOR, PIR, HELP, FINE, PLUG = "entrance", "hall pir", "help", "fine button", "kitchen_plug"
MOTION_EVERY_S = 300.0
"""A PIR reports movement at most this often (its blind time), and clears 90 s after."""
OCCUPANCY_TIMEOUT_S = 90.0


def meter_id(hub_id: str) -> str:
    """The water meter's printed number: eight digits, the same for a hub every run."""
    return f"{sum(ord(c) * 31 ** i for i, c in enumerate(hub_id)) % 10**8:08d}"


def device_map(hub_id: str) -> list[DeviceMap]:
    """What an installer maps for such a home (`shouwang hubs devices HUB add ...`)."""
    return [
        DeviceMap(DOOR, SensorKind.DOOR, bridge="z2m"),
        DeviceMap(PIR, SensorKind.MOTION, bridge="z2m"),
        DeviceMap(HELP, SensorKind.BUTTON, bridge="z2m"),
        DeviceMap(FINE, SensorKind.BUTTON, "button.fine", frozenset({EVERY_ACTION}), bridge="z2m"),
        DeviceMap(PLUG, SensorKind.ELECTRICITY, bridge="tasmota"),
        DeviceMap(meter_id(hub_id), SensorKind.WATER, bridge="wmbus"),
    ]


@dataclass
class BridgeRenderer:
    """One home's reports → (topic tail under `.../hubs/{hub}/`, payload) as its bridges send them."""

    hub_id: str
    tz: ZoneInfo
    _water: float | None = None
    _door: float | None = None
    _motion_at: float = float("-inf")
    _occupied: bool = False
    _battery: dict[str, int] = field(default_factory=lambda: {DOOR: 93, PIR: 88, HELP: 100, FINE: 97})

    def render(self, reports: list[Report], now: float) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        for report in sorted(reports, key=lambda r: r.ts):
            self._clear(report.ts, out)
            out += self._one(report)
        self._clear(now, out)
        return out

    def history(self, reports: list[Report]) -> list[Report]:
        """The same home's past as the v1 contract's backlog, movement included: bridges keep no
        backlog, so what an equipped home recorded before it was connected is imported so (and a
        week of it arrives as a few arrays, not thousands of messages judged half-read)."""
        out: list[Report] = []
        for report in sorted(reports, key=lambda r: r.ts):
            if report.sensor == "gas":
                continue
            out.append(report)
            moved = None
            if report.sensor == "door":
                value = float(report.payload["value"])  # type: ignore[arg-type]
                moved = self._moved(report.ts) if self._door_moved(value) else None
            elif report.sensor == "water":
                value = float(report.payload["value"])  # type: ignore[arg-type]
                drawn = self._water is not None and value > self._water
                self._water = value
                moved = self._moved(report.ts) if drawn else None
            if moved is not None:
                self._occupied = False  # cleared within the backlog itself
                out += [Report(moved, "motion", {"ts": moved, "value": 1.0}),
                        Report(moved + OCCUPANCY_TIMEOUT_S, "motion",
                               {"ts": moved + OCCUPANCY_TIMEOUT_S, "value": 0.0})]
        return out

    def presence(self, online: bool) -> tuple[str, bytes]:
        """Zigbee2MQTT's own state (retained; its Last Will says offline)."""
        return "z2m/bridge/state", _json({"state": "online" if online else "offline"})

    def _one(self, report: Report) -> list[tuple[str, bytes]]:
        ts, value = report.ts, float(report.payload["value"])  # type: ignore[arg-type]
        if report.sensor == "door":
            return [self._z2m(DOOR, ts, contact=value < 0.5, voltage=3005),
                    *(self._movement(ts) if self._door_moved(value) else [])]
        if report.sensor == "motion":  # a home with its own motion sensor: the PIR is it
            return self._movement(ts)
        if report.sensor == "button":
            return [self._z2m(HELP, ts, action="single")]
        if report.sensor == "button.fine":
            return [self._z2m(FINE, ts, action="single")]
        if report.sensor == "water":
            drawn = self._water is not None and value > self._water
            self._water = value
            return [self._wmbus(ts, value), *(self._movement(ts) if drawn else [])]
        if report.sensor == "electricity":
            local = datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%dT%H:%M:%S")
            raw = report.payload.get("power_w")
            power = float(raw) if isinstance(raw, int | float) else 0.0
            energy = {"Total": round(value, 3), "Power": round(power, 1), "Voltage": 229,
                      "Current": round(power / 229, 3)}
            return [(f"tasmota/tele/{PLUG}/SENSOR", _json({"Time": local, "ENERGY": energy}))]
        return []  # gas: no such device in this home

    def _door_moved(self, value: float) -> bool:
        """Whether the door changed: its 15-minute heartbeat repeating the state is nobody passing."""
        changed = self._door is not None and value != self._door
        self._door = value
        return changed

    def _moved(self, ts: float) -> float | None:
        """`ts` if the PIR reports movement then (it is blind for a while after each report)."""
        if ts - self._motion_at < MOTION_EVERY_S:
            return None
        self._motion_at, self._occupied = ts, True
        return ts

    def _movement(self, ts: float) -> list[tuple[str, bytes]]:
        if self._moved(ts) is None:
            return []
        return [self._z2m(PIR, ts, occupancy=True, illuminance=14)]

    def _clear(self, now: float, out: list[tuple[str, bytes]]) -> None:
        if self._occupied and now - self._motion_at >= OCCUPANCY_TIMEOUT_S:
            self._occupied = False
            out.append(self._z2m(PIR, self._motion_at + OCCUPANCY_TIMEOUT_S, occupancy=False, illuminance=14))

    def _z2m(self, device: str, ts: float, **values: object) -> tuple[str, bytes]:
        seen = datetime.fromtimestamp(ts, self.tz).isoformat(timespec="milliseconds")
        body = {**values, "battery": self._battery[device], "linkquality": 96, "last_seen": seen}
        return f"z2m/{device}", _json(body)

    def _wmbus(self, ts: float, total: float) -> tuple[str, bytes]:
        stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return "wmbus/TapWater", _json({
            "media": "water", "meter": "multical21", "name": "TapWater", "id": meter_id(self.hub_id),
            "total_m3": round(total, 3), "target_m3": round(total, 3), "max_flow_m3h": 0,
            "flow_temperature_c": 18, "external_temperature_c": 21, "current_status": "", "time_dry": "",
            "time_reversed": "", "time_leaking": "", "time_bursting": "", "timestamp": stamp})


def _json(body: dict[str, object]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()
