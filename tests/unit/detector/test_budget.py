"""The community's alert budget: how it is shared among a household's limits and spent."""

from __future__ import annotations

import numpy as np
import pytest

from detector import calibration as cal
from detector.learned import LearnedDetector
from detector.limits import budget
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.unit.detector.helpers import TZ, routine


def _at(per_month: float) -> LearnedSettings:
    return LearnedSettings(false_alerts_per_month=per_month)


def test_the_default_budget_is_half_a_false_alert_per_household_month() -> None:
    assert LearnedSettings().false_alerts_per_month == 0.5


@pytest.mark.parametrize("per_month", [0.25, 0.5, 2.0])
def test_the_shares_of_the_budget_add_up_to_the_budget(per_month: float) -> None:
    s = _at(per_month)
    shares = budget(s)
    spent = shares.day * (len(s.day_parts_from_h) + 1) + shares.wake + shares.quiet + shares.out
    assert spent == pytest.approx(cal.daily_probability(per_month))
    assert min(shares) > 0


def _limits(per_month: float) -> dict[str, np.ndarray]:
    detector = LearnedDetector(DetectorSettings(learned=_at(per_month)), TZ)
    detector.learn(routine("flat-7", 29, seed=5))
    t, i = detector.table, detector.row("flat-7")
    assert t.learned_days[i] >= 27
    parts = len(LearnedSettings().day_parts_from_h) + 1
    return {"threshold": t.threshold[i, :parts].astype(float), "wake": t.wake_limit_h[i].astype(float),
            "quiet": t.quiet_limit_h[i].astype(float)}


def test_a_households_limits_rise_when_the_budget_falls() -> None:
    generous, usual, tight = _limits(4.0), _limits(0.5), _limits(0.1)
    for name in ("threshold", "wake", "quiet"):
        assert np.all(generous[name] <= usual[name] + 1e-6), name
        assert np.all(usual[name] <= tight[name] + 1e-6), name
    assert np.all(generous["threshold"] < tight["threshold"])
    assert generous["wake"] < tight["wake"]


@pytest.mark.parametrize("per_month", [0.1, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("method", ["tail", "gumbel"])
def test_on_exchangeable_days_a_threshold_is_exceeded_about_as_often_as_its_budget(
        per_month: float, method: str) -> None:
    # 2,000 households, each with four weeks of daily maxima from its own gamma distribution
    # (light-tailed like expected uses missed), then a year of new days from the same one
    rng = np.random.default_rng(7)
    p = cal.daily_probability(per_month)
    exceeded, days = 0, 0
    for _ in range(2000):
        shape, scale = rng.uniform(2.0, 6.0), rng.uniform(0.5, 3.0)
        theta = cal.own_threshold(rng.gamma(shape, scale, 28), p, method=method)
        exceeded += int((rng.gamma(shape, scale, 365) > theta).sum())
        days += 365
    measured = exceeded / days * cal.DAYS_PER_MONTH
    # a budget kept on average: neither overspent nor left mostly unspent. (One limit cannot
    # spend more than one day in n + 1: it is never below the largest of the n days seen, so a
    # share of 1/month, 1/30.4 a day, is about the most four weeks can buy, and it buys 0.8.)
    assert 0.7 * per_month <= measured <= 1.3 * per_month, measured
