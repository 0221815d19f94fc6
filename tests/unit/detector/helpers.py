"""Small worlds for detector tests: simulated homes' readings, and hand-made rhythms."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from detector.base import Detector
from detector.context import Context
from detector.signs import HomeState, SignKind, SignOfLife, SignReader
from shouwang.domain.alerts import AlertKind, Finding
from shouwang.domain.model import Household, Hub, StoredReading, Tier
from shouwang.settings import DetectorSettings
from simulator.incidents import Incident
from simulator.population import SimHousehold, build_homes, population

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 3, 4, tzinfo=TZ).timestamp()  # a Monday, local midnight
DAY = 86400.0
Event = tuple[float, StoredReading]


def at(day: int, hour: float) -> float:
    """UNIX time of local `hour` on day `day` after START."""
    return START + day * DAY + hour * 3600.0


@lru_cache(maxsize=8)
def simulated(homes: int, days: int, seed: int,
              incidents: tuple[Incident, ...] = ()) -> tuple[list[SimHousehold], list[Event]]:
    """Every reading of a small simulated population, with the minute it arrived."""
    households = population(homes, seed=seed)
    sims = build_homes(households, start=START, tz=TZ, incidents=list(incidents))
    events: list[Event] = []
    for now in np.arange(START + 600.0, START + days * DAY + 1, 600.0):
        for home in sims:
            for report in home.advance(float(now)):
                if report.sensor == "status":
                    continue
                power = report.payload.get("power_w")
                events.append((float(now), StoredReading(
                    home.home_id, home.hub_id, report.sensor, report.ts,
                    float(report.payload["value"]),  # type: ignore[arg-type]
                    float(power) if power is not None else None)))  # type: ignore[arg-type]
    return households, events


def contexts_of(households: list[SimHousehold]) -> dict[str, Context]:
    return {h.home_id: Context(Household(h.home_id, h.tier, h.grid_id, building=h.building,
                                         monitoring_since=START),
                               (Hub(h.hub_id, h.home_id),), START)
            for h in households}


def replay(detector: Detector, households: list[SimHousehold], events: list[Event], *,
           until: float, judge_from: float, tick_s: float = 600.0) -> list[tuple[float, Finding]]:
    """Feed readings through the sign reader; assess every tick from `judge_from`."""
    settings = DetectorSettings()
    reader = SignReader(standby_w=settings.standby_w, switch_step_w=settings.switch_step_w,
                        min_flow_m3_per_h=settings.min_flow_m3_per_h, tz=TZ)
    homes = {h.home_id: HomeState(h.home_id) for h in households}
    contexts = contexts_of(households)
    found: list[tuple[float, Finding]] = []
    k = 0
    for now in np.arange(START + tick_s, until + 1, tick_s):
        while k < len(events) and events[k][0] <= now:
            arrived, reading = events[k]
            for sign in reader.read(homes[reading.household_id], reading):
                detector.learn_one(sign)
            detector.observe(homes[reading.household_id], hub_id=reading.hub_id, at=arrived)
            k += 1
        if now >= judge_from:
            found += [(float(now), f) for f in detector.assess(float(now), homes, contexts)]
    return found


def household(household_id: str = "h-1", *, tier: Tier = Tier.YELLOW, building: str | None = None,
              away_until: float | None = None) -> Context:
    return Context(Household(household_id, tier, "g-01", alias=household_id,
                             address=f"{household_id} road", building=building,
                             away_until=away_until, monitoring_since=START),
                   (Hub(f"hub-{household_id}", household_id),), START)


def routine(household_id: str, days: int, seed: int) -> Iterator[SignOfLife]:
    """A regular elder: up about 06:30, busy in the morning, steady in the day, bed about 21:30."""
    rng = np.random.default_rng(seed)
    for day in range(days):
        wake = 6.5 + rng.normal(0, 0.2)
        times = [wake + m for m in (0.0, 0.1, 0.3, 0.6)]
        times += list(rng.uniform(wake + 1, 21.3, size=rng.poisson(20)))
        times += [21.4 + rng.normal(0, 0.1)]
        for hour in sorted(times):
            kind = SignKind.WATER if rng.random() < 0.6 else SignKind.ELECTRICITY
            yield SignOfLife(household_id, at(day, float(hour)), kind, kind.value)


def welfare(detector: Detector, day: int, hours: list[float]) -> list[tuple[float, Finding]]:
    """Household h-1 judged at each of `hours` of `day` with no new sign: the inactivity and
    no-water findings, with the hour each was raised at."""
    ctx = household()
    found = []
    for hour in hours:
        detector.observe(HomeState("h-1"), hub_id=ctx.hubs[0].id, at=at(day, hour))
        found += [(hour, f) for f in detector.assess(at(day, hour), {}, {"h-1": ctx})
                  if f.kind in (AlertKind.INACTIVITY, AlertKind.NO_WATER)]
    return found
