"""A household's usual week, and what it says of a silence: pure arithmetic on hourly rates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

HOURS_PER_WEEK = 168


def expected_uses(rates: Sequence[float], start: float, end: float, *, tz: tzinfo) -> float:
    """Uses a usual week brings between two moments (each hour by its share; at most two weeks)."""
    total, ts, end = 0.0, start, min(end, start + 14 * 86400)
    while ts < end:
        local = datetime.fromtimestamp(ts, tz)
        nxt = min(end, ts - local.minute * 60 - local.second - local.microsecond / 1e6 + 3600)
        total += rates[local.weekday() * 24 + local.hour] * (nxt - ts) / 3600
        ts = nxt
    return total
