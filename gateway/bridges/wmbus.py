"""wmbusmeters' JSON line, published by its `shell` to `shouwang/v1/hubs/{hub}/wmbus/{meter}`.

`topic_tail` is what follows `.../wmbus/` (the meter's name or id, as the shell line chose). Per the
wmbusmeters README (https://github.com/wmbusmeters/wmbusmeters#readme), a reading is a JSON object
with `media` ("water", "warm water", "gas", ...), `meter` (the driver), `name`, `id` (the number
printed on the meter), `total_m3` (the register, m³) and `timestamp` (UTC, ISO 8601 with `Z`).
The device is the meter's `id` when the line has one, else the topic's last level.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from gateway.bridges.devices import (
    BridgeReading,
    DeviceMap,
    Heard,
    SignKind,
    Translation,
    guarded,
    number,
    short,
    timestamp,
    unmapped,
)
from shouwang.contract.decode import DecodeError, PayloadLimits, load_json

BRIDGE = "wmbus"
_METERS = (SignKind.WATER, SignKind.GAS)


def translate(hub_id: str, topic_tail: str, payload: bytes, devices: Mapping[str, DeviceMap], *,
              now: float, tz: tzinfo) -> Translation:
    """Readings and rejections from one wmbusmeters line; never raises."""
    return guarded(BRIDGE, hub_id, topic_tail, payload,
                   lambda: _translate(hub_id, topic_tail, payload, devices))


def _translate(hub_id: str, tail: str, payload: bytes, devices: Mapping[str, DeviceMap]) -> Translation:
    document = load_json(payload, PayloadLimits(), f"wmbus line on {short(tail, 80)!r}")
    if not isinstance(document, dict):
        raise DecodeError("malformed", f"wmbus line on {short(tail, 80)!r} must be a JSON object, "
                                       f"got {short(document, 60)}")
    meter_id = document.get("id")
    device = meter_id if isinstance(meter_id, str) and meter_id else tail
    entry = devices.get(device) or devices.get(tail)
    if entry is None:
        return unmapped(BRIDGE, hub_id, device, payload)
    where = f"wmbus meter {short(device, 80)!r} ({entry.kind})"
    if entry.kind not in _METERS:
        raise DecodeError("wrong_kind", f"{where}: wmbusmeters gives water or gas meters; map it as one of them")
    media = document.get("media")
    if isinstance(media, str) and entry.kind.value not in media:
        raise DecodeError("wrong_kind", f"{where}: its 'media' is {short(media, 40)!r}, not {entry.kind}; "
                                        "check which meter this is and map it again")
    total = number(document, "total_m3", where)
    ts = timestamp(document.get("timestamp"), "timestamp", where)
    return Translation(readings=[BridgeReading(hub_id, entry.sensor, entry.kind, ts, total, device=device)],
                       heard=[Heard(device)])
