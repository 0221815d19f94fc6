"""An elder's day, as pure data: when water runs, the stove burns, appliances hum, doors open.

Each profile is drawn from a seed, and each day from the profile and a seeded generator, so a
population is repeatable. Times are local; activities carry UNIX seconds. Toilet visits during
the day are roughly periodic (see `_toilet_visits`); taps, kettles and outings are scattered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Activity:
    """Something the elder does from `start` to `end` (UNIX seconds)."""

    start: float
    end: float
    label: str
    water_lpm: float = 0.0
    gas_m3h: float = 0.0
    power_w: float = 0.0
    outing: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    wake_h: float
    sleep_h: float
    flushes_per_day: float
    night_toilet: float
    outing_prob: float
    afternoon_outing_prob: float
    tv_h: float
    cooks_with_gas: bool
    shower_every_days: float
    nap: bool

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Profile:
        return cls(
            wake_h=float(rng.normal(6.3, 0.5)),
            sleep_h=float(rng.normal(21.6, 0.5)),
            flushes_per_day=float(rng.uniform(5, 9)),
            night_toilet=float(rng.uniform(0.5, 2.0)),
            outing_prob=float(rng.uniform(0.3, 0.8)),
            afternoon_outing_prob=float(rng.uniform(0.05, 0.35)),
            tv_h=float(rng.uniform(1.5, 4.5)),
            cooks_with_gas=bool(rng.random() < 0.8),
            shower_every_days=float(rng.uniform(1.5, 3.5)),
            nap=bool(rng.random() < 0.7),
        )


def _at(day: datetime, hour: float) -> float:
    return (day + timedelta(hours=hour)).timestamp()


def _free(busy: list[tuple[float, float]], start: float, end: float) -> bool:
    return all(end <= b0 or start >= b1 for b0, b1 in busy)


def plan_day(profile: Profile, day: datetime, rng: np.random.Generator) -> list[Activity]:
    """The activities of one local calendar day (`day` is local midnight, tz-aware).

    Besides uses, the plan carries `out` (an outing) and `asleep` spans (the night's sleep, split
    at midnight, and the afternoon nap): the ground truth an evaluation labels as sleep. Nothing
    is used while the elder is out or asleep, except the night-time toilet visits.
    """
    wake = profile.wake_h + rng.normal(0, 0.35)
    sleep = profile.sleep_h + rng.normal(0, 0.4)
    plan: list[Activity] = []
    busy: list[tuple[float, float]] = []

    def add(hour: float, minutes: float, label: str, *, water_lpm: float = 0.0,
            gas_m3h: float = 0.0, power_w: float = 0.0) -> None:
        start = _at(day, hour)
        end = start + max(1.0, minutes) * MINUTE
        if _free(busy, start, end):
            plan.append(Activity(start, end, label, water_lpm, gas_m3h, power_w))

    if rng.random() < profile.outing_prob:
        leave = rng.uniform(wake + 1.2, 10.5)
        busy.append((_at(day, leave), _at(day, leave + rng.uniform(0.8, 2.5))))
    if rng.random() < profile.afternoon_outing_prob:
        leave = rng.uniform(14.5, 16.5)
        busy.append((_at(day, leave), _at(day, leave + rng.uniform(0.5, 1.5))))
    for start, end in busy:
        plan.append(Activity(start, end, "out", outing=True))

    add(wake + 0.05, 1, "toilet", water_lpm=6.0)
    add(wake + 0.15, 3, "wash", water_lpm=1.5)
    add(wake + 0.3, 3, "kettle", power_w=1800.0)
    gas, electric = (0.35, 0.0) if profile.cooks_with_gas else (0.0, 1200.0)
    for meal_h, minutes in ((wake + 0.5, 10), (11.6, 20), (17.7, 25)):
        hour = meal_h + rng.normal(0, 0.25)
        add(hour, minutes * rng.uniform(0.7, 1.3), "cook", gas_m3h=gas, power_w=electric)
        add(hour + minutes / 60 + 0.3, 4, "dishes", water_lpm=2.5)
    nap_end = 13.0
    if profile.nap:
        nap_end = 12.9 + rng.uniform(0.7, 1.5)
        nap = (_at(day, 12.9), _at(day, nap_end))
        if _free(busy, *nap):
            busy.append(nap)
            plan.append(Activity(nap[0], nap[1], "asleep"))
    for hour in _toilet_visits(profile.flushes_per_day, wake + 0.5, sleep - 0.1, rng):
        add(hour, 1, "toilet", water_lpm=6.0)
    for hour in rng.uniform(0.5, max(0.6, wake - 0.5), size=rng.poisson(profile.night_toilet)):
        add(float(hour), 1, "toilet", water_lpm=6.0)
    for hour in rng.uniform(wake + 1, sleep - 1, size=rng.poisson(3)):
        add(float(hour), 1, "tap", water_lpm=2.0)
        add(float(hour) + 0.02, 2, "kettle", power_w=1800.0)
    tv_start = max(nap_end + 0.2, sleep - profile.tv_h - rng.uniform(0, 1))
    add(tv_start, (sleep - tv_start - 0.2) * 60 * 0.5, "tv", power_w=110.0)
    add(19.0 + rng.uniform(0, 0.5), (sleep - 19.3) * 60, "tv", power_w=110.0)
    add(18.0, (sleep - 18.0) * 60, "lights", power_w=40.0)
    if rng.random() < 1.0 / profile.shower_every_days:
        add(sleep - 1.3 + rng.normal(0, 0.2), 10, "shower", water_lpm=7.0, power_w=2000.0)
    add(sleep - 0.1, 1, "toilet", water_lpm=6.0)
    plan.append(Activity(_at(day, 0.0), _at(day, wake), "asleep"))
    plan.append(Activity(_at(day, sleep), _at(day, 24.0), "asleep"))
    return sorted(plan, key=lambda a: a.start)


def _toilet_visits(per_day: float, first: float, last: float,
                  rng: np.random.Generator) -> list[float]:
    """Waking-hour toilet visits (hours): roughly periodic, not a Poisson process.

    A bladder empties every two to three hours, more regularly than events scattered at
    random: intervals are gamma-distributed with shape 4 (coefficient of variation 0.5) and a
    mean that spreads `per_day` visits over the day.
    """
    mean = (last - first) / max(per_day, 1.0)
    hours, hour = [], first + float(rng.uniform(0, mean))
    while hour < last:
        hours.append(hour)
        hour += float(rng.gamma(4.0, mean / 4.0))
    return hours


def local_midnight(ts: float, tz: ZoneInfo) -> datetime:
    moment = datetime.fromtimestamp(ts, tz)
    return datetime(moment.year, moment.month, moment.day, tzinfo=tz)
