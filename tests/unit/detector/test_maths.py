"""The detector's maths: local time, rhythm, calibration, nights."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from detector import calibration as cal
from detector import nights
from detector.localtime import day_start_ts, local_hour, local_hours
from detector.rhythm import (
    DEFAULT_DAY_PRIOR,
    blur,
    cumulative,
    expected_one,
    expected_signs,
    shrunk_rates,
    surprise,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
VANCOUVER = ZoneInfo("America/Vancouver")


def test_local_hours_count_from_monday_midnight_on_the_local_clock() -> None:
    monday_8am = datetime(2024, 3, 4, 8, 0, tzinfo=SHANGHAI).timestamp()
    assert local_hour(monday_8am, SHANGHAI) % 168 == pytest.approx(8.0)
    assert local_hours(np.array([monday_8am + 86400]), SHANGHAI)[0] % 168 == pytest.approx(32.0)


def test_local_hours_follow_daylight_saving_time() -> None:
    before = datetime(2024, 3, 9, 12, 0, tzinfo=VANCOUVER).timestamp()
    after = datetime(2024, 3, 11, 12, 0, tzinfo=VANCOUVER).timestamp()
    hours = local_hours(np.array([before, after]), VANCOUVER) % 24
    assert hours == pytest.approx([12.0, 12.0])
    assert (after - before) / 3600 == pytest.approx(47.0)  # one hour was skipped


def test_a_day_starts_at_local_midnight() -> None:
    day = int(local_hour(datetime(2024, 3, 11, 15, 0, tzinfo=VANCOUVER).timestamp(),
                         VANCOUVER) // 24)
    assert day_start_ts(day, VANCOUVER) == datetime(2024, 3, 11, tzinfo=VANCOUVER).timestamp()


def test_a_household_without_history_has_the_population_rhythm() -> None:
    rates = shrunk_rates(np.zeros((1, 168), np.float32), np.zeros((1, 168), np.float32),
                         DEFAULT_DAY_PRIOR, day_strength=3, week_strength=3)
    assert rates[0, :24] == pytest.approx(DEFAULT_DAY_PRIOR)


def test_a_household_with_long_history_has_its_own_rhythm() -> None:
    own = np.tile(np.linspace(0.0, 4.0, 24), 7)
    days = 400.0
    rates = shrunk_rates((own * days)[None, :].astype(np.float32),
                         np.full((1, 168), days, np.float32), DEFAULT_DAY_PRIOR,
                         day_strength=3, week_strength=3)
    assert rates[0] == pytest.approx(own, abs=0.05)


def test_blurring_the_rhythm_keeps_its_total() -> None:
    rates = np.random.default_rng(1).gamma(1.0, 1.0, size=(3, 168))
    assert blur(rates, 0.5).sum(axis=1) == pytest.approx(rates.sum(axis=1))


def test_expected_signs_at_a_steady_rate_are_rate_times_hours_across_the_week_end() -> None:
    cum = cumulative(np.full((1, 168), 2.0))
    start = np.array([160.0 + 168 * 2600])
    assert expected_signs(cum, start, start + 20.0)[0] == pytest.approx(40.0, rel=1e-5)
    assert expected_one(cum[0], float(start[0]), float(start[0]) + 20.0) == pytest.approx(40.0,
                                                                                          rel=1e-5)


def test_surprise_tends_to_the_poisson_value_for_large_dispersion() -> None:
    expected = np.array([0.5, 3.0, 10.0])
    assert surprise(expected, 1e6) == pytest.approx(expected, rel=1e-4)
    assert (surprise(expected, 1.0) < expected).all()


def test_a_gumbel_fit_recovers_its_parameters() -> None:
    sample = np.random.default_rng(3).gumbel(5.0, 1.5, size=20_000)
    mu, beta = cal.gumbel_fit(sample)
    assert (mu, beta) == pytest.approx((5.0, 1.5), rel=0.03)
    assert cal.gumbel_quantile(mu, beta, 0.01) == pytest.approx(
        float(np.quantile(sample, 0.99)), rel=0.03)


def test_the_exponential_tail_quantile_matches_an_exponential_sample() -> None:
    sample = np.random.default_rng(4).exponential(2.0, size=20_000)
    assert cal.exponential_tail_quantile(sample, 0.01) == pytest.approx(
        float(np.quantile(sample, 0.99)), rel=0.05)


@pytest.mark.parametrize("method", ["tail", "gumbel"])
def test_a_threshold_is_never_below_the_largest_day_seen(method: str) -> None:
    maxima = [1.0, 1.1, 1.2, 1.0, 9.0]
    assert cal.own_threshold(maxima, 0.2, method=method) >= 9.0
    assert math.isnan(cal.own_threshold([1.0, 2.0], 0.01, method=method))


def test_shrinking_weighs_own_days_against_the_prior() -> None:
    assert cal.shrink(10.0, 4, 2.0, 4) == pytest.approx(6.0)
    assert cal.shrink(math.nan, 4, 2.0, 4) == 2.0


def test_nights_run_through_four_in_the_morning() -> None:
    assert nights.crosses_mark(21.5, 24 + 6.5)
    assert not nights.crosses_mark(6.0, 23.0)


def test_the_night_window_runs_from_before_bedtime_to_the_usual_wake_up() -> None:
    starts = np.array([19.0, 20.5, 23.0, 2.0, 6.0, 7.0])
    assert nights.in_night_window(starts, 21.5, 6.5).tolist() == [False, True, True, True, True,
                                                                  False]


def test_the_wake_deadline_is_the_next_time_the_clock_reads_the_limit() -> None:
    starts = np.array([21.5, 24 + 3.0, 24 + 8.0])
    assert nights.wake_deadline(starts, np.array([7.5, 7.5, 7.5])).tolist() == [31.5, 31.5, 55.5]


def test_median_clock_keeps_a_night_together() -> None:
    assert nights.median_clock(np.array([23.5, 0.5, 1.0])) == pytest.approx(0.5)


def test_a_morning_silence_after_getting_up_is_not_the_nights() -> None:
    day = 100
    start = np.array([day * 24 + 9.5, day * 24 + 8.0, day * 24 + 9.5, day * 24 + 21.0,
                      (day - 1) * 24 + 9.5])
    up = np.array([9.0, 9.0, np.nan, 9.0, 9.0])
    assert nights.already_up(start, np.full(5, day), up).tolist() == [
        True,  # after getting up this morning
        False,  # before it: still the night
        False,  # not seen getting up today
        False,  # the evening belongs to the next night
        False,  # another day
    ]


def test_a_silence_from_the_getting_up_sign_itself_is_after_getting_up() -> None:
    # a sparse home's morning toilet is her getting-up (kept in float32) and the start of the
    # silence that follows (float64): "not up yet" half the time, by rounding, until compared
    # to the second
    day = 100
    minutes = np.arange(4 * 60, 12 * 60) / 60.0 + 1.0 / 7200.0
    start = day * 24 + minutes
    up = minutes.astype(np.float32)
    assert nights.already_up(start, np.full(minutes.size, day), up).all()
