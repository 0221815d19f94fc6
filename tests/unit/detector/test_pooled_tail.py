"""Dense homes' quiet limits with the tail pooled over the community's dense homes."""

from __future__ import annotations

import copy
from dataclasses import replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from detector import calibration as cal
from detector import density
from detector.evaluation import community
from detector.learned import LearnedDetector
from detector.limits import Population, day_share
from detector.table import unpack_hours
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.unit.detector.helpers import TZ, routine
from tests.unit.detector.test_density import moving

S = LearnedSettings()
P_DAY = day_share(S)


def test_without_a_prior_the_pooled_tail_is_the_predictive_tail() -> None:
    x = np.random.default_rng(3).gamma(3.0, 0.4, 14)
    assert cal.pooled_tail_quantile(x, 0.001, prior_excesses=0, prior_relative=0) == (
        pytest.approx(cal.own_threshold(x, 0.001)))


def test_a_community_tail_lowers_a_short_historys_limit_but_never_below_its_longest() -> None:
    x = np.random.default_rng(4).gamma(3.0, 0.4, 7)
    alone = cal.own_threshold(x, 0.001)
    m, relative = cal.relative_excesses(np.random.default_rng(5).gamma(3.0, 0.4, 200))
    pooled = cal.pooled_tail_quantile(x, 0.001, prior_excesses=m, prior_relative=relative)
    assert x.max() <= pooled < 0.8 * alone


def test_the_community_lends_the_tails_shape_not_its_scale() -> None:
    x = np.random.default_rng(6).gamma(3.0, 0.4, 10)
    one = cal.pooled_tail_quantile(x, 0.001, prior_excesses=28, prior_relative=14)
    three = cal.pooled_tail_quantile(3 * x, 0.001, prior_excesses=28, prior_relative=14)
    assert three == pytest.approx(3 * one)


def _spent(days_seen: int, *, homes: int = 1000, per_month: float = 0.5) -> float:
    """False alerts per household-month a limit makes on exchangeable days when the tail is
    pooled over a community of homes whose scales differ sixfold (as `test_budget._spent`)."""
    rng = np.random.default_rng(8)
    p = cal.daily_probability(per_month)

    def draw() -> tuple[float, float]:
        return rng.uniform(2.0, 6.0), rng.uniform(0.5, 3.0)

    count = relative = 0.0
    for _ in range(30):  # the community: four weeks of each home
        m, r = cal.relative_excesses(rng.gamma(*draw(), 28))
        count, relative = count + m, relative + r
    weight = min(1.0, density.POOLED_EXCESSES / count)
    exceeded = 0
    for _ in range(homes):
        shape, scale = draw()
        theta = cal.pooled_tail_quantile(rng.gamma(shape, scale, days_seen), p,
                                         prior_excesses=count * weight,
                                         prior_relative=relative * weight)
        exceeded += int((rng.gamma(shape, scale, 365) > theta).sum())
    return exceeded / (homes * 365) * cal.DAYS_PER_MONTH


@pytest.mark.parametrize("days_seen", [density.MIN_DAYS, 14, 28])
def test_on_exchangeable_days_a_pooled_tail_keeps_the_budget(days_seen: int) -> None:
    assert 0.25 * 0.5 <= _spent(days_seen) <= 0.5


def test_on_three_days_even_a_pooled_tail_overspends() -> None:
    assert _spent(3) > 0.5  # why quiet limits still wait for a week of history


def _spent_alone(days_seen: int, shapes: tuple[float, float], *, homes: int = 1000,
                 per_month: float = 0.5) -> float:
    """As `_spent`, for homes alone: the built-in tail instead of a community's."""
    rng = np.random.default_rng(9)
    p = cal.daily_probability(per_month)
    exceeded = 0
    for _ in range(homes):
        shape, scale = rng.uniform(*shapes), rng.uniform(0.5, 3.0)
        theta = cal.pooled_tail_quantile(
            rng.gamma(shape, scale, days_seen), p, prior_excesses=density.BUILT_IN_EXCESSES,
            prior_relative=density.BUILT_IN_EXCESSES * density.BUILT_IN_RELATIVE)
        exceeded += int((rng.gamma(shape, scale, 365) > theta).sum())
    return exceeded / (homes * 365) * cal.DAYS_PER_MONTH


@pytest.mark.parametrize("days_seen", [density.MIN_DAYS, 14, 28])
def test_on_exchangeable_days_the_built_in_tail_keeps_the_budget(days_seen: int) -> None:
    # homes whose spells' tails run from the exponential's (shape 1) to light ones (shape 6)
    assert 0.1 <= _spent_alone(days_seen, (1.0, 6.0)) <= 0.5


def test_a_home_alone_with_exponential_spells_overspends_until_its_own_tail_is_known() -> None:
    # the built-in shape is lighter than the exponential's (relative excess 0.8 against 1.44):
    # the price of short limits for the recorded homes, said in docs/detector.md §12
    assert _spent_alone(density.MIN_DAYS, (1.0, 1.0)) > 1.0
    assert _spent_alone(28, (1.0, 1.0)) < _spent_alone(density.MIN_DAYS, (1.0, 1.0))


@lru_cache(maxsize=8)
def _learned(days: int, seed: int, home_id: str) -> LearnedDetector:
    detector = LearnedDetector(DetectorSettings(), TZ)
    detector.learn(replace(s, household_id=home_id) for s in moving(days, seed=seed))
    return detector


def _community_prior() -> Population:
    """Three dense homes like the new one, and one without a motion sensor, pooled."""
    sparse = LearnedDetector(DetectorSettings(), TZ)
    sparse.learn(routine("sparse", 21, seed=9))
    tables = [_learned(21, 2, "a").table, sparse.table, _learned(21, 3, "b").table,
              _learned(21, 4, "c").table]
    return community.pooled(community.learned_factory(DetectorSettings(), seed=1), tables,
                            now=float(np.max(tables[0].last_sign[:1])))


def test_the_community_pools_each_dense_homes_own_spells() -> None:
    pop = _community_prior()
    count, relative = np.zeros(24), np.zeros(24)
    for table in (_learned(21, 2, "a").table, _learned(21, 3, "b").table,
                  _learned(21, 4, "c").table):
        fits = density._fits(table, 0, S, P_DAY)
        assert fits is not None
        for hour, (spells, _) in enumerate(fits):
            m, r = cal.relative_excesses(spells)
            count[hour], relative[hour] = count[hour] + m, relative[hour] + r
    weight = np.minimum(1.0, density.POOLED_EXCESSES / np.maximum(count, 1.0))
    assert pop.quiet_excesses.sum() > 0
    assert np.allclose(pop.quiet_excesses, count * weight)
    assert np.allclose(pop.quiet_excess_rel, relative * weight)


def _joined(days: int, prior: Population | None) -> LearnedDetector:
    detector = copy.deepcopy(_learned(days, 1, "new"))
    if prior is not None:
        detector.use_population(prior)
    return detector


def test_a_pooled_tail_shortens_a_new_dense_homes_quiet_limits() -> None:
    alone = _joined(21, None).table.quiet_spell_limit_h(0)[0]
    pooled = _joined(21, _community_prior()).table.quiet_spell_limit_h(0)[0]
    day = slice(8, 20)
    assert np.isfinite(alone[day]).all() and np.isfinite(pooled[day]).all()
    # toward the community's: mostly shorter (three weeks alone extrapolate a long way), longer
    # only where the others' spells at that hour have a heavier tail than its own
    assert (pooled[day] < alone[day] - 0.25).sum() >= 3
    assert pooled[day].sum() < alone[day].sum() - 1.0
    assert (pooled[day] >= _longest(_learned(21, 1, "new"))[day] - 1e-3).all()


def _longest(detector: LearnedDetector) -> npt.NDArray[np.float64]:
    """The longest spell seen within an hour of each hour of the day (hours)."""
    t = detector.table
    spells = np.nan_to_num(unpack_hours(t.spells.ring_spell_h[t.dense_row[0]][t.ring_day[0] >= 0]))
    near = np.max([np.roll(spells, k, axis=1) for k in (-1, 0, 1)], axis=0)
    return np.asarray(near.max(axis=0), dtype=np.float64)


def test_a_home_without_enough_history_has_no_quiet_limits_even_with_a_pooled_tail() -> None:
    assert np.isnan(_joined(5, _community_prior()).table.quiet_spell_limit_h(0)[0]).all()


def test_fewer_than_three_dense_homes_lend_no_tail_not_even_their_own() -> None:
    two = [_learned(21, 2, "a").table, _learned(21, 3, "b").table]
    assert density.MIN_POOLED_HOMES == 3
    pop = community.pooled(community.learned_factory(DetectorSettings(), seed=1), two,
                           now=float(np.max(two[0].last_sign[:1])))
    assert not pop.quiet_excesses.any() and not pop.quiet_excess_rel.any()
    # a lone dense home judged with such a community borrows the built-in tail, as alone
    alone = _joined(21, None).table.quiet_spell_limit_h(0)[0]
    assert np.array_equal(_joined(21, pop).table.quiet_spell_limit_h(0)[0], alone, equal_nan=True)
