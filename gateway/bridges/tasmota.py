"""Tasmota energy plugs, with its full topic under `shouwang/v1/hubs/{hub}/tasmota/`.

`topic_tail` is what follows `.../tasmota/`: `tele/<topic>/SENSOR` and `tele/<topic>/LWT` with the
default FullTopic order `%prefix%/%topic%/`, or `<topic>/tele/SENSOR` with `%topic%/%prefix%/`.
The device is `<topic>`. Per the Tasmota docs (https://tasmota.github.io/docs/MQTT/ and
https://tasmota.github.io/docs/JSON-Status-Responses/), `SENSOR` carries `Time` (the device's
local time, without an offset) and `ENERGY` with `Total` (kWh, cumulative) and `Power` (W, a list on
multi-channel devices); `LWT` is the retained word `Online` or `Offline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from gateway.bridges.devices import (
    BridgeReading,
    DeviceMap,
    DevicePresence,
    Heard,
    SignKind,
    Translation,
    guarded,
    number,
    short,
    unmapped,
)
from shouwang.contract.decode import DecodeError, PayloadLimits, load_json, parse_ts

BRIDGE = "tasmota"


def translate(hub_id: str, topic_tail: str, payload: bytes, devices: Mapping[str, DeviceMap], *,
              now: float, tz: tzinfo) -> Translation:
    """Readings, rejections and presence from one Tasmota message; never raises."""
    return guarded(BRIDGE, hub_id, topic_tail, payload,
                   lambda: _translate(hub_id, topic_tail, payload, devices, now, tz))


def _split(tail: str) -> tuple[str, str] | None:
    """(device topic, message) for a telemetry topic, in either FullTopic order; None for the rest."""
    parts = tail.split("/")
    if len(parts) != 3:
        return None
    if parts[0] == "tele":
        return parts[1], parts[2]
    if parts[1] == "tele":
        return parts[0], parts[2]
    return None


def _translate(hub_id: str, tail: str, payload: bytes, devices: Mapping[str, DeviceMap],
               now: float, tz: tzinfo) -> Translation:
    split = _split(tail)
    if split is None:
        return Translation()  # stat/ and cmnd/ topics: command results and requests, no sign
    device, message = split
    if message == "LWT":
        word = payload.decode("utf-8", "replace").strip()
        if word not in ("Online", "Offline"):
            raise DecodeError("bad_value", f"tasmota device {short(device, 80)!r}: LWT must be "
                                           f"Online or Offline, got {short(word, 40)}")
        return Translation(presence=[DevicePresence(hub_id, BRIDGE, device, word == "Online", now)])
    if message != "SENSOR":
        return Translation()  # STATE, INFO1..3, RESULT: the device's health, no sign
    entry = devices.get(device)
    if entry is None:
        return unmapped(BRIDGE, hub_id, device, payload)
    where = f"tasmota device {short(device, 80)!r} ({entry.kind})"
    if entry.kind is not SignKind.ELECTRICITY:
        raise DecodeError("wrong_kind", f"{where}: Tasmota plugs give electricity; map the device as electricity")
    document = load_json(payload, PayloadLimits(), f"{where}'s SENSOR")
    if not isinstance(document, dict):
        raise DecodeError("malformed", f"{where}: SENSOR must be a JSON object, got {short(document, 60)}")
    energy = document.get("ENERGY")
    if not isinstance(energy, dict):
        raise DecodeError("bad_value", f"{where}: SENSOR has no 'ENERGY' object (is this a metering plug?)")
    ts = _local_time(document.get("Time"), tz, where)
    reading = BridgeReading(hub_id, entry.sensor, entry.kind, ts, number(energy, "Total", f"{where}: ENERGY"),
                            _power(energy, where), device=device)
    return Translation(readings=[reading], heard=[Heard(device)])


def _power(energy: dict[str, Any], where: str) -> float | None:
    raw = energy.get("Power")
    if raw is None:
        return None
    if isinstance(raw, list):  # one value per channel; the home draws their sum
        return sum(number({"Power": item}, "Power", f"{where}: ENERGY") for item in raw)
    return number(energy, "Power", f"{where}: ENERGY")


def _local_time(raw: Any, tz: tzinfo, where: str) -> float:
    """Tasmota's `Time`: "2024-02-24T22:20:38" in the device's (the household's) zone; an offset, when
    the device adds one, is honoured."""
    if not isinstance(raw, str):
        raise DecodeError("bad_timestamp", f"{where}: 'Time' must be the device's local time as text, "
                                           f"got {short(raw, 40)}")
    try:
        parsed = datetime.fromisoformat(raw.replace(".", "-", 2) if raw[4:5] == "." else raw)
    except ValueError:
        raise DecodeError("bad_timestamp", f"{where}: 'Time' {short(raw, 40)} is not a date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parse_ts(parsed.timestamp())
    except (DecodeError, OverflowError, ValueError) as exc:
        raise DecodeError("bad_timestamp", f"{where}: 'Time' {short(raw, 40)} is out of range ({exc})") from None
