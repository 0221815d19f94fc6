"""What the bridge translators share: a hub's device map, and what a translation gives back.

A translated message becomes a `BridgeReading` of this package (its `kind` a `SignKind`, the same
names as the contract's `SensorKind`), which keeps the device's name and a button's action besides;
`BridgeReading.to_reading()` gives the contract's `Reading`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from typing import Any, Protocol

from shouwang.contract.decode import DecodeError, Rejection, parse_ts
from shouwang.domain.devices import EVERY_ACTION, MAX_DEVICE_NAME, DeviceMap
from shouwang.domain.model import Reading, SensorKind

__all__ = [
    "EVERY_ACTION",
    "MAX_DEVICE_NAME",
    "BridgeReading",
    "DeviceMap",
    "DevicePresence",
    "SignKind",
    "Translation",
    "Translator",
    "device_map",
    "flag_resets",
]

REGISTER_TOLERANCE = 1e-6
"""How far a register may fall (relative to its size) before `flag_resets` calls it a restart: rounding
in the device's own output (Tasmota prints 3 decimals) must not look like a reboot."""


SignKind = SensorKind
"""What a bridged device tells about the home: the contract's sensor kinds (motion and button included)."""


def device_map(entries: Iterable[DeviceMap]) -> dict[str, DeviceMap]:
    """A hub's map, by device name."""
    return {entry.device: entry for entry in entries}


@dataclass(frozen=True, slots=True)
class BridgeReading:
    """One sign from a bridged device, in the contract's units (m³, kWh, 1/0, W)."""

    hub_id: str
    sensor: str
    kind: SignKind
    ts: float
    value: float
    power_w: float | None = None
    reset: bool = False
    """The register restarted (a plug rebooted): not a meter running backwards. See `flag_resets`."""
    device: str = ""
    action: str | None = None
    """For a button: what the device says was done ("single", "double", "long", ...)."""

    def to_reading(self) -> Reading:
        """The contract's reading."""
        return Reading(self.hub_id, self.sensor, self.kind, self.ts, self.value, self.power_w, None, self.reset)


@dataclass(frozen=True, slots=True)
class DevicePresence:
    """A bridge said whether one of its devices (or itself) is reachable: hub presence, not a reading."""

    hub_id: str
    bridge: str
    device: str
    online: bool
    ts: float


@dataclass(frozen=True, slots=True)
class Heard:
    """A device spoke (mapped or not): for the installer's view. `battery` 0–1 when it said."""

    device: str
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class Translation:
    """What one bridge message becomes. No readings, rejections or presence: a message that carries no
    sign (a bridge's own log, a command echo, a battery-only report), left out on purpose."""

    readings: list[BridgeReading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    presence: list[DevicePresence] = field(default_factory=list)
    heard: list[Heard] = field(default_factory=list)
    unmapped: str | None = None
    """The device that spoke and is not in the hub's map (its rejection is among `rejections`)."""


class Translator(Protocol):
    """Every bridge module's `translate`."""

    def __call__(self, hub_id: str, topic_tail: str, payload: bytes, devices: Mapping[str, DeviceMap], *,
                 now: float, tz: tzinfo) -> Translation: ...


def flag_resets(readings: Iterable[BridgeReading],
                last_registers: Mapping[tuple[str, str], float]) -> list[BridgeReading]:
    """Mark as a reset each register reading below the last register the gateway holds for its
    (hub, sensor). Translation is stateless, so the gateway calls this with its validator's last values
    before validating: a bridged plug's register only falls when the plug restarted it (a reboot, an
    `EnergyReset`), and `reset` tells the validator and the detector to take it as a new start."""
    marked: list[BridgeReading] = []
    for reading in readings:
        last = last_registers.get((reading.hub_id, reading.sensor))
        if reading.kind.is_register and last is not None \
                and reading.value < last - REGISTER_TOLERANCE * max(1.0, abs(last)):
            reading = replace(reading, reset=True)
        marked.append(reading)
    return marked


def short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def number(document: Mapping[str, Any], key: str, where: str) -> float:
    """`document[key]` as a finite number >= 0, or a DecodeError naming the device's own field."""
    raw = document.get(key)
    if raw is None:
        raise DecodeError("bad_value", f"{where} has no '{key}'")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise DecodeError("bad_value", f"{where}: '{key}' must be a number, got {short(raw, 40)}")
    try:
        value = float(raw)
    except OverflowError:
        raise DecodeError("bad_value", f"{where}: '{key}' is out of range") from None
    return non_negative(value, raw, f"'{key}'", where)


def non_negative(value: float, raw: Any, field: str, where: str) -> float:
    """`value` if finite and >= 0, or a DecodeError naming the device's field and what it sent."""
    if not math.isfinite(value) or value < 0:
        raise DecodeError("bad_value", f"{where}: {field} must be a finite number >= 0, got {short(raw, 40)}")
    return value


def timestamp(raw: Any, field: str, where: str) -> float:
    """A device's time field: UNIX seconds, or ISO 8601 with an offset (UTC `Z` included)."""
    try:
        return parse_ts(raw)
    except DecodeError:
        if raw is None:
            raise DecodeError("bad_timestamp", f"{where} has no '{field}'") from None
        raise DecodeError("bad_timestamp", f"{where}: '{field}' must be UNIX seconds or ISO 8601 with an "
                                           f"offset, got {short(raw, 40)}") from None


def unmapped(bridge: str, hub_id: str, device: str, payload: bytes) -> Translation:
    reason = (f"{bridge} device {short(device, 80)!r} is not in hub {hub_id}'s device map; map it to "
              f"a sign ({', '.join(k.value for k in SignKind)}) to take its messages")
    return Translation(rejections=[Rejection("unmapped", reason, item_text(payload), hub_id)],
                       heard=[Heard(device)], unmapped=device)


def battery_percent(document: Mapping[str, Any], key: str = "battery") -> float | None:
    """A device's `battery` in percent as 0–1, or None when it sent none (or nonsense)."""
    raw = document.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 100:
        return None
    return float(raw) / 100.0


def item_text(payload: bytes) -> str:
    return short(payload[:400].decode("utf-8", "replace"))


def guarded(bridge: str, hub_id: str, topic_tail: str, payload: bytes,
            body: Callable[[], Translation]) -> Translation:
    """Run one translation so that nothing it meets escapes: a payload it cannot take, or a bug of
    ours, becomes a rejection that names the bridge and topic (the bulkhead of shouwang.contract.decode)."""
    try:
        return body()
    except DecodeError as exc:
        return Translation(rejections=[Rejection(exc.category, exc.reason, item_text(payload), hub_id)])
    except Exception as exc:
        reason = f"could not translate {bridge} message on {short(topic_tail, 120)!r}: {short(repr(exc), 300)}"
        return Translation(rejections=[Rejection("internal", reason, item_text(payload), hub_id)])
