"""Hourly use and signs of life per hour, from readings, with no database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from api import usage
from detector.signs import SignKind, SignOfLife, SignReader
from shouwang.domain.model import StoredReading, Visit

H = 3600.0
T0 = 1_700_000_000.0 - 1_700_000_000.0 % H


def water(ts: float, value: float) -> StoredReading:
    return StoredReading("h", "hub", "water", ts, value)


def test_a_register_rise_counts_in_the_hour_of_the_later_reading() -> None:
    rows = [water(T0 - 600, 1.0), water(T0 + 600, 1.2), water(T0 + H + 60, 1.25)]
    hours = usage.hourly_use(rows, start=T0, end=T0 + 2 * H)["water"]
    assert [(round(u, 6), n) for _, u, n in hours] == [(0.2, 1), (0.05, 1)]


def test_a_meter_reset_is_not_negative_use() -> None:
    rows = [water(T0 + 60, 5.0), water(T0 + 120, 0.1), water(T0 + 180, 0.2)]
    (_, use, count), = usage.hourly_use(rows, start=T0, end=T0 + H)["water"]
    assert round(use, 6) == 0.1 and count == 3


def test_a_door_counts_its_changes_not_its_heartbeats() -> None:
    rows = [StoredReading("h", "hub", "door", T0 + i * 60, v) for i, v in
            enumerate([0, 0, 1, 1, 0, 0])]
    (_, changes, _), = usage.hourly_use(rows, start=T0, end=T0 + H)["door"]
    assert changes == 2


def test_activity_counts_signs_and_visits_per_hour() -> None:
    rows = [water(T0 + 60, 1.0), water(T0 + 600, 1.01), water(T0 + H + 600, 1.02)]
    signs = usage.signs_of_life(rows, SignReader(standby_w=150, switch_step_w=100,
                                                 min_flow_m3_per_h=0.012), "h")
    counts = usage.activity(signs, [Visit("h", T0 + 2 * H + 5)], start=T0, hours=3)
    assert counts["water"] == [1, 1, 0]
    assert counts["visit"] == [0, 0, 1]
    assert counts["gas"] == [0, 0, 0]


def test_usual_is_the_average_per_local_hour_over_days_with_any_life() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    day = datetime(2026, 11, 2, tzinfo=tz).timestamp()
    signs = [SignOfLife("h", day + d * 86400 + 8 * 3600 + m * 60, SignKind.WATER, "water")
             for d in (0, 1) for m in (0, 10)]  # two uses at 08:00 on two days
    signs.append(SignOfLife("h", day + 1 * 86400 + 20 * 3600, SignKind.DOOR, "door"))
    # a third day with no sign at all (away) is not a usual day at home and is not counted
    usual, days = usage.usual_per_hour(signs, tz=tz)
    assert days == 2
    assert usual["water"][8] == 2.0 and usual["water"][9] == 0.0
    assert usual["door"][20] == 0.5
    assert "visit" not in usual


def test_a_silence_is_weighed_by_what_a_usual_day_brings_in_those_hours() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    usual = {"water": [0.0] * 24, "door": [0.0] * 24}
    usual["water"][8], usual["door"][9] = 2.0, 1.0
    start = datetime(2026, 11, 2, 7, 30, tzinfo=tz).timestamp()
    assert usage.expected_between(usual, start, start + 2 * 3600, tz=tz) == 2.0 + 0.5  # 08-09 whole, 09:30
    night = datetime(2026, 11, 2, 1, 0, tzinfo=tz).timestamp()
    assert usage.expected_between(usual, night, night + 3 * 3600, tz=tz) == 0.0


def test_signs_minutes_apart_are_one_use_as_the_detector_counts_them() -> None:
    signs = [SignOfLife("h", T0 + m * 60, kind, "s") for m, kind in
             ((0, SignKind.WATER), (2, SignKind.ELECTRICITY), (4, SignKind.WATER), (30, SignKind.DOOR))]
    assert [(s.ts - T0) / 60 for s in usage.uses(signs, gap_s=300)] == [0, 30]
