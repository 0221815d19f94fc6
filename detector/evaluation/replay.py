"""Running any detector over a recorded home, as fast as the data allows.

The untouched stream is replayed tick by tick; every welfare alert that rises after the learning
days is a false alert (recordings hold no emergency). Incapacitations are injected by cutting:
at each chosen moment the detector is copied as it stands, then ticked on with no sign of life
at all, until it alerts or the horizon passes. The hub is taken as always heard (recordings have
no hubs), so only silences are judged.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from detector.base import Detector
from detector.context import Context
from detector.evaluation.recordings import Recording
from detector.signs import HomeState, SignOfLife
from shouwang.domain.alerts import AlertKind
from shouwang.domain.model import Household, Hub, Tier

WELFARE = frozenset({AlertKind.INACTIVITY, AlertKind.NO_WATER})
HUB = "recording"
DetectorFactory = Callable[[Recording], Detector]


@dataclass(frozen=True, slots=True)
class FalseAlert:
    at: float
    kind: str
    label: str | None
    explanation: str
    limit: str | None = None
    """Which limit fired (`Finding.details["limit"]`), where the scoring knows it."""


@dataclass
class HomeResult:
    """One detector on one home: delays of injected incidents and false alerts."""

    home_id: str
    detector: str
    household_months: float
    delays_h: list[float] = field(default_factory=list)
    """Hours from each incapacitation to the alert; +inf when it was missed."""
    already_alerting: int = 0
    false_alerts: list[FalseAlert] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)


def injection_moments(recording: Recording, n: int, *, seed: int, learning_days: float,
                      day_hours: tuple[float, float] = (7.0, 21.0)) -> list[float]:
    """`n` seeded random at-home daytime moments after the learning days, outside labelled spans."""
    rng = np.random.default_rng(seed)
    first = recording.start + learning_days * 86400.0
    moments: list[float] = []
    for _ in range(200 * max(n, 1)):
        if len(moments) == n:
            break
        ts = float(rng.uniform(first, recording.end))
        hour = _local_hour_of_day(ts, recording)
        if day_hours[0] <= hour < day_hours[1] and recording.label_at(ts) is None:
            moments.append(ts)
    return sorted(moments)


def _local_hour_of_day(ts: float, recording: Recording) -> float:
    from datetime import datetime

    moment = datetime.fromtimestamp(ts, recording.tz)
    return moment.hour + moment.minute / 60.0


def _context(recording: Recording) -> dict[str, Context]:
    household = Household(recording.home_id, Tier.YELLOW, "evaluation",
                          monitoring_since=recording.start)
    return {recording.home_id: Context(household, (Hub(HUB, recording.home_id),), recording.start)}


@dataclass
class _Run:
    detector: Detector
    home: HomeState
    contexts: dict[str, Context]
    active: set[AlertKind] = field(default_factory=set)

    def tick(self, now: float) -> tuple[set[AlertKind], dict[AlertKind, str]]:
        """Assess at `now`: the welfare kinds that just rose, with their explanations."""
        self.home.hub_seen_at[HUB] = now
        self.detector.observe(self.home, hub_id=HUB, at=now)
        findings = self.detector.assess(now, {self.home.household_id: self.home}, self.contexts)
        words = {f.kind: f.explanation for f in findings if f.kind in WELFARE}
        rose = set(words) - self.active
        self.active = set(words)
        return rose, words


def replay(make: DetectorFactory, recording: Recording, *, learning_days: float,
           injections: list[float], tick_s: float = 300.0, horizon_h: float = 24.0) -> HomeResult:
    """Replay the untouched stream for false alerts; inject a cut at each moment for delays."""
    detector = make(recording)
    run = _Run(detector, HomeState(recording.home_id), _context(recording))
    learn_until = recording.start + learning_days * 86400.0
    result = HomeResult(recording.home_id, detector.name,
                        max(recording.end - learn_until, 0.0) / 86400.0 / 30.44)
    pending = list(injections)
    k = 0
    now = math.floor(recording.start / tick_s) * tick_s
    while now <= recording.end + tick_s:
        while pending and pending[0] <= now:
            moment = pending.pop(0)
            k = _feed(run, recording, k, moment)
            _inject(run, moment, now, tick_s, horizon_h, result)
        k = _feed(run, recording, k, now)
        rose, words = run.tick(now)
        if now >= learn_until:
            label = recording.label_at(now)
            result.false_alerts += [FalseAlert(now, kind.value, label, words[kind])
                                    for kind in sorted(rose)]
        now += tick_s
    return result


def _feed(run: _Run, recording: Recording, k: int, until: float) -> int:
    """Give the detector every sign up to `until`; the index of the next sign."""
    while k < len(recording.ts) and recording.ts[k] <= until:
        sign = SignOfLife(recording.home_id, float(recording.ts[k]), recording.kinds[k],
                          recording.kinds[k].value)
        run.home.note_sign(sign)
        run.detector.learn_one(sign)
        k += 1
    return k


def _inject(run: _Run, moment: float, now: float, tick_s: float, horizon_h: float,
            result: HomeResult) -> None:
    """Cut every sign after `moment` (all signs up to it are fed) and tick on from `now`."""
    cut = copy.deepcopy(run)
    at = now
    while at - moment <= horizon_h * 3600.0:
        _, words = cut.tick(at)
        if words:
            if at == now and run.active:
                result.already_alerting += 1
            result.delays_h.append((at - moment) / 3600.0)
            return
        at += tick_s
    result.delays_h.append(math.inf)
