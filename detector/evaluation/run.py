"""Evaluating detectors on the three kinds of homes, each to a {detector: [HomeResult]} map."""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import Executor, Future
from zoneinfo import ZoneInfo

from detector.base import Detector
from detector.evaluation import curve
from detector.evaluation.recordings import Recording
from detector.evaluation.replay import HomeResult, injection_moments, replay, replay_budgets
from detector.evaluation.simulated import Scenario, SimOutcome
from detector.evaluation.simulated import run as run_simulated
from detector.learned import LearnedDetector
from detector.limits import Population
from shouwang.settings import DetectorSettings

Factory = Callable[[ZoneInfo], Detector]


def detectors(settings: DetectorSettings, *, seed: int,
              budgets: tuple[float, ...] = ()) -> dict[str, Factory]:
    """The detectors compared: the learned one and the fixed 12-hour rule used in practice, and
    the learned one at each of `budgets` (its operating curve)."""
    return dict(curve.factories(settings, seed=seed, budgets=budgets))


def recordings(factories: dict[str, Factory], homes: list[Recording], *, inject: int,
               seed: int, learning_days: float, tick_s: float,
               progress: Callable[[str], None] = lambda _: None,
               priors: dict[str, Population] | None = None,
               ) -> dict[str, list[HomeResult]]:
    """Every detector over every recorded home, with `inject` cuts per home; with `priors`
    (`community_priors`), a learned detector judges each home with that home's prior. The
    learned detector's extra budgets (`curve.budget_groups`) are replayed together, as copies of
    each home in one detector (`replay_budgets`): the same results for a fraction of the time."""
    results: dict[str, list[HomeResult]] = {name: [] for name in factories}
    for n, home in enumerate(homes):
        moments = injection_moments(home, inject, seed=seed + n, learning_days=learning_days)
        prior = (priors or {}).get(home.home_id)
        for group in curve.budget_groups(factories):
            first = next(iter(group.values()))
            progress(f"{home.home_id}: {', '.join(group)} ({len(home.ts):,} signs, "
                     f"{len(moments)} cuts)")
            if len(group) == 1:
                made = [replay(lambda r, make=first, prior=prior: _joined(make(r.tz), prior),  # type: ignore[misc]
                               home, learning_days=learning_days, injections=moments,
                               tick_s=tick_s)]
            else:
                budgets = {name: float(make.budget) for name, make in group.items()}
                made = replay_budgets(
                    lambda r, make=first, prior=prior: _joined(make(r.tz), prior, fixed=True),  # type: ignore[misc]
                    home, budgets, learning_days=learning_days, injections=moments, tick_s=tick_s)
            for name, result in zip(group, made, strict=True):
                result.detector = name
                results[name].append(result)
    return results


def recordings_in(pool: Executor, factories: dict[str, Factory], homes: list[Recording], *,
                  inject: int, seed: int, learning_days: float, tick_s: float,
                  priors: dict[str, Population] | None = None,
                  ) -> dict[str, Future[dict[str, list[HomeResult]]]]:
    """`recordings`, one task of `pool` per group of `curve.budget_groups` (the factories must
    pickle); each detector's name maps to its group's task."""
    futures: dict[str, Future[dict[str, list[HomeResult]]]] = {}
    for group in curve.budget_groups(factories):
        future = pool.submit(recordings, group, homes, inject=inject, seed=seed,
                             learning_days=learning_days, tick_s=tick_s, priors=priors)
        futures |= dict.fromkeys(group, future)
    return futures


def community_priors(settings: DetectorSettings, homes: list[Recording], *, seed: int,
                     progress: Callable[[str], None] = lambda _: None) -> dict[str, Population]:
    """Each home's population prior pooled from the others (`detector.evaluation.community`)."""
    from detector.evaluation import community

    return community.priors(community.learned_factory(settings, seed=seed), homes, progress)


def _joined(detector: Detector, prior: Population | None, *, fixed: bool = False) -> Detector:
    if isinstance(detector, LearnedDetector):
        if prior is not None:
            detector.use_population(copy.deepcopy(prior))
        if fixed:
            detector.fix_population()
    return detector


def simulated(factories: dict[str, Factory], scenario: Scenario,
              settings: DetectorSettings) -> SimOutcome:
    return run_simulated(scenario, dict(factories), settings)


def simulated_in(pool: Executor, factories: dict[str, Factory], scenario: Scenario,
                 settings: DetectorSettings, *, parts: int) -> list[Future[SimOutcome]]:
    """`simulated` with the detectors dealt into `parts` tasks of `pool` (the factories must
    pickle). Each task simulates the population itself: the simulator costs about what one
    detector does, so a part should hold several detectors."""
    names = list(factories)
    groups = [names[k::parts] for k in range(max(1, min(parts, len(names))))]
    return [pool.submit(simulated, {name: factories[name] for name in group}, scenario, settings)
            for group in groups]


def merged(outcomes: list[SimOutcome]) -> SimOutcome:
    """The outcomes of `simulated_in`'s parts as one (each detector's from its own part)."""
    whole = SimOutcome(kinds=outcomes[0].kinds if outcomes else {})
    for part in outcomes:
        whole.homes |= part.homes
        whole.extra |= part.extra
    return whole
