"""The operating curve's budgets replayed together: copies of a home in one detector, one copy a
budget (`replay_budgets`), give exactly what one replay per budget gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from detector.evaluation import curve
from detector.evaluation.recordings import Recording
from detector.evaluation.replay import HomeResult, replay_budgets
from detector.evaluation.run import community_priors, detectors, recordings
from detector.learned import LearnedDetector
from detector.signs import SignKind, SignOfLife
from shouwang.settings import DetectorSettings
from tests.unit.detector.helpers import TZ, at

SETTINGS = DetectorSettings()
BUDGETS = (0.1, 4.0)  # two are enough to show each budget judged as its own


def home(home_id: str, *, seed: int, days: int = 21, motion: bool = False) -> Recording:
    """Uses through the day with a varied getting-up, some long afternoons and a day out;
    with `motion`, a movement every few minutes while up (a dense home)."""
    rng = np.random.default_rng(seed)
    times: list[float] = []
    kinds: list[SignKind] = []
    for day in range(days):
        up, bed = 7.0 + rng.normal(0, 0.6), 22.0 + rng.normal(0, 0.4)
        hours = [up, *rng.uniform(up + 0.5, bed, size=rng.poisson(14)), bed]
        if day % 9 == 4:  # out all afternoon, through the door
            hours = [h for h in hours if not 13.0 <= h < 19.0]
            times += [at(day, 13.0), at(day, 19.0)]
            kinds += [SignKind.DOOR, SignKind.DOOR]
        times += [at(day, float(h)) for h in hours]
        kinds += [SignKind.WATER if rng.random() < 0.6 else SignKind.ELECTRICITY for _ in hours]
        if motion:
            moving = np.arange(up, bed, 1 / 6) + rng.uniform(0, 0.05)
            moving = moving[rng.random(moving.size) < 0.7]
            times += [at(day, float(h)) for h in moving]
            kinds += [SignKind.MOTION] * moving.size
    order = np.argsort(times, kind="stable")
    return Recording(home_id, TZ, np.asarray(times)[order], [kinds[k] for k in order])


def homes() -> list[Recording]:
    return [home("meters", seed=3), home("dense", seed=4, motion=True), home("other", seed=5),
            home("fourth", seed=6)]


def figures(result: HomeResult) -> tuple[object, ...]:
    return (result.home_id, result.detector, result.household_months, result.delays_h,
            result.already_alerting, [dataclasses.astuple(f) for f in result.false_alerts])


@pytest.mark.parametrize("community", [False, True], ids=["alone", "community"])
def test_budgets_replayed_together_give_each_budgets_own_figures(community: bool) -> None:
    recorded = homes()
    priors = community_priors(SETTINGS, recorded, seed=1) if community else None
    factories = detectors(SETTINGS, seed=1, budgets=BUDGETS)
    groups = curve.budget_groups(factories)
    assert sorted(map(len, groups)) == [1, 1, len(BUDGETS)]  # learned, rule, the curve's budgets
    together = recordings(factories, recorded[:2], inject=6, seed=2, learning_days=7,
                          tick_s=900.0, priors=priors)
    for name, make in factories.items():
        alone = recordings({name: make}, recorded[:2], inject=6, seed=2, learning_days=7,
                           tick_s=900.0, priors=priors)[name]
        assert [figures(r) for r in together[name]] == [figures(r) for r in alone]
    # not one result copied to every budget: the budgets judge differently
    delays = {tuple(together[curve.name_at(b)][1].delays_h) for b in BUDGETS}
    assert len(delays) == len(BUDGETS)


def test_together_needs_a_fixed_population() -> None:
    """Copies pooled into their own population prior would judge one another's limits."""
    make = curve.Learned(SETTINGS, 1, 1.0)
    with pytest.raises(ValueError, match="fixed population"):
        replay_budgets(lambda r: make(r.tz), home("h", seed=1, days=3), {"a": 0.5, "b": 1.0},
                       learning_days=1, injections=[], tick_s=3600.0)


def test_households_at_their_own_budget_are_judged_as_at_the_communitys() -> None:
    """Every household set to 4 a month in a detector configured at 0.5 keeps the limits of a
    detector configured at 4, through the population prior's refreshes (which recalibrate
    every household, `LearnedDetector._apply_prior`)."""
    own = learned(0.5)
    configured = learned(4.0)
    recorded = homes()
    for rec in recorded:
        own.set_budget(rec.home_id, 4.0)
    for detector in (own, configured):
        detector.learn(SignOfLife(rec.home_id, float(ts), kind, kind.value)
                       for rec in recorded for ts, kind in zip(rec.ts, rec.kinds, strict=True))
        lit_nights(detector)
        detector.pool_population(max(rec.end for rec in recorded) + 3600.0)
    assert own.population.households == len(recorded)
    # the lights rule holds for the unlit homes at 4 a month, not at 0.5 (below)
    assert own.table.view("lit_ok").tolist() == [True, True, True, False]
    mine, theirs = own.table.to_arrays(), configured.table.to_arrays()
    assert mine.keys() == theirs.keys()
    for name in mine:
        assert np.array_equal(mine[name], theirs[name], equal_nan=mine[name].dtype.kind == "f"), name
    at_half = learned(0.5)  # and the budget matters here
    at_half.learn(SignOfLife(rec.home_id, float(ts), kind, kind.value)
                  for rec in recorded for ts, kind in zip(rec.ts, rec.kinds, strict=True))
    lit_nights(at_half)
    at_half.pool_population(max(rec.end for rec in recorded) + 3600.0)
    assert not np.array_equal(at_half.table.to_arrays()["threshold"], theirs["threshold"])
    assert at_half.table.view("lit_ok").tolist() == [False] * 4


def learned(budget: float) -> LearnedDetector:
    """The learned detector as the curve runs it at `budget` (the daily note off)."""
    detector = curve.Learned(SETTINGS, 1, budget)(TZ)
    assert isinstance(detector, LearnedDetector)
    return detector


def lit_nights(detector: LearnedDetector) -> None:
    """32 nights seen at 01:00 in every home (the rings `detector.lights` keeps), one of them
    lit in the last home: the community lit 1 night in 128."""
    t = detector.table
    t.ring_dark[: len(t)] = 0xFFFFFFFF
    t.ring_dark[len(t) - 1], t.ring_lit[len(t) - 1] = 0xFFFFFFFE, 1
