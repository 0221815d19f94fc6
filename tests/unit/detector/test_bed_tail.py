"""Early bedtimes: the early bedtime limit's tail, with its scale lent by the community."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from detector import calibration as cal
from detector import nights
from detector.learned import LearnedDetector
from detector.limits import POOLED_NIGHTS, budget
from detector.table import unpack_hours
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.unit.detector.helpers import TZ
from tests.unit.detector.test_bedtime import sparse_days


def test_without_a_prior_the_pooled_scale_is_the_predictive_tail() -> None:
    x = np.random.default_rng(3).normal(9.5, 0.4, 14)
    assert cal.pooled_scale_quantile(x, 0.001, prior_excesses=0, prior_total=0) == (
        pytest.approx(cal.own_threshold(x, 0.001)))


def test_the_community_lends_a_scale_in_hours_not_relative_to_the_median() -> None:
    # going to bed an hour later does not make a household's early evenings spread wider
    x = np.random.default_rng(4).normal(9.5, 0.4, 14)
    one = cal.pooled_scale_quantile(x, 0.001, prior_excesses=20, prior_total=6)
    later = cal.pooled_scale_quantile(x + 1.0, 0.001, prior_excesses=20, prior_total=6)
    assert later == pytest.approx(one + 1.0)
    assert x.max() <= one < cal.own_threshold(x, 0.001)  # a narrow community: a nearer limit


def _community(lo: float, hi: float, homes: int = 40) -> tuple[list[int], list[float]]:
    rng = np.random.default_rng(5)
    tails = [cal.excesses(rng.laplace(0.0, rng.uniform(lo, hi), 28)) for _ in range(homes)]
    return [m for m, _ in tails], [s for _, s in tails]


def test_households_alike_lend_much_households_unlike_little() -> None:
    a_alike, b_alike = cal.gamma_prior(*_community(0.45, 0.5), max_a=POOLED_NIGHTS)
    a_unlike, _ = cal.gamma_prior(*_community(0.1, 1.5), max_a=POOLED_NIGHTS)
    assert a_alike == pytest.approx(POOLED_NIGHTS)
    assert b_alike / a_alike == pytest.approx(0.475, rel=0.2)  # the excesses' mean, in hours
    assert a_unlike < 5.0


def test_the_fitted_prior_is_the_likelihoods_best_on_its_grid_with_b_its_root_for_that_a() -> None:
    m, total = (np.array(v, dtype=float) for v in _community(0.1, 1.5))

    def loglik(a: float, b: float) -> float:
        return float(sum(math.lgamma(a + k) for k in m) - m.size * math.lgamma(a)
                     + np.sum(a * math.log(b) - (a + m) * np.log(b + total)))

    a, b = cal.gamma_prior(m, total, max_a=POOLED_NIGHTS)
    # b is where the likelihood's slope in b vanishes for this a: sum a/b = sum (a+m)/(b+S)
    assert m.size * a / b == pytest.approx(float(np.sum((a + m) / (b + total))), rel=1e-9)
    assert 0.05 < a < POOLED_NIGHTS  # households unlike: a inside the grid, so a maximum
    for da, db in ((0.8, 0.8), (1.25, 1.25), (1.0, 1.1), (1.0, 1 / 1.1)):  # nothing near is better
        assert loglik(a, b) > loglik(a * da, b * db)


def _spent(days_seen: int, lo: float, hi: float, homes: int = 1500) -> float:
    """Evenings a new household's early limit is passed, per month, on exchangeable days whose
    early tail is exponential (Laplace bedtimes) and whose scale varies between households."""
    rng = np.random.default_rng(8)
    p = budget(LearnedSettings()).evening
    a, b = cal.gamma_prior(*_community(lo, hi), max_a=POOLED_NIGHTS)
    passed = 0
    for _ in range(homes):
        scale = rng.uniform(lo, hi)
        theta = cal.pooled_scale_quantile(rng.laplace(0.0, scale, days_seen), p,
                                          prior_excesses=a, prior_total=b)
        passed += int((rng.laplace(0.0, scale, 365) > theta).sum())
    return passed / (homes * 365) * cal.DAYS_PER_MONTH


@pytest.mark.parametrize("days_seen", [7, 28])
def test_on_exchangeable_evenings_the_pooled_early_limit_stays_near_its_share(
        days_seen: int) -> None:
    # its share: the whole evening's (the late limit at 01:00); scales differing fifteenfold
    share = budget(LearnedSettings()).evening * cal.DAYS_PER_MONTH
    assert _spent(days_seen, 0.1, 1.5) <= 2.0 * share


def test_a_household_in_a_community_gets_a_nearer_early_bedtime_limit_than_alone() -> None:
    alone = LearnedDetector(DetectorSettings(), TZ)
    alone.learn(sparse_days(seed=1))
    together = LearnedDetector(DetectorSettings(), TZ)
    signs = [replace(s, household_id=f"h-{k}") for k in range(1, 6)
             for s in sparse_days(seed=k)]
    together.learn(sorted(signs, key=lambda s: s.ts))
    together.use_population(together.pool_population(signs[-1].ts))  # recalibrated with it
    assert together.population.bed_excesses > 0
    t, i = together.table, together.row("h-1")
    sleep = unpack_hours(t.ring_sleep[i][t.ring_day[i] >= 0])
    assert np.isfinite(sleep[:, 0]).sum() >= 14
    own_alone = float(alone.table.bed_early_own_h[alone.row("h-1")])
    own_together = float(t.bed_early_own_h[i])
    assert own_alone < own_together < float(nights.from_noon(float(t.bed_h[i])))
