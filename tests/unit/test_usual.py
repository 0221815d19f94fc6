"""What a household's usual week says of a silence."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shouwang.domain.usual import HOURS_PER_WEEK, expected_uses

TZ = ZoneInfo("Asia/Shanghai")


def test_a_silence_is_weighed_hour_by_hour_of_the_households_own_week() -> None:
    rates = [0.0] * HOURS_PER_WEEK
    rates[0 * 24 + 8] = 2.0   # Monday 08:00-09:00: two uses
    rates[1 * 24 + 8] = 4.0   # Tuesday: four
    monday = datetime(2026, 11, 30, 7, 30, tzinfo=TZ).timestamp()  # a Monday
    assert expected_uses(rates, monday, monday + 2 * 3600, tz=TZ) == 2.0
    assert expected_uses(rates, monday + 3600, monday + 3600 + 900, tz=TZ) == 0.5  # 08:30-08:45
    tuesday = monday + 86400
    assert expected_uses(rates, tuesday, tuesday + 3600, tz=TZ) == 2.0  # 07:30-08:30: half of 08-09


def test_a_silence_weeks_long_is_counted_for_two_weeks_at_most() -> None:
    rates = [1.0] * HOURS_PER_WEEK
    start = datetime(2026, 11, 30, tzinfo=TZ).timestamp()
    assert expected_uses(rates, start, start + 30 * 86400, tz=TZ) == 14 * 24
