"""Judging decoded readings against what we know: the hub, the clock and the register's past."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.decode import Rejection
from shouwang.domain.model import Reading, StoredReading

_REGISTER_TOLERANCE = 1e-6
DUPLICATE = ("duplicate", "the same reading again")


@dataclass(frozen=True, slots=True)
class Limits:
    max_age_s: float
    max_future_s: float


@dataclass(slots=True)
class _Last:
    ts: float
    value: float


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: list[StoredReading]
    rejected: list[Rejection]
    duplicates: int


def unknown_hub_reason(hub_id: str) -> str:
    return (
        f"hub {hub_id} is not registered; register it with "
        f"`shouwang hubs add {hub_id} --household HOUSEHOLD_ID`"
    )


class Validator:
    """Remembers each hub sensor's newest reading to catch repeats and registers running back."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._last: dict[tuple[str, str], _Last] = {}

    def judge(
        self, readings: Sequence[Reading], *, hubs: Mapping[str, str], now: float
    ) -> Verdict:
        """`hubs` maps hub id → household id; `now` is the clock's time of judgement."""
        accepted: list[StoredReading] = []
        rejected: list[Rejection] = []
        duplicates = 0
        for reading in sorted(readings, key=lambda r: r.ts):
            household_id = hubs.get(reading.hub_id)
            problem = self._problem(reading, household_id, now)
            if problem is DUPLICATE:
                duplicates += 1
                continue
            if problem is not None:
                category, reason = problem
                rejected.append(
                    Rejection(category, reason, _describe(reading), reading.hub_id, reading.sensor)
                )
                continue
            assert household_id is not None
            accepted.append(
                StoredReading(household_id, reading.hub_id, reading.sensor, reading.ts,
                              reading.value, reading.power_w, reading.seq)
            )
        return Verdict(accepted, rejected, duplicates)

    def _problem(
        self, reading: Reading, household_id: str | None, now: float
    ) -> tuple[str, str] | None:
        if household_id is None:
            return "unknown_hub", unknown_hub_reason(reading.hub_id)
        if reading.ts < now - self._limits.max_age_s:
            days = (now - reading.ts) / 86400
            return "bad_timestamp", f"timestamp {reading.ts:.0f} is {days:.1f} days old; too old to keep"
        if reading.ts > now + self._limits.max_future_s:
            ahead = reading.ts - now
            return "bad_timestamp", f"timestamp {reading.ts:.0f} is {ahead:.0f} s in the future; check the hub's clock"
        key = (reading.hub_id, reading.sensor)
        last = self._last.get(key)
        if last is not None and reading.ts == last.ts:
            return DUPLICATE
        if reading.kind.is_register and last is not None and not reading.reset:
            tolerance = _REGISTER_TOLERANCE * max(1.0, abs(last.value))
            if reading.ts > last.ts and reading.value < last.value - tolerance:
                return "register_backwards", (
                    f"{reading.sensor} register went back from {last.value} to {reading.value} "
                    "without a reset; send \"reset\": true after replacing a meter"
                )
            if reading.ts < last.ts and reading.value > last.value + tolerance:
                return "register_backwards", (
                    f"late {reading.sensor} reading {reading.value} exceeds the newer {last.value}"
                )
        if last is None or reading.ts > last.ts:
            self._last[key] = _Last(reading.ts, reading.value)
        return None


def _describe(reading: Reading) -> str:
    return (
        f'{{"hub": "{reading.hub_id}", "sensor": "{reading.sensor}", '
        f'"ts": {reading.ts}, "value": {reading.value}}}'
    )
