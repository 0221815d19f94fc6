"""Each household's limits, from its last weeks of normal days and the population's prior.

The community's false-alert budget (a rate per household-month, turned into a probability per
day) is shared so that the shares add up to it: `out_share` to outings, `night_share` of the rest
to the night (of which `quiet_share` to the safety limit, the remainder to the wake limit), and
what remains equally to the day thresholds (morning and afternoon). Each limit is the calibrated quantile of the
matching daily maxima (`detector.calibration`): expected uses missed in the day's largest
silence at home, hours of the longest outing, the clock time of getting up. Own limits are shrunk
towards the population's (the median over households with history) or, before any, the
configured defaults; then held between absolute floors and ceilings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from detector import calibration as cal
from detector import density, lights, nights
from detector.rhythm import DEFAULT_DAY_PRIOR, Floats, expected_one
from detector.table import (
    BUCKETS,
    KIND_COLUMNS,
    NO_HOURS,
    NO_TENTHS,
    HouseholdTable,
    unpack_hours,
)
from shouwang.settings import LearnedSettings

Rows = npt.NDArray[np.intp]
ACTIVITY_COLUMN = KIND_COLUMNS.index("activity")


@dataclass
class Population:
    """What all households together say: the prior for a home with little history."""

    day_prior: Floats = field(default_factory=lambda: DEFAULT_DAY_PRIOR.copy())
    threshold: Floats = field(default_factory=lambda: np.full(BUCKETS, np.nan))
    outing_h: float = math.nan
    wake_limit_h: float = math.nan
    night_h: float = math.nan
    """The median household's calibrated longest night (hours)."""
    bed_h: float = math.nan
    wake_h: float = math.nan
    bed_early_h: float = math.nan
    bed_late_h: float = math.nan
    """The median household's calibrated earliest and latest last evening sign (clock hours)."""
    bed_excesses: float = 0.0
    bed_excess_h: float = 0.0
    """The community's prior on how early before their usual bedtime households go to bed: a
    gamma prior on the rate of those early excesses, worth `bed_excesses` of them adding up to
    `bed_excess_h` hours (`bed_tail`); none: zeros."""
    quiet_excesses: Floats = field(default_factory=lambda: np.zeros(24))
    quiet_excess_rel: Floats = field(default_factory=lambda: np.zeros(24))
    """The dense homes' quiet spells by the hour they start: how many exceeded their home's
    median, and by how much in all relative to it (`density.pooled_tail`); none: zeros."""
    lit_nights: float = 0.0
    power_nights: float = 0.0
    """Of the nights whose power was seen at 01:00, how many were lit (`detector.lights`)."""
    households: int = 0
    refreshed_day: int = -1
    history_days: int = 0
    """The days of history (over mature households) it was made from."""


class Shares(NamedTuple):
    """The budget as probabilities per day: each day part's, the wake limit's, the safety
    limit's (for silences from bedtime), the outings' and the bedtime limit's (an evening
    without its last sign). They add up to the budget."""

    day: float
    wake: float
    quiet: float
    out: float
    evening: float


def budget(s: LearnedSettings) -> Shares:
    """The community's budget (false alerts per household-month) shared among the limits.

    Each limit spends only its share: a night that runs long may pass both the wake limit and
    the safety limit, so the two share the night's part rather than each spending all of it."""
    p = cal.daily_probability(s.false_alerts_per_month)
    out = p * s.out_share
    night = (p - out) * s.night_share
    quiet = night * s.quiet_share
    evening = night * s.quiet_share  # as much as the safety limit, from the wake limit's part
    return Shares((p - out - night) / (len(s.day_parts_from_h) + 1), night - quiet - evening,
                  quiet, out, evening)


def day_share(s: LearnedSettings) -> float:
    """The day silences' share of the budget, all parts of the day together (per day)."""
    return budget(s).day * (len(s.day_parts_from_h) + 1)


def calibrate(t: HouseholdTable, i: int, s: LearnedSettings, pop: Population, *,
              ceiling_s: float) -> None:
    """A household's own limits from its history (see the module docstring)."""
    valid = t.ring_day[i] >= 0
    days = int(valid.sum())
    tops = t.top_silences(i, valid)
    parts = len(s.day_parts_from_h) + 1
    maxima = np.zeros((days, parts))
    cum = t.cum_of(i)
    for d in range(days):
        for part, (start_h, end_h) in enumerate(tops[d][:parts]):
            if math.isfinite(start_h):
                maxima[d, part] = expected_one(cum, start_h, end_h)
    share = budget(s)
    for part in range(parts):
        t.threshold_own[i, part] = cal.own_threshold(maxima[:, part], share.day, method=s.tail)
    outings = unpack_hours(t.ring_out_h[i][valid])
    outings = outings[np.isfinite(outings)]
    t.outing_own_h[i] = cal.own_threshold(outings, share.out * days / max(outings.size, 1),
                                          method=s.tail)
    sleep = unpack_hours(t.ring_sleep[i][valid])
    bed, wake = sleep[np.isfinite(sleep[:, 0]), 0], sleep[np.isfinite(sleep[:, 1]), 1]
    t.bed_h[i] = nights.median_clock(bed) if bed.size >= cal.MIN_DAYS_TO_FIT else np.nan
    t.wake_h[i] = nights.median_clock(wake) if wake.size >= cal.MIN_DAYS_TO_FIT else np.nan
    t.wake_own_h[i] = cal.own_threshold(wake, share.wake * days / max(wake.size, 1), method=s.tail)
    # the last evening sign: how early and how late it comes (hours from noon), half the
    # evening's share each (a false alert: to bed before the early limit, or up past the late)
    evening = np.asarray(nights.from_noon(bed), dtype=np.float64)
    p_bed = share.evening / 2 * days / max(evening.size, 1)
    late = cal.own_threshold(evening, p_bed, method=s.tail)
    t.bed_late_own_h[i] = late
    # the rule fires on a normal day only if she went to bed before the early limit or had no
    # sign between the limits though up past the late one; a late limit at 01:00 (no last
    # evening sign comes later) cannot be passed, so its half of the share goes to the early one
    p_early = p_bed * (2.0 if late >= nights.BED_MARK_H + 12.0 else 1.0)
    if s.tail == "predictive" and pop.bed_excesses > 0:
        # the community lends the early tail's scale (hours before the usual bedtime)
        t.bed_early_own_h[i] = -cal.pooled_scale_quantile(
            -evening, p_early, prior_excesses=pop.bed_excesses, prior_total=pop.bed_excess_h)
    else:
        t.bed_early_own_h[i] = -cal.own_threshold(-evening, p_early, method=s.tail)
    longest = unpack_hours(t.ring_longest_h[i][valid])
    longest = longest[np.isfinite(longest)]
    t.quiet_own_h[i] = cal.own_threshold(longest, share.quiet * days / max(longest.size, 1),
                                         method=s.tail)
    apply_prior(t, np.array([i]), s, pop, ceiling_s=ceiling_s)


POOLED_NIGHTS = 28.0
"""The community's early bedtimes weigh at most this many nights' excesses (a household's own
four weeks give about 14): it lends a scale, and a household with its own history keeps its say."""
POOLED_HOMES = 1000
MIN_POOLED_HOMES = 3


def bed_tail(t: HouseholdTable, rows: Rows) -> tuple[float, float]:
    """The community's prior on how far before its usual bedtime a household goes to bed early:
    (a, b) of a gamma prior on the rate of each household's early excesses (hours before its
    median last evening sign; exponential, as `calibration` models every tail), fitted over
    `rows` (at most `POOLED_HOMES`) by empirical Bayes (`calibration.gamma_prior`): where
    households' spreads differ, a is small and each keeps its own; where they agree, a grows
    (at most `POOLED_NIGHTS`). (0, 0): none lent (fewer than `MIN_POOLED_HOMES`)."""
    counts, totals = [], []
    for i in rows[:POOLED_HOMES]:
        sleep = unpack_hours(t.ring_sleep[i][t.ring_day[i] >= 0])
        bed = sleep[np.isfinite(sleep[:, 0]), 0]
        m, hours = cal.excesses(-np.asarray(nights.from_noon(bed), dtype=np.float64))
        if m > 0 and hours > 0:
            counts.append(m)
            totals.append(hours)
    if len(counts) < MIN_POOLED_HOMES:
        return 0.0, 0.0
    return cal.gamma_prior(np.array(counts, float), np.array(totals, float), max_a=POOLED_NIGHTS)


def _mix(own: Floats, days: Floats, prior: float | Floats, s: LearnedSettings) -> Floats:
    trusted = np.isfinite(own) & (days >= s.min_history_days)
    mixed = (days * np.nan_to_num(own) + s.threshold_prior_days * prior) / (
        days + s.threshold_prior_days)
    return np.where(trusted, mixed, prior)


def _or(value: float | Floats, default: float) -> Floats:
    return np.where(np.isfinite(value), value, default)


def min_motion(s: LearnedSettings) -> float:
    """Motion signs in a day that show a home's motion sensors at work (as `density` asks)."""
    return s.dense_motion_per_h * density.MIN_WAKING_H


RECENT_MOTION_DAYS = 7
"""A home's motion sensors are taken to see the elder come back in while one of its last this
many days (today's included) showed motion."""


def outing_ceiling_s(t: HouseholdTable, rows: Rows, *, max_outing_s: float, ceiling_s: float,
                     min_motion: float) -> Floats:
    """The longest an outing may last before it alerts, seconds: `max_outing_s` in a home whose
    motion sensors see the elder come back in (at least `min_motion` motion signs on one of its
    last RECENT_MOTION_DAYS days), so that "out" is not a fall at the door; the fixed ceiling
    elsewhere, and in a home whose motion sensor has gone quiet for a week (found by a tester:
    a sensor removed, or dead, left the day's limit on)."""
    rows = np.atleast_1d(np.asarray(rows, dtype=np.intp))
    out = np.full(rows.size, float(ceiling_s))
    maybe = np.flatnonzero(t.dense_row[rows] >= 0)  # (a city's homes are mostly without motion)
    if maybe.size:
        m = rows[maybe]
        recent = t.ring_day[m] > (t.day[m, None] - RECENT_MOTION_DAYS)  # and today: a week
        counts = t.ring_features[m][:, :, density.MOTION]  # below 128 kept exactly; NO_TENTHS: none
        moved = (recent & (counts >= min_motion) & (counts != NO_TENTHS)).any(axis=1)
        moved |= t.day_kinds[m, ACTIVITY_COLUMN] >= min_motion
        out[maybe[moved]] = max(max_outing_s, ceiling_s)
    return out


def apply_prior(t: HouseholdTable, rows: Rows, s: LearnedSettings, pop: Population, *,
                ceiling_s: float) -> None:
    """Limits from own estimates shrunk to the population's (vectorised over `rows`)."""
    days = t.learned_days[rows].astype(np.float64)
    theta = _mix(t.threshold_own[rows].astype(np.float64), days[:, None],
                 _or(pop.threshold, s.default_threshold), s)
    t.threshold[rows] = np.clip(theta, s.min_threshold, s.max_threshold)
    valid = t.ring_day[rows] >= 0
    outing_days = ((t.ring_out_h[rows] != NO_HOURS) & valid).sum(axis=1).astype(np.float64)
    outing = _mix(t.outing_own_h[rows].astype(np.float64), outing_days,
                  _or(pop.outing_h, s.default_outing_h), s)
    t.outing_h[rows] = np.clip(outing, s.min_outing_h, outing_ceiling_s(
        t, rows, max_outing_s=s.max_outing_h * 3600.0, ceiling_s=ceiling_s,
        min_motion=min_motion(s)) / 3600.0)
    nights_seen = ((t.ring_sleep[rows, :, 1] != NO_HOURS) & valid).sum(axis=1).astype(np.float64)
    wake = _or(t.wake_h[rows].astype(np.float64), float(_or(pop.wake_h, nights.DEFAULT_WAKE_H)))
    t.wake_h[rows] = wake
    t.bed_h[rows] = _or(t.bed_h[rows].astype(np.float64),
                        float(_or(pop.bed_h, nights.DEFAULT_BED_H)))
    limit = _mix(t.wake_own_h[rows].astype(np.float64), nights_seen,
                 _or(pop.wake_limit_h, s.default_wake_limit_h), s)
    floor = np.maximum(wake + s.min_lie_in_min / 60.0, nights.MIN_WAKE_LIMIT_H)
    t.wake_limit_h[rows] = np.clip(limit, floor, s.latest_wake_h)
    _bed_limits(t, rows, s, pop, valid)
    _quiet_limit(t, rows, s, pop, valid)
    # the lights rule spends at most half the evening's share, on the nights slept lit
    lights.calibrate(t, rows, budget(s).evening / 2, (pop.lit_nights, pop.power_nights))


def _bed_limits(t: HouseholdTable, rows: Rows, s: LearnedSettings, pop: Population,
                valid: npt.NDArray[np.bool_]) -> None:
    """The bedtime limits (clock hours): a silence at home that began before the early one
    (earlier than this household goes to bed on all but a budgeted share of days) and still
    runs at the late one (later than its last evening sign on all but a share) missed the
    evening's last sign. Own limits shrunk to the population's; NaN, and no such rule, while
    neither the household nor the community knows them."""
    nights_seen = ((t.ring_sleep[rows, :, 0] != NO_HOURS) & valid).sum(axis=1).astype(np.float64)
    for own_col, prior, col in (("bed_early_own_h", pop.bed_early_h, "bed_early_h"),
                                ("bed_late_own_h", pop.bed_late_h, "bed_late_h")):
        own = getattr(t, own_col)[rows].astype(np.float64)
        prior_noon = np.where(np.isfinite(prior), nights.from_noon(prior), own)
        mixed = _mix(own, nights_seen, prior_noon, s)
        # a last evening sign is by its definition before 01:00: a limit past it (a tail
        # extrapolated from a few late evenings) would wrap into the next day
        mixed = np.clip(mixed, 0.0, nights.BED_MARK_H + 12.0)
        getattr(t, col)[rows] = np.mod(mixed + 12.0, 24.0)


def _quiet_limit(t: HouseholdTable, rows: Rows, s: LearnedSettings, pop: Population,
                 valid: npt.NDArray[np.bool_]) -> None:
    """The safety limit: the household's longest silences at home, the night's included
    (calibrated like its other limits, shrunk to the population's), and a margin, within the
    community's floor and ceiling."""
    nights_seen = ((t.ring_longest_h[rows] != NO_HOURS) & valid).sum(axis=1).astype(np.float64)
    night = _mix(t.quiet_own_h[rows].astype(np.float64), nights_seen,
                 _or(pop.night_h, nights.DEFAULT_NIGHT_H), s)
    t.quiet_limit_h[rows] = np.clip(night + s.quiet_margin_h, s.min_quiet_h, s.max_quiet_h)
