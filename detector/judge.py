"""Judging every household's silence at once: numpy over the household table, no Python loop.

A silence starts at the last sign of life (or when we began to listen), and never before the end
of an announced absence or of a time we could not hear the home. Then, by what it is:

- at home in the day: alerts when the expected uses missed, Λ, reach the household's threshold
  for silences starting in that part of the day (by default: before or after 13:00);
- at home in a dense home, starting between its usual getting-up and its usual bedtime (the
  evening's night window included): also when its part before that bedtime outlasts the quiet
  limit of the hour it began (`detector.density`);
- at home, starting in the day before the household's early bedtime limit: also alerts when it
  still runs at its late bedtime limit, the evening's last sign missed (`detector.limits`);
- at home, starting in the evening before its usual bedtime with the lights left on (power
  above its night's since): also alerts at that late bedtime limit (`detector.lights`);
- through the night (started in the night window, or still running at 04:00): alerts when the
  household is later up than its wake limit (`detector.nights`);
- after a door with nothing since ("probably out"): alerts when it outlasts the household's
  usual outings (`detector.limits.outing_ceiling_s`: up to a day where motion sensors would see
  the elder come back in, the fixed ceiling elsewhere);

never before the absolute floor, and always at the safety limit: for a silence that began in
the household's night window, its own (longer than its longest silences at home by a margin,
within the community's bounds; `detector.limits`), for an outing its own limit, for any other the
fixed ceiling (12 hours). A silence
that has alerted goes on alerting until it ends, whatever its kind becomes (a day silence that
runs into the night). Homes marked away, blind (every hub silent or its devices
unreachable) or retired are not judged; those with some devices unreachable, only at the ceiling.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from detector import density, lights, limits, nights
from detector.localtime import local_hour, local_hours
from detector.table import HouseholdTable

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.intp]


class Why(enum.IntEnum):
    DAY = 0
    NIGHT = 1
    OUT = 2
    CEILING = 3
    EVENING = 4
    LIGHTS = 5


LIMITS = {Why.DAY: "day_rhythm", Why.NIGHT: "wake_limit", Why.OUT: "outing_limit",
          Why.CEILING: "safety_limit", Why.EVENING: "bedtime_limit",
          Why.LIGHTS: "lights_on"}
"""Which limit fired, as `Finding.details["limit"]` says it."""


@dataclass(frozen=True)
class Silences:
    """The households whose silence alerts now, with what the explanation needs."""

    rows: Rows
    start: Floats
    elapsed_s: Floats
    expected: Floats
    threshold: Floats
    why: npt.NDArray[np.int8]
    limit_s: Floats
    """The safety limit that applied (seconds)."""


def silence_start(t: HouseholdTable, now: float) -> Floats:
    """When each household's current silence began (see the module docstring)."""
    n = len(t)
    last = t.view("last_sign")
    fallback = np.fmax(t.view("watching_since"), t.view("first_heard"))
    start = np.where(np.isnan(last), fallback, last)
    start = np.fmax(start, t.view("resumed_at"))
    start = np.fmax(start, t.checked[:n, 0])  # staff closed an alert then: they checked
    away = t.view("away_until")
    ended = np.where(away <= now, away, np.nan)
    start = np.fmax(start, ended)
    return np.where(np.isnan(start), now, start)[:n]


def inactive(t: HouseholdTable, now: float, *, judged: Bools, tz: ZoneInfo, floor_s: float,
             ceiling_s: float, parts_from_h: list[float], ceiling_only: Bools | None = None,
             lit_w: float = 0.0, max_outing_s: float = 0.0, min_motion: float = math.inf) -> Silences:
    """Households whose silence alerts now among those `judged` (see module docstring). Those
    `ceiling_only` (some of their devices cannot be reached, so their rhythm counts signs that
    cannot come) alert only at the fixed ceiling."""
    start = silence_start(t, now)
    elapsed = now - start
    rows = np.flatnonzero(judged & (elapsed >= floor_s))
    if not rows.size:  # (the usual tick of a small community: every silence under the floor)
        none = np.zeros(0)
        return Silences(rows, none, none, none, none, np.zeros(0, dtype=np.int8), none)
    s = start[rows]
    start_h = local_hours(s, tz)
    now_h = np.full(rows.size, local_hour(now, tz))
    expected = t.expected(rows, start_h, now_h)
    out = t.out[rows] & ~np.isnan(t.last_sign[rows])
    up = nights.already_up(start_h, t.day[rows], t.day_sleep[rows, 1])
    bedtime = ~out & nights.in_night_window(start_h, t.bed_h[rows], t.wake_h[rows]) & ~up
    night = bedtime | (~out & nights.crosses_mark(start_h, now_h))
    clock = np.mod(start_h, 24.0)
    bucket = sum((clock >= h).astype(np.intp) for h in parts_from_h) + np.zeros(rows.size, np.intp)
    theta = t.threshold[rows, bucket].astype(np.float64)
    gone = elapsed[rows]
    why = np.full(rows.size, -1, dtype=np.int8)
    # a dense home's quiet limits judge its silences up to its usual bedtime, the evening's too
    why[~out & ((~night & (expected >= theta)) | density.overdue(t, rows, start_h, now_h))] = Why.DAY
    evening = ~out & ~night & nights.before_bedtime(start_h, t.bed_early_h[rows],
                                                     t.wake_h[rows])
    bed_deadline = nights.wake_deadline(start_h, t.bed_late_h[rows].astype(np.float64))
    why[(why < 0) & evening & (now_h >= bed_deadline)] = Why.EVENING
    # the evening's lights never switched off (`detector.lights`): the night window's too
    why[(why < 0) & ~out & lights.left_on(t, rows, start_h, now_h, elapsed[rows], lit_w=lit_w)] = Why.LIGHTS
    deadline = nights.wake_deadline(start_h, t.wake_limit_h[rows].astype(np.float64))
    why[night & (now_h >= deadline)] = Why.NIGHT
    why[out & (gone >= t.outing_h[rows].astype(np.float64) * 3600.0)] = Why.OUT
    # a silence that began at the household's bedtime is held to its own nights; one that began
    # in its day (an evening fall, say), however long it runs, to the community's ceiling
    limit = np.where(bedtime, safety_limit_s(t, rows, ceiling_s), ceiling_s)
    outings = np.flatnonzero(out)  # (few: the outing's own ceiling reads a week of the ring's days)
    if outings.size:
        limit[outings] = limits.outing_ceiling_s(t, rows[outings], max_outing_s=max_outing_s,
                                                 ceiling_s=ceiling_s, min_motion=min_motion)
    if ceiling_only is not None:
        limit = np.where(ceiling_only[rows], ceiling_s, limit)
        why[ceiling_only[rows]] = -1
    why[(gone >= limit) & (why != Why.OUT)] = Why.CEILING  # an outing's limit is never past its ceiling
    held = (t.alert_since[rows] == s) & (why < 0)
    why[held] = t.alert_why[rows][held]
    alert = why >= 0
    return Silences(rows[alert], s[alert], gone[alert], expected[alert], theta[alert],
                    why[alert], limit[alert])


def safety_limit_s(t: HouseholdTable, rows: Rows, ceiling_s: float) -> Floats:
    """The household's safety limit on any silence (seconds): longer than its nights by a
    margin (`detector.limits`); the fixed ceiling where none is known (an old snapshot)."""
    limit = t.quiet_limit_h[rows].astype(np.float64) * 3600.0
    return np.where(np.isfinite(limit), limit, ceiling_s)


def water_silent(t: HouseholdTable, now: float, *, judged: Bools, after_s: float,
                 other_life_s: float, tz: ZoneInfo) -> tuple[Rows, Floats]:
    """Households at home with no water for `after_s` of their waking time at home, although
    other signs went on `other_life_s` after it, and the hours of that silence asleep.

    Time out (from a departure to the return) and the household's usual night (from its
    bedtime to its getting-up) are not counted: nobody draws water out or asleep. While the
    elder is probably out, the inactivity judgement (her outings) speaks instead."""
    last_water = t.view("last_water")
    start = np.fmax(np.fmax(last_water, t.view("resumed_at")), t.checked[:len(t), 1])
    away = t.view("away_until")
    start = np.fmax(start, np.where(away <= now, away, np.nan))
    last = t.view("last_sign")
    # time out of the home is not time at home without water (counted only from the last water)
    out_s = np.where(start == last_water, t.view("out_since_water_s"), 0.0)
    with np.errstate(invalid="ignore"):
        maybe = (now - start - out_s >= after_s) & (last - start >= other_life_s)
    rows = np.flatnonzero(judged & maybe & ~t.view("out") & ~np.isnan(last_water))
    if not rows.size:
        return rows, np.zeros(0)
    asleep_s = 3600.0 * nights.asleep_hours(
        local_hours(start[rows], tz), np.full(rows.size, local_hour(now, tz)),
        t.bed_h[rows].astype(np.float64), t.wake_h[rows].astype(np.float64))
    awake = now - start[rows] - out_s[rows] - np.nan_to_num(asleep_s) >= after_s
    return rows[awake], asleep_s[awake]
