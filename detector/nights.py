"""Nights: when a household goes to bed and gets up, and the rule "not up by now".

A silence through the night is not judged by the uses it misses (the morning's busy hour would
make a half-hour lie-in look alarming) but by the clock: it alerts once the household is later
up than its calibrated wake limit, the time by which it has been up on all but about one day a
month (see `detector.calibration`, applied to the daily wake-up times).

A silence is a night silence when it starts in the household's night window (from an hour and a
half before its usual bedtime to its usual wake-up time) or has run through 04:00. A night's
bedtime is its last evening sign: the start of the silence still running at 01:00 (`is_bedtime`),
or of a long evening silence that only a trip to the toilet broke before 01:00 (`bedtime_of`);
the usual bedtime is their median, and their early and late quantiles are the household's
bedtime limits (`detector.limits`). Clock hours
are compared from noon, so that 23:00 comes before 01:00 and 06:00. A silence starting in the
morning after the household was seen getting up is a day silence, even before its usual time.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

NIGHT_MARK_H = 4.0
"""A silence still running at 04:00 local has lasted through the night."""
EVENING_BEFORE_BED_H = 1.5
DEFAULT_BED_H = 21.5
DEFAULT_WAKE_H = 6.5
BED_MARK_H = 1.0
"""Going to bed: the night's last evening sign is the start of the silence running at 01:00
local, if it began after noon (a trip to the toilet after 01:00 does not move it)."""
NIGHT_BREAK_H = 0.5
"""Signs for at most this long between two silences (a trip to the toilet) do not end a night."""
EVENING_QUIET_H = 1.0
"""A silence at home at least this long that began after noon may have been the night's start."""
MIN_WAKE_LIMIT_H = 4.5
UP_TOLERANCE_H = 1.0 / 3600.0
"""Getting up is kept in float32: a silence's start is compared to it to the second."""
DEFAULT_NIGHT_H = 11.0
"""A day's longest silence at home (the night's, last evening sign to first morning sign, for
most households) before any household has history."""


def from_noon(clock_h: Floats | float) -> Floats:
    """Clock hours re-counted from noon: 21:00 → 9, 01:00 → 13, 06:30 → 18.5."""
    return np.mod(np.asarray(clock_h, dtype=np.float64) - 12.0, 24.0)


def crosses_mark(start_h: Floats | float, end_h: Floats | float) -> npt.NDArray[np.bool_]:
    """Whether [start, end] (local hours) contains a 04:00."""
    start = np.asarray(start_h, dtype=np.float64)
    first_mark = NIGHT_MARK_H + 24.0 * np.ceil((start - NIGHT_MARK_H) / 24.0)
    return np.asarray(first_mark <= np.asarray(end_h, dtype=np.float64))


def is_bedtime(start_h: float, end_h: float) -> bool:
    """Whether a silence (local hours) began at the night's last evening sign: it began after
    noon and was still running at 01:00 (`BED_MARK_H`).

    Not "the first long silence after 18:00": a household with no television or kettle is
    often quiet for hours in its evening (18:00 lights on, then nothing until the toilet at
    bedtime), and its "bedtime" came out hours early, so that an afternoon's silence was
    taken for the night's."""
    if not from_noon(start_h) < BED_MARK_H + 12.0:
        return False
    mark = BED_MARK_H + 24.0 * math.ceil((start_h - BED_MARK_H) / 24.0)
    return mark <= end_h


def evening_quiet(evening: Floats, start_h: float, end_h: float) -> Floats:
    """The last long evening silence (start, end: local hours; NaN: none) after the silence
    [start_h, end_h] at home: that silence if it is long (`EVENING_QUIET_H`) and began after
    noon; else, if it followed the last one after a short break (`NIGHT_BREAK_H`), the last
    one lengthened to its end; else the last one. (Not a chain of long silences: a sparse
    afternoon's would reach back to 16:00.)"""
    if from_noon(start_h % 24.0) < 12.0 and end_h - start_h >= EVENING_QUIET_H:
        return np.array([start_h, end_h])
    if start_h - evening[1] <= NIGHT_BREAK_H:
        return np.array([evening[0], end_h])
    return np.asarray(evening, dtype=np.float64)


def bedtime_of(start_h: float, evening: Floats, usual_h: float) -> float:
    """The night's bedtime (local hours) when the silence from `start_h` is the one running at
    01:00 (`is_bedtime`): its start, unless a trip to the toilet broke the night before 01:00.
    Then `evening` (the last long evening silence, `evening_quiet`) ended a short break before
    `start_h` and began nearer the household's usual bedtime (`usual_h`, clock hours): the
    night began with it. (Without this, an elder to bed at 20:20 who went to the toilet at
    00:40 on one night in three had "bedtimes" at 00:40, and a late bedtime limit at 01:00.)"""
    if not start_h - evening[1] <= NIGHT_BREAK_H:
        return start_h
    usual = float(from_noon(usual_h))
    if abs(float(from_noon(evening[0] % 24.0)) - usual) < abs(float(from_noon(start_h % 24.0)) - usual):
        return float(evening[0])
    return start_h


def in_night_window(start_h: Floats | float, bed_h: Floats | float,
                    wake_h: Floats | float) -> npt.NDArray[np.bool_]:
    """Whether a silence starting at local hours `start_h` starts in the night window."""
    start = from_noon(np.mod(start_h, 24.0))
    evening = from_noon(bed_h) - EVENING_BEFORE_BED_H
    return np.asarray((start >= evening) & (start < from_noon(wake_h)))


def before_bedtime(start_h: Floats | float, early_h: Floats | float,
                   wake_h: Floats | float) -> npt.NDArray[np.bool_]:
    """Whether a silence starting at local hours `start_h` began in the day before `early_h`
    (the household's early bedtime limit, clock hours): after its usual getting-up, or in the
    afternoon (NaN limit: never)."""
    start = from_noon(np.mod(start_h, 24.0))
    early = from_noon(early_h)
    with np.errstate(invalid="ignore"):
        return np.asarray((start < early) | (start >= from_noon(wake_h)))


def already_up(start_h: Floats | float, day: npt.ArrayLike,
               up_h: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether a silence starting at local hours `start_h` began on the morning of local day
    `day` after the household was seen getting up (`up_h`, clock hours; NaN: not yet).

    Such a silence is not the night's, even inside the night window: an elder up earlier than
    usual who then sits still is judged by the day's rhythm, not by when she usually gets up.
    A silence from the getting-up sign itself is after it: `up_h` is kept in float32, so it is
    compared to the second (`UP_TOLERANCE_H`), not to float64's last bit.
    """
    start = np.asarray(start_h, dtype=np.float64)
    day_start = np.asarray(day, dtype=np.float64) * 24.0
    within = start - day_start
    up = np.asarray(up_h, dtype=np.float64)
    return np.asarray((within >= 0.0) & (within < 12.0) & (within >= up - UP_TOLERANCE_H))


def wake_deadline(start_h: Floats, limit_h: Floats) -> Floats:
    """The first moment at or after `start_h` (local hours) whose clock reads `limit_h`."""
    return np.asarray(limit_h + 24.0 * np.ceil((start_h - limit_h) / 24.0), dtype=np.float64)


def median_clock(clock_h: Floats) -> float:
    """The median of clock hours, taken from noon so that a night's hours stay together."""
    values = np.asarray(clock_h, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(np.mod(np.median(from_noon(values)) + 12.0, 24.0)) if values.size else np.nan


def night_hours(bed_h: Floats | float, wake_h: Floats | float) -> Floats:
    """Hours from going to bed to getting up, both clock hours (21:00 → 06:30 is 9.5)."""
    return np.asarray(from_noon(wake_h) - from_noon(bed_h), dtype=np.float64)


def asleep_hours(start_h: Floats, end_h: Floats, bed_h: Floats, wake_h: Floats,
                 *, nights: int = 4) -> Floats:
    """Hours of [start_h, end_h] (local hours) inside the household's usual nights, from its
    usual bedtime to its usual getting-up: time a person at home is not expected to draw water.

    The nights of the `nights` local days from the one before `start_h` are counted; a silence
    of that many days has long since alerted by other rules."""
    start = np.asarray(start_h, dtype=np.float64)
    end = np.asarray(end_h, dtype=np.float64)
    bed = from_noon(bed_h)
    wake = bed + np.maximum(night_hours(bed_h, wake_h), 0.0)
    first_noon = np.floor((start - 12.0) / 24.0) * 24.0 + 12.0 - 24.0
    total = np.zeros(np.broadcast(start, end).shape)
    for k in range(nights + 1):
        noon = first_noon + 24.0 * k
        total += np.clip(np.minimum(end, noon + wake) - np.maximum(start, noon + bed), 0.0, None)
    return total
