"""Where UNIX times fall on the household's local clock, vectorised over many households.

Positions are hours since Monday 1970-01-05 00:00 local time, so `hours % 168` is the hour of
the week and `hours // 24` the local day. Offsets come from the time zone per distinct UTC hour,
so daylight-saving time is honoured (zones whose offsets are not whole hours at a transition are
rounded to the hour in which the transition falls).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

MONDAY_EPOCH_S = 4 * 86400.0  # 1970-01-05 00:00 UTC was a Monday
HOURS_PER_WEEK = 168
HOURS_PER_DAY = 24


@lru_cache(maxsize=65536)
def _offset_s(hour: int, tz: ZoneInfo) -> float:
    moment = datetime.fromtimestamp(hour * 3600.0, UTC).astimezone(tz)
    offset = moment.utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def utc_offsets(ts: Floats, tz: ZoneInfo) -> Floats:
    """Each time's UTC offset in seconds; each distinct UTC hour is looked up once."""
    hours = np.floor(np.asarray(ts, dtype=np.float64) / 3600.0)
    unique, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array([_offset_s(int(h), tz) for h in unique], dtype=np.float64)
    return offsets[inverse].reshape(hours.shape)


def local_hours(ts: Floats, tz: ZoneInfo) -> Floats:
    """Hours since Monday 1970-01-05 00:00 on the local clock (ts must be finite)."""
    ts = np.asarray(ts, dtype=np.float64)
    return (ts + utc_offsets(ts, tz) - MONDAY_EPOCH_S) / 3600.0


def local_hour(ts: float, tz: ZoneInfo) -> float:
    """One time's position in local hours since the Monday epoch."""
    return (ts + _offset_s(int(ts // 3600.0), tz) - MONDAY_EPOCH_S) / 3600.0


def day_of(hours: float) -> int:
    """The local day number (0 = Monday 1970-01-05) of a local-hours position."""
    return int(hours // HOURS_PER_DAY)


def weekday_of(day: int) -> int:
    """0 = Monday … 6 = Sunday."""
    return day % 7


def day_start_ts(day: int, tz: ZoneInfo) -> float:
    """The UNIX time of local midnight that begins local day `day`."""
    guess = MONDAY_EPOCH_S + day * 86400.0
    first = guess - _offset_s(int(guess // 3600.0), tz)
    return guess - _offset_s(int(first // 3600.0), tz)
