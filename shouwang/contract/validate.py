"""Judging decoded readings against what we know: the hub, the clock and the register's past."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shouwang.contract.decode import PayloadLimits, Rejection
from shouwang.contract.plausible import Plausible
from shouwang.domain.model import Reading, SensorKind, StoredReading
from shouwang.settings import GatewaySettings
from shouwang.storage.ports import ReadingStore, SensorKey

_REGISTER_TOLERANCE = 1e-6
RECENT = 8
"""Readings remembered per hub sensor to tell a repeat (same time, same value) from a conflict."""
MAX_SENSORS_PER_HUB = 32
"""Sensors remembered per hub: a home has a handful, so a hub inventing names cannot grow memory."""
DUPLICATE = ("duplicate", "the same reading again")
RESTART_FRACTION = 0.01
"""A register falling to at most this share of its value has started again from about nothing: a
hub's pulse count after a reboot, a meter rolling over (9999.999 to 0.004) or replaced."""
RESTART_AFTER = 2
"""Readings of a register fallen to about nothing, agreeing, after which it has started again: one
alone may be a failed read passed on as 0, which a tester found accepted at once, the true value
then taken as a new series, and the step between read as water drawn, a sign of life hiding a
collapse."""
NEW_SERIES_AFTER = 3
"""Newer readings of a register refused against its value, which agree among themselves, after
which they are taken as its new series: a meter replaced by one further on, or a baseline that an
outlier (or a restart near zero mistaken for one) moved."""
Recall = Callable[[dict[SensorKey, float], float], Mapping[SensorKey, Sequence[StoredReading]]]
"""({(household id, hub id, sensor): the time of the batch's first reading of it}, since) -> the
newest stored readings of each since `since`, newest first, at most RECENT, in one request to the
store (`ReadingStore.latest`, `recall_from`)."""
log = logging.getLogger(__name__)


def recall_from(store: ReadingStore, *, before_batch: bool = False) -> Recall:
    """`Validator`'s recall from a reading store. The gateway, which stores what it accepts,
    recalls the newest readings (one already stored is then a duplicate); a reader of the same
    stream beside it (the detector) only those older than the batch, or a reading the gateway
    stored a moment before would be a duplicate to it and never seen."""
    def recall(first: dict[SensorKey, float], since: float) -> Mapping[SensorKey, Sequence[StoredReading]]:
        # one request: the oldest of the batch bounds them all (for a few, an older baseline)
        return store.latest(list(first), since=since, limit=RECENT,
                            before=min(first.values()) if before_batch else None)
    return recall


@dataclass(frozen=True, slots=True)
class Limits:
    max_age_s: float
    max_future_s: float
    plausible: Plausible = field(default_factory=Plausible)
    payload: PayloadLimits = field(default_factory=PayloadLimits)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Limits:
        rates = {SensorKind.WATER: settings.max_water_m3_per_h, SensorKind.GAS: settings.max_gas_m3_per_h,
                 SensorKind.ELECTRICITY: settings.max_electricity_kw}
        return cls(
            max_age_s=settings.max_age_days * 86400,
            max_future_s=settings.max_future_s,
            plausible=Plausible(rates, settings.max_register, settings.max_electricity_kw * 1000),
            payload=PayloadLimits(settings.max_payload_bytes, settings.max_nesting),
        )


@dataclass(slots=True)
class _Last:
    ts: float
    value: float
    recent: list[tuple[float, float, int | None]] = field(default_factory=list)
    """(ts, value, seq) of the newest accepted readings, oldest first."""
    refused: list[tuple[float, float]] = field(default_factory=list)
    """(ts, value) of the newer readings refused against this one since the last accepted, while
    they agree among themselves: a new series forming (`NEW_SERIES_AFTER`)."""

    def remember(self, reading: Reading) -> None:
        self.refused.clear()
        if reading.ts > self.ts:
            self.ts, self.value = reading.ts, reading.value
        self.recent.append((reading.ts, reading.value, reading.seq))
        if len(self.recent) > RECENT:
            del self.recent[0]


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
    """Remembers each hub sensor's newest readings to catch repeats, conflicts, registers running
    back and impossible rises.

    With `recall`, a hub sensor met for the first time since the start is judged against what
    was stored of it before: without it, after any restart a single outlier would be taken as the
    register's value and every honest reading after it refused as running back."""

    def __init__(self, limits: Limits, *, recall: Recall | None = None) -> None:
        self.limits = limits
        self._last: dict[tuple[str, str], _Last] = {}
        self._sensors: dict[str, int] = {}
        self._recall = recall
        self._recalled: set[tuple[str, str]] = set()

    def last_value(self, hub_id: str, sensor: str) -> float | None:
        """The newest value accepted for a hub sensor (a bridged register's restart is judged by it)."""
        last = self._last.get((hub_id, sensor))
        return None if last is None else last.value

    def judge(
        self, readings: Sequence[Reading], *, hubs: Mapping[str, str], now: float
    ) -> Verdict:
        """`hubs` maps hub id → household id; `now` is the clock's time of judgement."""
        accepted: list[StoredReading] = []
        rejected: list[Rejection] = []
        duplicates = 0
        if self._recall is not None:
            self._remember_stored(readings, hubs, now)
        for reading in sorted(readings, key=lambda r: r.ts):
            household_id = hubs.get(reading.hub_id)
            try:
                problem = self._problem(reading, household_id, now)
            except Exception as exc:  # a bug of ours must cost only this reading (and show in its letter)
                problem = "internal", f"could not judge this reading: {repr(exc)[:300]}"
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

    def _remember_stored(self, readings: Sequence[Reading], hubs: Mapping[str, str],
                         now: float) -> None:
        """What was stored of each register (a meter's running total) met for the first time:
        one query a register of each hub after a start. Other readings need no past to be judged
        (a repeat of a stored one is ignored by the store). A store that cannot be read now is
        asked again with the next batch (meanwhile, judged as before)."""
        assert self._recall is not None
        first: dict[SensorKey, float] = {}
        asking: dict[str, int] = {}  # per hub: a hub inventing sensor names asks for no more than it may keep
        for r in readings:
            household_id = hubs.get(r.hub_id)
            key, asked = (r.hub_id, r.sensor), (hubs.get(r.hub_id, ""), r.hub_id, r.sensor)
            if asked in first:
                first[asked] = min(r.ts, first[asked])
            elif (r.kind.is_register and household_id is not None and key not in self._last
                  and key not in self._recalled
                  and self._sensors.get(r.hub_id, 0) + asking.get(r.hub_id, 0) < MAX_SENSORS_PER_HUB):
                first[asked] = r.ts
                asking[r.hub_id] = asking.get(r.hub_id, 0) + 1
        if not first:
            return
        try:
            stored = self._recall(first, now - self.limits.max_age_s)
        except Exception as exc:  # the store's own errors vary; the readings are judged all the same
            log.warning("validate.recall_failed sensors=%d error=%r", len(first), exc)
            return
        for household_id, hub_id, sensor in first:
            self._recalled.add((hub_id, sensor))
            newest = sorted(stored.get((household_id, hub_id, sensor), ())[:RECENT], key=lambda r: r.ts)
            if newest:
                last = self._last[(hub_id, sensor)] = _Last(newest[-1].ts, newest[-1].value)
                last.recent = [(r.ts, r.value, r.seq) for r in newest]
                self._sensors[hub_id] = self._sensors.get(hub_id, 0) + 1

    def _problem(
        self, reading: Reading, household_id: str | None, now: float
    ) -> tuple[str, str] | None:
        if household_id is None:
            return "unknown_hub", unknown_hub_reason(reading.hub_id)
        if reading.ts < now - self.limits.max_age_s:
            days = (now - reading.ts) / 86400
            return "bad_timestamp", f"timestamp {reading.ts:.0f} is {days:.1f} days old; too old to keep"
        if reading.ts > now + self.limits.max_future_s:
            ahead = reading.ts - now
            return "bad_timestamp", f"timestamp {reading.ts:.0f} is {ahead:.0f} s in the future; check the hub's clock"
        key = (reading.hub_id, reading.sensor)
        last = self._last.get(key)
        if last is None and self._sensors.get(reading.hub_id, 0) >= MAX_SENSORS_PER_HUB:
            return "bad_topic", (f"hub {reading.hub_id} already reports {MAX_SENSORS_PER_HUB} sensors; "
                                 f"no home has more: check the hub's sensor names ({reading.sensor} refused)")
        problem = _repeat(reading, last) or self._against(reading, last)
        if problem is not None and last is not None and self._starts_again(reading, last, problem):
            problem = None
        if problem is None:
            if last is None:
                self._last[key] = last = _Last(reading.ts, reading.value)
                self._sensors[reading.hub_id] = self._sensors.get(reading.hub_id, 0) + 1
            last.remember(reading)
        return problem

    def _against(self, reading: Reading, last: _Last | None) -> tuple[str, str] | None:
        """A register running back, or rising faster than any meter can, against the newest."""
        impossible = self.limits.plausible.problem(
            reading, last.ts if last else None, last.value if last else None)
        if impossible is not None:
            return "implausible", impossible
        if not reading.kind.is_register or last is None or reading.reset:
            return None
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
        return None


    def _starts_again(self, reading: Reading, last: _Last, problem: tuple[str, str]) -> bool:
        """Whether a register reading refused against the newest starts the register's new series.

        A register does start again: a hub rebooted counts its pulses from 0, a meter rolls over
        or is replaced, and hubs seldom say `"reset": true`. Refused for ever, every reading after
        it was lost and the home looked silent, then its hub offline. A fall to about nothing is
        taken once `RESTART_AFTER` readings agree; any other jump (backwards, or up faster than a
        meter passes) once `NEW_SERIES_AFTER` do. One outlier (a failed read given as 0 too), or a
        reading jittering back, costs only itself; a late reading is never a new series."""
        if not reading.kind.is_register or reading.ts <= last.ts:
            return False
        category = problem[0]
        if category == "implausible" and self.limits.plausible.problem(reading, None, None) is not None:
            return False  # impossible on its own (past any meter), not only after the newest
        if category not in ("register_backwards", "implausible"):
            return False
        restart = category == "register_backwards" and 0.0 <= reading.value <= RESTART_FRACTION * last.value
        series = last.refused
        if series:
            ts, value = series[-1]
            apart = (reading.ts <= ts or reading.value < value - _REGISTER_TOLERANCE * max(1.0, abs(value))
                     or self.limits.plausible.problem(reading, ts, value) is not None)
            if apart:
                series.clear()
        series.append((reading.ts, reading.value))
        if len(series) < (RESTART_AFTER if restart else NEW_SERIES_AFTER):
            return False
        log.info("validate.register_new_series hub=%s sensor=%s from=%s to=%s after=%d restart=%s",
                 reading.hub_id, reading.sensor, last.value, reading.value, len(series), restart)
        return True


def _repeat(reading: Reading, last: _Last | None) -> tuple[str, str] | None:
    """The same reading again (by time, or by `seq`), or another value for a time already seen."""
    if last is None:
        return None
    if last.ts == reading.ts:  # the newest first, then the few remembered
        if last.value == reading.value:
            return DUPLICATE
        return _conflict(reading, last.value)
    for ts, value, seq in last.recent:
        if ts == reading.ts:
            if value == reading.value:
                return DUPLICATE
            return _conflict(reading, value)
        if seq is not None and seq == reading.seq and value == reading.value:
            return DUPLICATE
    return None


def _conflict(reading: Reading, value: float) -> tuple[str, str]:
    return "conflict", (
        f"{reading.sensor} at {reading.ts} was already {value}; now {reading.value}. "
        "A hub sends one value per time; check its clock and firmware"
    )


def _describe(reading: Reading) -> str:
    return (
        f'{{"hub": "{reading.hub_id}", "sensor": "{reading.sensor}", '
        f'"ts": {reading.ts}, "value": {reading.value}}}'
    )
