"""Dense homes: where a person's movements give many signs an hour, silences are judged by hours.

The rhythm counts *episodes* (signs closer than five minutes are one use), so a home whose
motion sensors fire every few minutes all day shows about as many episodes an hour as a home
with a water meter, and its silences are judged no sooner. Yet in such a home a silence at home
says much more: a person moving about is seen within minutes, and the long quiet spells at home
are few and known (the afternoon on the sofa, a nap). On the recorded homes with motion sensors
the longest quiet spell at home in the day was under 2 hours on every one of 28 days (Kasteren
A) and under 4 hours on 21 (Ordóñez B), while the rhythm's thresholds took 3-7 hours to fire.

So a *dense* home (its median day gives at least `dense_motion_per_h` motion signs an hour
between its first and last sign; motion: the `motion` and `activity` kinds) also gets a **quiet
limit** for each hour of the day: the calibrated quantile (`detector.calibration`: an exponential
tail above the median, never below the longest seen) of each day's longest quiet spell at home
starting within an hour of it, fitted as outings are (on the days that had such a spell, the
budget scaled by how often they did), with the day silences' share of the false-alert budget
divided among `DAYTIME_HOURS`. Spells are counted in hours up to the household's usual bedtime
(an early night's evening included: to bed at 20:00, usually at 22:00, is a spell of 2 hours);
outings, the night's hours and silences past the safety limit are not counted. A silence at home
that began between the usual getting-up and the usual bedtime alerts at whichever comes first,
the rhythm's threshold (in the day) or the quiet limit of the hour it began, reached before the
usual bedtime: an evening silence too, though it began in the night window (from 1½ h before
bedtime), where the rhythm no longer judges it. A door followed by silence is not a silence at
home: it is "probably out", judged by the outing limit, as before. A home that is not dense,
or that has less than a week of history, has no quiet limit (NaN): nothing changes for it.

The tail is pooled over the community's dense homes (`pooled_tail`, in the population prior):
with the predictive tail (`calibration.predictive_tail_quantile`) three weeks of a household's
own spells extrapolate its tail's uncertain scale to limits of 4-11 hours, where its longest
spells seen were 1-2 (Kasteren A), so the quiet limits almost never fired first. The community
lends the shape of its tail (spells above each home's median, relative to it; at most
`POOLED_EXCESSES` of them an hour) as a conjugate prior (`calibration.pooled_tail_quantile`);
each household keeps its own median, hence its own scale. A household whose community has no
dense home with a week of history (a home alone, or the first with motion sensors) borrows a
built-in tail instead (`BUILT_IN_EXCESSES`, `BUILT_IN_RELATIVE`), as does one whose community
has fewer than `MIN_POOLED_HOMES` (its own spells would come back to it as the community's):
its own three weeks alone left a recorded home's evenings to the 12-hour ceiling.

Only a home that has shown at least `dense_motion_per_h` × MIN_WAKING_H motion signs in a day
keeps its quiet spells (`HouseholdTable.spells`, from that day on): any other cannot be dense,
and a city's homes are mostly without motion sensors, so they keep none of those 1.5 kB.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from detector import calibration as cal
from detector import nights
from detector.table import DAY_FEATURES, HouseholdTable, unpack_hours
from shouwang.settings import LearnedSettings

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.intp]

FIRST, LAST, MOTION = (DAY_FEATURES.index(f) for f in ("first_sign_h", "last_sign_h", "activity"))
MIN_WAKING_H = 4.0
"""A day whose first and last signs are closer than this tells nothing about density."""
WINDOW_H = 1
"""A limit for silences starting at hour h is calibrated on the spells starting within an hour
of it (a household does the same things at slightly different times each day)."""
DAYTIME_HOURS = 14
"""The day silences' budget is shared among this many hours a silence may start in."""
MIN_DAYS = 7
"""Days of history before a quiet limit: its tail needs them (with four days, a limit of 1.2 h
fired on Kasteren A's first Saturday morning). With the community's tail too: on exchangeable
days a pooled tail fitted on 3 days spends twice the budget, on 7 within it
(tests/unit/detector/test_pooled_tail.py)."""
POOLED_EXCESSES = 28.0
"""The community's tail weighs at most this many spells an hour (a household's own four weeks
give up to 28): it lends a shape, and a household with its own history keeps its say."""
POOLED_HOMES = 1000
"""Dense households pooled at most (once a day): more would not sharpen the prior."""
MIN_POOLED_HOMES = 3
"""Dense households with a week of history a community needs before it lends its tail (as the
population prior needs three households): the pool holds each home's own spells too, and a
community of one dense home would lend that home its own tail back, as if known for certain
(the plug-in tail, five times the budget at a week, §4). Fewer: the built-in tail."""
BUILT_IN_EXCESSES = 14.0
"""Where the community has no dense home to lend its tail (a home alone, or the first with
motion sensors), a built-in tail weighs this many spells an hour: half a community's."""
BUILT_IN_RELATIVE = 0.8
"""The built-in tail's mean excess over a home's median spell, relative to it: the recorded
dense homes' lie between 0.62 (Ordóñez A) and 1.04 (Kasteren A), 0.81 for Ordóñez B (spells
starting 08:00-22:00 above each hour's median). Without any, a home's own three weeks of spells
extrapolated its limits to 4-11 hours and, alone, a dense home's evenings waited for the
12-hour ceiling (docs/detector.md §12, "A dense home alone")."""


def motion_per_hour(t: HouseholdTable, i: int) -> float:
    """The household's median number of motion signs per hour of its day (0 when unknown)."""
    days = t.features(i, t.ring_day[i] >= 0)
    waking = days[:, LAST] - days[:, FIRST]
    usable = np.isfinite(waking) & (waking >= MIN_WAKING_H)
    if not usable.any():
        return 0.0
    return float(np.median(days[usable, MOTION] / waking[usable]))


def calibrate(t: HouseholdTable, i: int, s: LearnedSettings, p_day: float,
              prior: tuple[Floats, Floats] | None = None) -> None:
    """The household's quiet limits (hours, by the hour a silence starts), or NaN if it is not
    dense; `p_day` is the day silences' share of the budget (a probability per day); `prior`
    the community's pooled tail by hour (`pooled_tail`), which the predictive tail learns its
    scale from as well as from the household's own spells (the built-in one where the community
    has none)."""
    j = int(t.dense_row[i])
    if j < 0:
        return  # it never showed enough motion to be dense: it keeps no spells
    limits = t.spells.quiet_spell_limit_h[j]
    limits[:] = np.nan
    if prior is None or not np.any(prior[0] > 0):  # no dense home in the community lends one
        prior = (np.full(24, BUILT_IN_EXCESSES), np.full(24, BUILT_IN_EXCESSES * BUILT_IN_RELATIVE))
    fits = _fits(t, i, s, p_day)
    if fits is None:
        return
    for hour, (spells, p) in enumerate(fits):
        if s.tail == "predictive":
            limit = cal.pooled_tail_quantile(spells, p, prior_excesses=float(prior[0][hour]),
                                             prior_relative=float(prior[1][hour]))
        else:
            limit = cal.own_threshold(spells, p, method=s.tail)
        if math.isfinite(limit):
            limits[hour] = max(limit, s.min_silence_min / 60.0)


def _fits(t: HouseholdTable, i: int, s: LearnedSettings,
          p_day: float) -> list[tuple[Floats, float]] | None:
    """For each hour of the day, the spells its limit is fitted on and their probability; None
    when the household is not dense (or has less than a week of history)."""
    j = int(t.dense_row[i])
    valid = t.ring_day[i] >= 0
    if j < 0 or int(valid.sum()) < MIN_DAYS or motion_per_hour(t, i) < s.dense_motion_per_h:
        return None
    spells = np.nan_to_num(unpack_hours(t.spells.ring_spell_h[j][valid]))
    near = np.max([np.roll(spells, k, axis=1) for k in range(-WINDOW_H, WINDOW_H + 1)], axis=0)
    p_hour = p_day / DAYTIME_HOURS
    days = near.shape[0]
    fits = []
    for hour in range(24):
        seen = near[:, hour][near[:, hour] > 0]  # days with a spell then: as outings are fitted
        fits.append((seen, p_hour * days / seen.size) if seen.size >= cal.MIN_DAYS_TO_FIT
                    else (near[:, hour], p_hour))  # too few to fit: every day's maximum
    return fits


def pooled_tail(t: HouseholdTable, rows: Rows, s: LearnedSettings,
                p_day: float) -> tuple[Floats, Floats]:
    """The community's tail of quiet spells by hour: over the dense households among `rows`
    (at most `POOLED_HOMES` of them), how many of the spells each hour's limit is fitted on
    exceeded their household's median, and by how much in all relative to it
    (`calibration.relative_excesses`), scaled to weigh at most `POOLED_EXCESSES` spells an hour;
    none (zeros) from fewer than `MIN_POOLED_HOMES` dense households."""
    count, relative = np.zeros(24), np.zeros(24)
    pooled = 0
    for i in rows[t.dense_row[rows] >= 0]:  # a city's homes are mostly without motion sensors
        if pooled >= POOLED_HOMES:
            break
        fits = _fits(t, int(i), s, p_day)
        if fits is None:
            continue
        pooled += 1
        for hour, (spells, _) in enumerate(fits):
            m, excess = cal.relative_excesses(spells)
            count[hour] += m
            relative[hour] += excess
    if pooled < MIN_POOLED_HOMES:
        return np.zeros(24), np.zeros(24)  # too few to lend a tail: the built-in one
    weight = np.minimum(1.0, POOLED_EXCESSES / np.maximum(count, 1.0))
    return count * weight, relative * weight


def spell_hours(start_h: float, end_h: float, bed_h: float) -> float:
    """The hours of a quiet spell at home (local hours) before the household's usual bedtime
    next after its start (the quiet limit judges no further: from then on a household is
    quiet). An early night counts as a spell until then, so the limits of the evening's hours
    are calibrated on it."""
    if not math.isfinite(bed_h):
        return end_h - start_h
    evening = float(nights.wake_deadline(np.asarray(start_h), np.asarray(bed_h)))
    return max(min(end_h, evening) - start_h, 0.0)


def overdue(t: HouseholdTable, rows: Rows, start_h: Floats, now_h: Floats) -> Bools:
    """Whether each silence at home has outlasted its household's quiet limit for the hour it
    began, counted up to its usual bedtime, for a silence that began between its usual
    getting-up and that bedtime (False where there is no limit). As the spells are counted
    (`spell_hours`): an evening silence that runs into the night is judged on its part before
    the usual bedtime, and its nights are the wake limit's."""
    hour = np.mod(start_h, 24.0).astype(np.intp)
    j = t.dense_row[rows]
    dense = j >= 0
    limit_h = np.full(rows.size, np.nan)
    limit_h[dense] = t.spells.quiet_spell_limit_h[j[dense], hour[dense]]
    bed, wake = t.bed_h[rows].astype(np.float64), t.wake_h[rows].astype(np.float64)
    until = np.minimum(now_h, nights.wake_deadline(start_h, bed))  # the usual bedtime after it
    with np.errstate(invalid="ignore"):
        return np.asarray((until - start_h >= limit_h) & nights.before_bedtime(start_h, bed, wake),
                          dtype=np.bool_)
