"""Recorded homes replayed as one community: each home's prior comes from the others only."""

from __future__ import annotations

import numpy as np

from detector.evaluation import community
from detector.evaluation.recordings import Recording
from detector.evaluation.run import community_priors, detectors, recordings
from detector.learned import LearnedDetector
from detector.nights import DEFAULT_WAKE_H
from detector.rhythm import DEFAULT_DAY_PRIOR
from detector.signs import SignKind
from shouwang.settings import DetectorSettings
from tests.unit.detector.helpers import TZ, at

SETTINGS = DetectorSettings()
MAKE = community.learned_factory(SETTINGS, seed=1)


def home(home_id: str, *, wake: float, bed: float, seed: int, days: int = 12) -> Recording:
    """A regular home: busy on getting up, steady uses in the day, a last use at bedtime."""
    rng = np.random.default_rng(seed)
    times: list[float] = []
    for day in range(days):
        up = wake + rng.normal(0, 0.2)
        hours = [up, up + 0.2, up + 0.5, *rng.uniform(up + 1, bed, size=rng.poisson(18)), bed]
        times += [at(day, float(h)) for h in sorted(hours)]
    kinds = [SignKind.WATER if rng.random() < 0.6 else SignKind.ELECTRICITY for _ in times]
    return Recording(home_id, TZ, np.array(times), kinds)


def late_risers(n: int) -> list[Recording]:
    return [home(f"late-{k}", wake=9.5, bed=23.5, seed=k) for k in range(n)]


def test_a_home_alone_gets_the_built_in_profile() -> None:
    [prior] = community.priors(MAKE, [home("early", wake=6.0, bed=21.0, seed=9)]).values()
    assert np.allclose(prior.day_prior, DEFAULT_DAY_PRIOR)
    assert np.isnan(prior.threshold).all() and np.isnan(prior.wake_h)
    assert prior.households == 0


def test_fewer_than_three_others_leave_the_built_in_profile() -> None:
    priors = community.priors(MAKE, late_risers(3))
    assert all(p.households == 0 and np.isnan(p.wake_h) for p in priors.values())


def test_with_others_a_homes_cold_start_limits_move_toward_theirs() -> None:
    early = home("early", wake=6.0, bed=21.0, seed=9)
    priors = community.priors(MAKE, [early, *late_risers(3)])
    prior = priors["early"]
    assert prior.households == 3
    assert 9.0 < prior.wake_h < 10.0  # the late risers' getting up, not the built-in 07:00-ish
    assert abs(prior.wake_h - DEFAULT_WAKE_H) > 1.5
    assert np.isfinite(prior.threshold[:2]).all()
    # the hour-of-day rhythm is theirs: nothing at 07:00 (they are asleep), busy at 22:00
    assert prior.day_prior[7] < DEFAULT_DAY_PRIOR[7] / 2
    assert prior.day_prior[22] > DEFAULT_DAY_PRIOR[22]
    # a detector joining with it starts a new home at the community's limits, not the defaults
    detector = LearnedDetector(SETTINGS, TZ)
    detector.use_population(prior)
    i = detector.row("newcomer")
    assert detector.table.wake_h[i] == np.float32(prior.wake_h)
    assert np.allclose(detector.table.threshold[i, :2],
                       np.clip(prior.threshold[:2], SETTINGS.learned.min_threshold,
                               SETTINGS.learned.max_threshold))


def test_a_homes_prior_never_includes_its_own_data() -> None:
    others = late_risers(3)
    a = community.priors(MAKE, [home("x", wake=6.0, bed=21.0, seed=9), *others])["x"]
    b = community.priors(MAKE, [home("x", wake=11.0, bed=23.9, seed=4, days=20), *others])["x"]
    fields = ("wake_h", "bed_h", "wake_limit_h", "night_h", "outing_h", "households")
    assert np.array_equal([getattr(a, f) for f in fields], [getattr(b, f) for f in fields],
                          equal_nan=True)
    assert np.array_equal(a.day_prior, b.day_prior)
    assert np.array_equal(a.threshold, b.threshold, equal_nan=True)


def test_the_replay_judges_each_home_with_its_community_prior() -> None:
    homes = [home("early", wake=6.0, bed=21.0, seed=9, days=6), *late_risers(3)]
    priors = community_priors(SETTINGS, homes, seed=1)
    factories = detectors(SETTINGS, seed=1)
    alone = recordings(factories, homes[:1], inject=3, seed=3, learning_days=1, tick_s=1800.0)
    joined = recordings(factories, homes[:1], inject=3, seed=3, learning_days=1, tick_s=1800.0,
                        priors=priors)
    # the 12-hour rule has no prior: the same figures; the learned detector judged differently
    assert alone["fixed-12h"][0].delays_h == joined["fixed-12h"][0].delays_h
    assert alone["learned"][0].delays_h != joined["learned"][0].delays_h
