"""Shelly plugs and relays, with their MQTT topic prefix `shouwang/v1/hubs/{hub}/shelly/<device>`.

`topic_tail` is what follows `.../shelly/`; the device is its first level.
- Gen2 and later (https://shelly-api-docs.shelly.cloud/gen2/General/Notifications,
  https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch): `<device>/events/rpc`
  carries JSON-RPC frames; `NotifyStatus` (and `NotifyFullStatus`) has `params.ts` (UNIX seconds UTC)
  and `params["switch:0"]` with `aenergy.total` (Wh, cumulative) and `apower` (W).
- Gen1 (https://shelly-api-docs.shelly.cloud/gen1/, Shelly Plug S: MQTT): `<device>/relay/0/energy`
  is a bare number of watt-minutes, cumulative since the device started; `<device>/relay/0/power` a
  bare number of watts. Gen1 sends no time, so `now` stands for it.
- Both: `<device>/online` is the retained word `true` or `false`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from gateway.bridges.devices import (
    BridgeReading,
    DeviceMap,
    DevicePresence,
    Heard,
    SignKind,
    Translation,
    guarded,
    non_negative,
    number,
    short,
    timestamp,
    unmapped,
)
from shouwang.contract.decode import DecodeError, PayloadLimits, load_json

BRIDGE = "shelly"
WH_PER_KWH = 1000.0
WATT_MINUTES_PER_KWH = 60_000.0
_STATUS_METHODS = frozenset({"NotifyStatus", "NotifyFullStatus"})


def translate(hub_id: str, topic_tail: str, payload: bytes, devices: Mapping[str, DeviceMap], *,
              now: float, tz: tzinfo) -> Translation:
    """Readings, rejections and presence from one Shelly message; never raises."""
    return guarded(BRIDGE, hub_id, topic_tail, payload,
                   lambda: _translate(hub_id, topic_tail, payload, devices, now))


def _translate(hub_id: str, tail: str, payload: bytes, devices: Mapping[str, DeviceMap],
               now: float) -> Translation:
    device, _, rest = tail.partition("/")
    if rest == "online":
        word = payload.decode("utf-8", "replace").strip()
        if word not in ("true", "false"):
            raise DecodeError("bad_value", f"shelly device {short(device, 80)!r}: 'online' must be "
                                           f"true or false, got {short(word, 40)}")
        return Translation(presence=[DevicePresence(hub_id, BRIDGE, device, word == "true", now)])
    if rest not in ("events/rpc", "relay/0/energy", "relay/0/power"):
        return Translation()  # other components, announces, commands: no sign
    entry = devices.get(device)
    if entry is None:
        return unmapped(BRIDGE, hub_id, device, payload)
    where = f"shelly device {short(device, 80)!r} ({entry.kind})"
    if entry.kind is not SignKind.ELECTRICITY:
        raise DecodeError("wrong_kind", f"{where}: Shelly plugs give electricity; map the device as electricity")
    heard = [Heard(device)]
    if rest == "events/rpc":
        reading = _gen2(hub_id, entry, payload, where)
        return Translation(readings=[reading] if reading else [], heard=heard)
    if rest == "relay/0/power":
        _bare_number(payload, where, "relay/0/power")
        return Translation(heard=heard)  # watts alone carry no register; relay/0/energy comes with the same period
    watt_minutes = _bare_number(payload, where, "relay/0/energy")
    return Translation(readings=[BridgeReading(hub_id, entry.sensor, entry.kind, now,
                                               watt_minutes / WATT_MINUTES_PER_KWH, device=device)],
                       heard=heard)


def _bare_number(payload: bytes, where: str, field: str) -> float:
    text = payload.decode("utf-8", "replace").strip()
    try:
        value = float(text)
    except ValueError:
        raise DecodeError("bad_value", f"{where}: {field} must be a number, got {short(text, 40)}") from None
    return non_negative(value, text, field, where)


def _gen2(hub_id: str, entry: DeviceMap, payload: bytes, where: str) -> BridgeReading | None:
    frame = load_json(payload, PayloadLimits(), f"{where}'s RPC frame")
    if not isinstance(frame, dict):
        raise DecodeError("malformed", f"{where}: an RPC frame must be a JSON object, got {short(frame, 60)}")
    method = frame.get("method")
    if not isinstance(method, str) or method not in _STATUS_METHODS:
        return None  # NotifyEvent (button pushes on a relay, scripts) and responses: no register
    params = frame.get("params")
    if not isinstance(params, dict):
        raise DecodeError("malformed", f"{where}: {frame.get('method')} has no 'params' object")
    switch = params.get("switch:0")
    if not isinstance(switch, dict):
        return None  # another component changed (wifi, sys, input)
    aenergy = switch.get("aenergy")
    if not isinstance(aenergy, dict) or "total" not in aenergy:
        return None  # only the output or temperature changed: nothing to count
    total_wh = number(aenergy, "total", f"{where}: switch:0.aenergy")
    power = number(switch, "apower", f"{where}: switch:0") if switch.get("apower") is not None else None
    ts = timestamp(params.get("ts"), "params.ts", where)
    return BridgeReading(hub_id, entry.sensor, entry.kind, ts, total_wh / WH_PER_KWH, power, device=entry.device)

