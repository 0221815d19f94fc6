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
from detector.learned import LearnedDetector
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


def _context(recording: Recording, household_id: str, hub_id: str) -> Context:
    household = Household(household_id, Tier.YELLOW, "evaluation", monitoring_since=recording.start)
    return Context(household, (Hub(hub_id, household_id),), recording.start)


@dataclass
class _Run:
    """One detector judging copies of one recording: household id → its tracker and hub."""

    detector: Detector
    homes: dict[str, HomeState]
    hubs: dict[str, str]
    contexts: dict[str, Context]
    active: dict[str, set[AlertKind]] = field(default_factory=dict)

    @classmethod
    def of(cls, detector: Detector, recording: Recording, household_ids: list[str]) -> _Run:
        hubs = {h: HUB if len(household_ids) == 1 else f"{HUB}-{k}"
                for k, h in enumerate(household_ids)}
        return cls(detector, {h: HomeState(h) for h in household_ids}, hubs,
                   {h: _context(recording, h, hubs[h]) for h in household_ids},
                   {h: set() for h in household_ids})

    def tick(self, now: float) -> dict[str, tuple[set[AlertKind], dict[AlertKind, str]]]:
        """Assess at `now`: for each copy, the welfare kinds that just rose, with their
        explanations."""
        for household_id, home in self.homes.items():
            hub_id = self.hubs[household_id]
            home.hub_seen_at[hub_id] = now
            self.detector.observe(home, hub_id=hub_id, at=now)
        words: dict[str, dict[AlertKind, str]] = {h: {} for h in self.homes}
        for f in self.detector.assess(now, self.homes, self.contexts):
            if f.kind in WELFARE:
                words[f.household_id][f.kind] = f.explanation
        risen = {}
        for household_id, said in words.items():
            risen[household_id] = (set(said) - self.active[household_id], said)
            self.active[household_id] = set(said)
        return risen


def replay(make: DetectorFactory, recording: Recording, *, learning_days: float,
           injections: list[float], tick_s: float = 300.0, horizon_h: float = 24.0) -> HomeResult:
    """Replay the untouched stream for false alerts; inject a cut at each moment for delays."""
    detector = make(recording)
    return _replay(detector, recording, {recording.home_id: detector.name},
                   learning_days=learning_days, injections=injections, tick_s=tick_s,
                   horizon_h=horizon_h)[0]


def replay_budgets(make: DetectorFactory, recording: Recording, budgets: dict[str, float], *,
                   learning_days: float, injections: list[float], tick_s: float = 300.0,
                   horizon_h: float = 24.0) -> list[HomeResult]:
    """`replay` of the learned detector at several alert budgets in one pass: one copy of the
    home per budget (`LearnedDetector.set_budget`), each copy's result named by its key in
    `budgets`. The copies share nothing a limit is calibrated on (`make` must give a
    `LearnedDetector` whose population is fixed), so each result is the one `replay` gives at
    that budget, for about the cost of one: the tick of a small table is mostly numpy's
    overhead per call."""
    detector = make(recording)
    if not isinstance(detector, LearnedDetector) or not detector.population_fixed:
        raise ValueError("replay_budgets needs a LearnedDetector with a fixed population")
    copies = {f"{recording.home_id}@{name}": name for name in budgets}
    for household_id, name in copies.items():
        detector.set_budget(household_id, budgets[name])
    return _replay(detector, recording, copies, learning_days=learning_days,
                   injections=injections, tick_s=tick_s, horizon_h=horizon_h)


def _replay(detector: Detector, recording: Recording, copies: dict[str, str], *,
            learning_days: float, injections: list[float], tick_s: float,
            horizon_h: float) -> list[HomeResult]:
    """Each copy (household id → the name of its detector) of `recording` in `detector`."""
    run = _Run.of(detector, recording, list(copies))
    learn_until = recording.start + learning_days * 86400.0
    months = max(recording.end - learn_until, 0.0) / 86400.0 / 30.44
    results = {h: HomeResult(recording.home_id, name, months) for h, name in copies.items()}
    pending = list(injections)
    k = 0
    now = math.floor(recording.start / tick_s) * tick_s
    while now <= recording.end + tick_s:
        while pending and pending[0] <= now:
            moment = pending.pop(0)
            k = _feed(run, recording, k, moment)
            _inject(run, moment, now, tick_s, horizon_h, results)
        k = _feed(run, recording, k, now)
        risen = run.tick(now)
        if now >= learn_until:
            label = recording.label_at(now)
            for household_id, (rose, words) in risen.items():
                results[household_id].false_alerts += [
                    FalseAlert(now, kind.value, label, words[kind]) for kind in sorted(rose)]
        now += tick_s
    return list(results.values())


def _feed(run: _Run, recording: Recording, k: int, until: float) -> int:
    """Give the detector every sign up to `until`, each copy in turn; the index of the next."""
    while k < len(recording.ts) and recording.ts[k] <= until:
        ts, kind = float(recording.ts[k]), recording.kinds[k]
        for household_id, home in run.homes.items():
            sign = SignOfLife(household_id, ts, kind, kind.value)
            home.note_sign(sign)
            run.detector.learn_one(sign)
        k += 1
    return k


def _inject(run: _Run, moment: float, now: float, tick_s: float, horizon_h: float,
            results: dict[str, HomeResult]) -> None:
    """Cut every sign after `moment` (all signs up to it are fed) and tick on from `now`
    until every copy has alerted or the horizon passes."""
    cut = copy.deepcopy(run)
    waiting = set(run.homes)
    at = now
    while waiting and at - moment <= horizon_h * 3600.0:
        for household_id, (_, words) in cut.tick(at).items():
            if words and household_id in waiting:
                if at == now and run.active[household_id]:
                    results[household_id].already_alerting += 1
                results[household_id].delays_h.append((at - moment) / 3600.0)
                waiting.discard(household_id)
        at += tick_s
    for household_id in waiting:
        results[household_id].delays_h.append(math.inf)
