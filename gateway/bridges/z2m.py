"""Zigbee2MQTT device messages, with `base_topic` `shouwang/v1/hubs/{hub}/z2m`.

`topic_tail` is what follows `.../z2m/`: a friendly name (which may itself hold '/'), that name
followed by `/availability`, or the bridge's own `bridge/...` topics. Per the Zigbee2MQTT docs
(https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html) a device message is a JSON
object of its exposed values: `contact` (false = open), `occupancy`, `action`, and for plugs
`energy` (kWh) and `power` (W). Device availability
(https://www.zigbee2mqtt.io/guide/configuration/device-availability.html) is `{"state": "online"}`,
or the bare word in the legacy format.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from gateway.bridges.devices import (
    BridgeReading,
    DeviceMap,
    DevicePresence,
    Heard,
    SignKind,
    Translation,
    battery_percent,
    guarded,
    number,
    short,
    timestamp,
    unmapped,
)
from shouwang.contract.decode import DecodeError, PayloadLimits, load_json

BRIDGE = "z2m"
_COMMANDS = frozenset({"set", "get"})  # other clients' requests to a device, not the device speaking


def translate(hub_id: str, topic_tail: str, payload: bytes, devices: Mapping[str, DeviceMap], *,
              now: float, tz: tzinfo) -> Translation:
    """Readings, rejections and presence from one Zigbee2MQTT message; never raises."""
    return guarded(BRIDGE, hub_id, topic_tail, payload,
                   lambda: _translate(hub_id, topic_tail, payload, devices, now))


def _translate(hub_id: str, tail: str, payload: bytes, devices: Mapping[str, DeviceMap],
               now: float) -> Translation:
    if tail == "bridge/state":
        return Translation(presence=[DevicePresence(hub_id, BRIDGE, "bridge", _online(payload, "bridge"), now)])
    if tail.startswith("bridge/") or not tail:
        return Translation()  # the bridge's info, device list, logs and responses carry no sign
    name, _, last = tail.rpartition("/")
    if name and last == "availability":
        return Translation(presence=[DevicePresence(hub_id, BRIDGE, name, _online(payload, name), now)])
    if name and last in _COMMANDS:
        return Translation()
    entry = devices.get(tail)
    if entry is None:
        return unmapped(BRIDGE, hub_id, tail, payload)
    document = load_json(payload, PayloadLimits(), f"z2m device {short(tail, 80)!r}'s message")
    if not isinstance(document, dict):
        raise DecodeError("malformed", f"z2m device {short(tail, 80)!r} sent {short(document, 60)}, "
                                       "not a JSON object of its values")
    reading = _reading(hub_id, entry, document, now)
    return Translation(readings=[reading] if reading else [], heard=[Heard(tail, battery_percent(document))])


def _online(payload: bytes, device: str) -> bool:
    text: Any = payload.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        document = load_json(payload, PayloadLimits(), f"z2m availability of {short(device, 80)!r}")
        text = document.get("state") if isinstance(document, dict) else None
    if text not in ("online", "offline"):
        raise DecodeError("bad_value", f"z2m availability of {short(device, 80)!r} must be "
                                       f'"online" or "offline" (or {{"state": ...}}), got {short(payload, 60)}')
    return bool(text == "online")


def _when(document: dict[str, Any], where: str, now: float) -> float:
    """`last_seen` when Zigbee2MQTT adds it (ISO 8601 with offset, or epoch milliseconds), else now."""
    raw = document.get("last_seen")
    if raw is None:
        return now
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            raw = raw / 1000.0  # epoch milliseconds
        except OverflowError:
            raise DecodeError("bad_timestamp", f"{where}: 'last_seen' is out of range") from None
    return timestamp(raw, "last_seen", where)


def _flag(document: dict[str, Any], key: str, where: str) -> bool:
    raw = document.get(key)
    if not isinstance(raw, bool):
        raise DecodeError("bad_value", f"{where}: '{key}' must be true or false, got {short(raw, 40)}")
    return raw


def _reading(hub_id: str, entry: DeviceMap, document: dict[str, Any], now: float) -> BridgeReading | None:
    where = f"z2m device {short(entry.device, 80)!r} ({entry.kind})"
    ts = _when(document, where, now)
    kind = entry.kind
    if kind is SignKind.DOOR:  # contact: true = the magnet is near = closed
        value = 0.0 if _flag(document, "contact", where) else 1.0
        return BridgeReading(hub_id, entry.sensor, kind, ts, value, device=entry.device)
    if kind is SignKind.MOTION:
        value = 1.0 if _flag(document, "occupancy", where) else 0.0
        return BridgeReading(hub_id, entry.sensor, kind, ts, value, device=entry.device)
    if kind is SignKind.BUTTON:
        action = document.get("action")
        if action is None or action == "":
            return None  # a battery or link report, or the empty action sent after a press
        if not isinstance(action, str):
            raise DecodeError("bad_value", f"{where}: 'action' must be text, got {short(action, 40)}")
        action = action[:64]
        return BridgeReading(hub_id, entry.sensor, kind, ts, entry.press(action), device=entry.device,
                             action=action)
    if kind is SignKind.ELECTRICITY:  # a metering plug: energy in kWh, power in W
        power = number(document, "power", where) if document.get("power") is not None else None
        return BridgeReading(hub_id, entry.sensor, kind, ts, number(document, "energy", where), power,
                             device=entry.device)
    raise DecodeError("wrong_kind", f"{where}: Zigbee2MQTT devices here give door, motion, button or "
                                    f"electricity; map {entry.kind} meters through wmbusmeters")
