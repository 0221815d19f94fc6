"""Running detectors over the simulated population, readings and all, with seeded incidents.

Each simulated hub's reports go through the same sign reader the live detector uses, then to
every detector under test; every detector is assessed on the same ticks. Findings that rise are
matched against the ground truth: an incapacitation is caught by the first welfare alert (no
activity, no water) during it; any other welfare alert is false; hub, water and gas alerts are
matched against the outages, taps and stoves of the schedule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from detector.base import Detector
from detector.context import Context
from detector.evaluation.incidents import Schedule, schedule
from detector.evaluation.recordings import Recording, Span, build
from detector.evaluation.replay import WELFARE, FalseAlert, HomeResult
from detector.signs import HomeState, SignReader
from shouwang.domain.alerts import AlertKind, Finding
from shouwang.domain.model import Household, Hub, StoredReading
from shouwang.settings import DetectorSettings
from simulator.home import Report, SimulatedHome
from simulator.incidents import Incident, IncidentKind
from simulator.population import SimHousehold, build_homes, population

SimFactory = Callable[[ZoneInfo], Detector]
START = datetime(2024, 3, 4)  # a Monday; local midnight in the scenario's time zone
RUNNING = {AlertKind.WATER_RUNNING: IncidentKind.TAP_RUNNING,
           AlertKind.GAS_RUNNING: IncidentKind.GAS_LEFT_ON}
HUB_INCIDENTS = (IncidentKind.HUB_POWER_LOSS, IncidentKind.NETWORK_OUTAGE)


@dataclass(frozen=True, slots=True)
class Scenario:
    homes: int = 40
    days: int = 56
    learning_days: int = 14
    seed: int = 1
    tick_s: float = 300.0
    timezone: str = "Asia/Shanghai"
    routines: str = "varied"
    """"varied": the kinds of `simulator.routines` in turn; "classic": one kind of elder."""


@dataclass
class SimOutcome:
    """Per detector: results per home, and figures for hubs, flows and notes."""

    homes: dict[str, list[HomeResult]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    """Each home's kind of routine."""
    extra: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class _Watch:
    """One detector under test and the findings it had at the last tick."""

    detector: Detector
    active: set[tuple[str, AlertKind]] = field(default_factory=set)
    rose: list[tuple[float, Finding]] = field(default_factory=list)
    fell: list[tuple[float, tuple[str, AlertKind]]] = field(default_factory=list)

    def tick(self, now: float, homes: dict[str, HomeState], contexts: dict[str, Context]) -> None:
        findings = self.detector.assess(now, homes, contexts)
        current = {(f.household_id, f.kind): f for f in findings}
        self.rose += [(now, f) for key, f in current.items() if key not in self.active]
        self.fell += [(now, key) for key in self.active if key not in current]
        self.active = set(current)

    def alerting_at(self, household_id: str, at: float) -> bool:
        """Whether a welfare alert about the household was open at `at`."""
        for kind in WELFARE:
            key = (household_id, kind)
            rises = [t for t, f in self.rose if (f.household_id, f.kind) == key and t <= at]
            falls = [t for t, k in self.fell if k == key and t <= at]
            if rises and (not falls or max(rises) > max(falls)):
                return True
        return False


def _contexts(households: list[SimHousehold], incidents: list[Incident], start: float,
              now: float) -> dict[str, Context]:
    away = {i.home_id: i.end for i in incidents
            if i.kind is IncidentKind.AWAY and i.start <= now and i.end is not None}
    return {
        h.home_id: Context(Household(h.home_id, h.tier, h.grid_id, alias=h.alias,
                                     address=h.address, building=h.building,
                                     away_until=away.get(h.home_id), monitoring_since=start),
                           (Hub(h.hub_id, h.home_id),), start)
        for h in households
    }


def run(scenario: Scenario, factories: dict[str, SimFactory],
        settings: DetectorSettings) -> SimOutcome:
    """Simulate, detect and score (see the module docstring)."""
    tz = ZoneInfo(scenario.timezone)
    start = START.replace(tzinfo=tz).timestamp()
    households = population(scenario.homes, seed=scenario.seed, routines=scenario.routines)
    plain = build_homes(households, start=start, tz=tz, incidents=[])
    plan = schedule(households, plain, seed=scenario.seed, start=start,
                    learning_days=scenario.learning_days, days=scenario.days)
    homes = build_homes(households, start=start, tz=tz, incidents=plan.incidents)
    reader = SignReader(standby_w=settings.standby_w, switch_step_w=settings.switch_step_w,
                        min_flow_m3_per_h=settings.min_flow_m3_per_h, tz=tz)
    states = {h.home_id: HomeState(h.home_id) for h in homes}
    watches = {name: _Watch(make(tz)) for name, make in factories.items()}
    trips = sorted({t for i in plan.incidents if i.kind is IncidentKind.AWAY
                    for t in (i.start, i.end or i.start)})
    contexts = _contexts(households, plan.incidents, start, start)
    now, end = start, start + scenario.days * 86400.0
    while now < end:
        now += scenario.tick_s
        if trips and trips[0] <= now:
            while trips and trips[0] <= now:
                trips.pop(0)
            contexts = _contexts(households, plan.incidents, start, now)
        for home in homes:
            _deliver(home, now, reader, states[home.home_id], watches)
        for watch in watches.values():
            watch.tick(now, states, contexts)
    outcome = SimOutcome(kinds={h.home_id: h.kind for h in households})
    for name, watch in watches.items():
        outcome.homes[name], outcome.extra[name] = _score(
            watch, homes, plan, start + scenario.learning_days * 86400.0, end)
    return outcome


def _deliver(home: SimulatedHome, now: float, reader: SignReader, state: HomeState,
             watches: dict[str, _Watch]) -> None:
    for report in home.advance(now):
        if report.sensor == "status":
            continue
        signs = reader.read(state, _stored(home, report))
        for watch in watches.values():
            for sign in signs:
                watch.detector.learn_one(sign)
            watch.detector.observe(state, hub_id=home.hub_id, at=now)


def _stored(home: SimulatedHome, report: Report) -> StoredReading:
    """A hub's report as the gateway stores it."""
    power = report.payload.get("power_w")
    return StoredReading(home.home_id, home.hub_id, report.sensor, report.ts,
                         float(report.payload["value"]),  # type: ignore[arg-type]
                         float(power) if power is not None else None,  # type: ignore[arg-type]
                         None)


def _score(watch: _Watch, homes: list[SimulatedHome], plan: Schedule, first: float,
           end: float) -> tuple[list[HomeResult], dict[str, float]]:
    by_home = {h.home_id: [i for i in plan.incidents if i.home_id == h.home_id] for h in homes}
    results = []
    for home in homes:
        incidents = by_home[home.home_id]
        down = [i for i in incidents if i.kind is IncidentKind.INCAPACITATION]
        rose = [(at, f) for at, f in watch.rose if f.household_id == home.home_id]
        lost_s = sum((i.end or end) - i.start for i in down)
        result = HomeResult(home.home_id, watch.detector.name,
                            max(end - first - lost_s, 0.0) / 86400.0 / 30.44)
        for incident in down:
            if watch.alerting_at(home.home_id, incident.start):
                result.already_alerting += 1  # an alert was open when she fell: staff are coming
                result.delays_h.append(0.0)
                continue
            caught = [at for at, f in rose if f.kind in WELFARE
                      and incident.start <= at <= (incident.end or end)]
            result.delays_h.append((min(caught) - incident.start) / 3600.0 if caught else math.inf)
        for at, f in rose:
            if f.kind in WELFARE and at >= first and not _about(down, at, f.since):
                label = ("sleep" if _asleep(home, at) else "away" if home.on_trip(at)
                         else "out" if home.is_out(at) else None)
                result.false_alerts.append(FalseAlert(at, f.kind.value, label, f.explanation,
                                                      f.details.get("limit", f.kind.value)))
        results.append(result)
    return results, _extras(watch, by_home, plan, first, end)


def by_kind(outcome: SimOutcome) -> dict[str, list[HomeResult]]:
    """Per detector, one pooled result per kind of routine (so a weak spot shows by name)."""
    pooled: dict[str, list[HomeResult]] = {}
    for name, results in outcome.homes.items():
        groups: dict[str, HomeResult] = {}
        for r in results:
            kind = outcome.kinds.get(r.home_id, "classic")
            g = groups.setdefault(kind, HomeResult(kind, r.detector, 0.0))
            g.household_months += r.household_months
            g.delays_h += r.delays_h
            g.already_alerting += r.already_alerting
            g.false_alerts += r.false_alerts
        pooled[name] = list(groups.values())
    return pooled


def _about(incidents: list[Incident], at: float, since: float) -> bool:
    """Whether an alert raised at `at` about a silence since `since` is about one of these:
    the silence began before the incident ended, and the alert came after it began."""
    return any(i.start <= at and since <= (i.end or math.inf) for i in incidents)


def _during(incidents: list[Incident], at: float, *, slack_s: float = 0.0) -> bool:
    return any(i.start <= at <= (i.end or math.inf) + slack_s for i in incidents)


def _asleep(home: SimulatedHome, at: float) -> bool:
    return any(a <= at < b for a, b in home.plan_at(at)[1])


def _extras(watch: _Watch, by_home: dict[str, list[Incident]], plan: Schedule, first: float,
            end: float) -> dict[str, float]:
    """Flows caught and how fast, hub outages caught, alerts during outages, notes."""
    out: dict[str, float] = {}
    for alert, kind in RUNNING.items():
        delays, false = [], 0
        for at, f in watch.rose:
            if f.kind is not alert:
                continue
            if not _during([i for i in by_home[f.household_id] if i.kind is kind], at):
                false += at >= first
        for incidents in by_home.values():
            for i in (i for i in incidents if i.kind is kind):
                hits = [at for at, f in watch.rose
                        if f.kind is alert and f.household_id == i.home_id
                        and i.start <= at <= (i.end or end)]
                delays.append((min(hits) - i.start) / 60.0 if hits else math.inf)
        name = "tap" if kind is IncidentKind.TAP_RUNNING else "gas"
        out[f"{name}_incidents"] = len(delays)
        out[f"{name}_caught"] = sum(math.isfinite(d) for d in delays)
        out[f"{name}_median_delay_min"] = _median(delays)
        out[f"{name}_false_alerts"] = false
    outages = [i for v in by_home.values() for i in v if i.kind in HUB_INCIDENTS]
    hub_rose = [(at, f) for at, f in watch.rose if f.kind is AlertKind.HUB_OFFLINE]
    out["hub_outages"] = len(outages)
    out["hub_outages_caught"] = sum(
        any(f.household_id == i.home_id or i.home_id in f.details.get("households", ())
            for at, f in hub_rose if i.start <= at <= (i.end or end) + 3600) for i in outages)
    out["welfare_alerts_during_outages"] = sum(
        1 for at, f in watch.rose if f.kind in WELFARE
        and _during([i for i in by_home[f.household_id] if i.kind in HUB_INCIDENTS], at,
                    slack_s=3600.0))
    if plan.building_cut is not None:
        _, cut_start, cut_end = plan.building_cut
        cut = {i.home_id for v in by_home.values() for i in v
               if i.kind is IncidentKind.HUB_POWER_LOSS and i.start == cut_start}
        out["building_cut_alerts"] = sum(1 for at, f in hub_rose
                                         if cut_start <= at <= cut_end and f.household_id in cut)
    out["unusual_day_notes"] = sum(1 for at, f in watch.rose if f.kind is AlertKind.UNUSUAL_DAY)
    return out


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def as_recordings(scenario: Scenario, settings: DetectorSettings) -> list[Recording]:
    """The simulated population without incidents, as recordings: every sign of life the live
    sign reader makes of the hubs' reports, with the routine's outings and trips labelled
    `away` and its nights `sleep` (ground truth). Written as events and labels CSVs
    (`benchmarks.events_export`), it is a set judged as `shouwang evaluate --events` judges any
    recording: events only (no power), seven learning days, cuts injected at random moments."""
    tz = ZoneInfo(scenario.timezone)
    start = START.replace(tzinfo=tz).timestamp()
    households = population(scenario.homes, seed=scenario.seed, routines=scenario.routines)
    homes = build_homes(households, start=start, tz=tz, incidents=[])
    reader = SignReader(standby_w=settings.standby_w, switch_step_w=settings.switch_step_w,
                        min_flow_m3_per_h=settings.min_flow_m3_per_h, tz=tz)
    end = start + scenario.days * 86400.0
    recordings = []
    for home in homes:
        state = HomeState(home.home_id)
        events: list[tuple[float, str]] = []
        for report in home.advance(end):
            if report.sensor != "status":
                events += [(sign.ts, sign.kind.value)
                           for sign in reader.read(state, _stored(home, report))]
        recordings.append(build(home.home_id, tz, events, _truth(home, start, end), "simulated"))
    return recordings


def _truth(home: SimulatedHome, start: float, end: float) -> list[Span]:
    """The routine's outings (trips included) as `away` and its nights as `sleep`."""
    spans: set[tuple[float, float, str]] = set()
    for day in range(int((end - start) // 86400.0) + 1):
        outings, asleep = home.plan_at(start + (day + 0.5) * 86400.0)
        spans |= {(a, b, "away") for a, b in outings} | {(a, b, "sleep") for a, b in asleep}
    return [Span(a, min(b, end), label) for a, b, label in sorted(spans) if a < end]
