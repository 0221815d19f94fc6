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
    doors: tuple[bool, bool] = (True, True)
    """Whether the door is used at the start and at the end of an outing (a trip of several
    days leaves on its first day and comes back on its last, not at every midnight)."""


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
    # the space of routines (simulator/routines.py); the defaults are the classic elder
    kind: str = "classic"
    wake_sd: float = 0.35
    sleep_sd: float = 0.4
    nap_h: tuple[float, float] = (0.7, 1.5)
    outing_h: tuple[float, float] = (0.8, 2.5)
    afternoon_outing_h: tuple[float, float] = (0.5, 1.5)
    taps_per_day: float = 3.0
    meal_hours: tuple[float, ...] = (-1.0, 11.6, 17.7)
    """Clock hours of meals cooked; -1 is breakfast, half an hour after getting up."""
    morning_routine: bool = True
    tv: bool = True
    weekend_shift_h: float = 0.0
    weekend_outing_prob: float = 0.0
    irregular_outings: float = 0.0
    """Outings a day at any waking hour, instead of the morning and afternoon habits."""
    trip_every_days: float = 0.0
    trip_days: tuple[int, int] = (2, 4)
    trip_seed: int = 0
    sensors: tuple[str, ...] = ("water", "electricity", "gas", "door")
    motion_per_h: float = 0.0
    """Movements an hour a motion sensor sees while the elder is up at home (a third as many
    while she watches TV), besides one as she goes to each use: for a home whose `sensors`
    include "motion" (`movements`)."""

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


TRIP_LEAVE_H = (9.0, 11.0)
TRIP_BACK_H = (14.0, 18.0)


def trip_today(profile: Profile, day: datetime) -> tuple[float, float] | None:
    """The hours of today spent on a trip of several days (0 and 24 in its middle days), if any.

    Trips are drawn per home from `trip_seed` and the day alone, so every day agrees on them."""
    if profile.trip_every_days <= 0:
        return None
    ordinal = day.toordinal()
    for back in range(profile.trip_days[1] + 1):
        rng = np.random.default_rng([profile.trip_seed, ordinal - back])
        if rng.random() >= 1.0 / profile.trip_every_days:
            continue
        length = int(rng.integers(profile.trip_days[0], profile.trip_days[1] + 1))
        if back < length:
            leave = float(rng.uniform(*TRIP_LEAVE_H)) if back == 0 else 0.0
            back_h = float(rng.uniform(*TRIP_BACK_H)) if back == length - 1 else 24.0
            return leave, back_h
    return None


def _outings(profile: Profile, rng: np.random.Generator, wake: float, sleep: float,
             weekday: int) -> list[tuple[float, float]]:
    """(leave, back) in hours: the morning and afternoon habits, or outings at any time."""
    spans = []
    if profile.irregular_outings > 0:
        for _ in range(int(rng.poisson(profile.irregular_outings))):
            leave = float(rng.uniform(wake + 0.5, max(wake + 1.0, sleep - 2.5)))
            spans.append((leave, leave + float(rng.uniform(*profile.outing_h))))
    else:
        if rng.random() < profile.outing_prob:
            leave = rng.uniform(wake + 1.2, max(10.5, wake + 1.3))
            spans.append((leave, leave + rng.uniform(*profile.outing_h)))
        if rng.random() < profile.afternoon_outing_prob:
            leave = rng.uniform(14.5, 16.5)
            spans.append((leave, leave + rng.uniform(*profile.afternoon_outing_h)))
    sunday = weekday == 6 and profile.weekend_outing_prob > 0
    if sunday and rng.random() < profile.weekend_outing_prob:  # a Sunday with the family
        spans.append((float(rng.uniform(9.0, 10.5)), float(rng.uniform(16.0, 18.5))))
    return [(float(a), float(b)) for a, b in spans]


def plan_day(profile: Profile, day: datetime, rng: np.random.Generator) -> list[Activity]:
    """The activities of one local calendar day (`day` is local midnight, tz-aware).

    Besides uses, the plan carries `out` (an outing, or `trip` for a trip of several days) and
    `asleep` spans (the night's sleep, split at midnight, and the afternoon nap): the ground
    truth an evaluation labels as sleep. Nothing is used while the elder is out or asleep,
    except the night-time toilet visits.
    """
    wake = profile.wake_h + rng.normal(0, profile.wake_sd)
    sleep = profile.sleep_h + rng.normal(0, profile.sleep_sd)
    if day.weekday() >= 5:
        wake += profile.weekend_shift_h
        sleep += profile.weekend_shift_h / 2
    plan: list[Activity] = []
    busy: list[tuple[float, float]] = []
    trip = trip_today(profile, day)
    if trip is not None:
        busy.append((_at(day, trip[0]), _at(day, trip[1])))
        plan.append(Activity(busy[0][0], busy[0][1], "trip", outing=True,
                             doors=(trip[0] > 0, trip[1] < 24)))
        if trip == (0.0, 24.0):
            return plan
    for leave, back in _outings(profile, rng, wake, sleep, day.weekday()):
        if _free(busy, _at(day, leave), _at(day, back)):
            busy.append((_at(day, leave), _at(day, back)))
            plan.append(Activity(busy[-1][0], busy[-1][1], "out", outing=True))
    _day_uses(profile, day, rng, wake, sleep, plan, busy)
    for start, end in ((0.0, wake), (sleep, 24.0)):
        if _free(busy, _at(day, start) + 1, _at(day, end) - 1):
            plan.append(Activity(_at(day, start), _at(day, end), "asleep"))
    return sorted(plan, key=lambda a: a.start)


def _day_uses(profile: Profile, day: datetime, rng: np.random.Generator, wake: float,
              sleep: float, plan: list[Activity], busy: list[tuple[float, float]]) -> None:
    """Add the day's uses of water, gas and power, and the nap, to `plan`."""

    def add(hour: float, minutes: float, label: str, *, water_lpm: float = 0.0,
            gas_m3h: float = 0.0, power_w: float = 0.0) -> None:
        start = _at(day, hour)
        end = start + max(1.0, minutes) * MINUTE
        if _free(busy, start, end):
            plan.append(Activity(start, end, label, water_lpm, gas_m3h, power_w))

    add(wake + 0.05, 1, "toilet", water_lpm=6.0)
    if profile.morning_routine:
        add(wake + 0.15, 3, "wash", water_lpm=1.5)
        add(wake + 0.3, 3, "kettle", power_w=1800.0)
    gas, electric = (0.35, 0.0) if profile.cooks_with_gas else (0.0, 1200.0)
    for meal_h, minutes in zip(profile.meal_hours, (10, 20, 25), strict=False):
        hour = (wake + 0.5 if meal_h < 0 else meal_h) + rng.normal(0, 0.25)
        add(hour, minutes * rng.uniform(0.7, 1.3), "cook", gas_m3h=gas, power_w=electric)
        add(hour + minutes / 60 + 0.3, 4, "dishes", water_lpm=2.5)
    nap_end = 13.0
    if profile.nap:
        nap_end = 12.9 + rng.uniform(*profile.nap_h)
        nap = (_at(day, 12.9), _at(day, nap_end))
        if _free(busy, *nap):
            busy.append(nap)
            plan.append(Activity(nap[0], nap[1], "asleep"))
    for hour in _toilet_visits(profile.flushes_per_day, wake + 0.5, sleep - 0.1, rng):
        add(hour, 1, "toilet", water_lpm=6.0)
    for hour in rng.uniform(0.5, max(0.6, wake - 0.5), size=rng.poisson(profile.night_toilet)):
        add(float(hour), 1, "toilet", water_lpm=6.0)
    for hour in rng.uniform(wake + 1, sleep - 1, size=rng.poisson(profile.taps_per_day)):
        add(float(hour), 1, "tap", water_lpm=2.0)
        add(float(hour) + 0.02, 2, "kettle", power_w=1800.0)
    if profile.tv:
        tv_start = max(nap_end + 0.2, sleep - profile.tv_h - rng.uniform(0, 1))
        add(tv_start, (sleep - tv_start - 0.2) * 60 * 0.5, "tv", power_w=110.0)
        add(19.0 + rng.uniform(0, 0.5), (sleep - 19.3) * 60, "tv", power_w=110.0)
    add(18.0, (sleep - 18.0) * 60, "lights", power_w=40.0)
    if rng.random() < 1.0 / profile.shower_every_days:
        add(sleep - 1.3 + rng.normal(0, 0.2), 10, "shower", water_lpm=7.0, power_w=2000.0)
    add(sleep - 0.1, 1, "toilet", water_lpm=6.0)


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


PIR_BLIND_S = 300.0
"""A motion sensor reports movement at most this often (the blind time after each report)."""


def movements(profile: Profile, plan: list[Activity], start: float, end: float,
              rng: np.random.Generator) -> list[float]:
    """When a motion sensor in the hall sees the elder, from `start` to `end` (a day's plan):
    as she goes to each use (the toilet at night too), as she leaves and comes home, and at
    `motion_per_h` while she is up at home with nothing to draw (a third of it during TV);
    never while she is out or asleep otherwise. At most one report per PIR_BLIND_S."""
    if profile.motion_per_h <= 0:
        return []
    idle = rng.uniform(start, end, size=rng.poisson(profile.motion_per_h * (end - start) / 3600.0))
    seated = rng.random(idle.size) >= 1.0 / 3.0

    def within(spans: list[tuple[float, float]]) -> np.ndarray:
        return np.array([any(a <= t < b for a, b in spans) for t in idle], dtype=bool)

    gone = within([(a.start, a.end) for a in plan if a.outing or a.label == "asleep"])
    tv = within([(a.start, a.end) for a in plan if a.label == "tv"])
    seen = idle[~gone & ~(tv & seated)].tolist()
    for a in plan:
        if a.outing:
            seen += [t for t, used in ((a.start - 30.0, a.doors[0]), (a.end + 30.0, a.doors[1]))
                     if used]
        elif a.label not in ("asleep", "tv", "lights"):
            seen.append(a.start)
    out: list[float] = []
    for t in sorted(t for t in seen if start <= t < end):
        if not out or t - out[-1] >= PIR_BLIND_S:
            out.append(t)
    return out


def local_midnight(ts: float, tz: ZoneInfo) -> datetime:
    moment = datetime.fromtimestamp(ts, tz)
    return datetime(moment.year, moment.month, moment.day, tzinfo=tz)
