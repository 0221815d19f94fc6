"""Evaluating detectors on the three kinds of homes, each to a {detector: [HomeResult]} map."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from zoneinfo import ZoneInfo

from detector.base import Detector
from detector.evaluation import curve
from detector.evaluation.recordings import Recording
from detector.evaluation.replay import HomeResult, injection_moments, replay
from detector.evaluation.simulated import Scenario, SimOutcome
from detector.evaluation.simulated import run as run_simulated
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
               ) -> dict[str, list[HomeResult]]:
    """Every detector over every recorded home, with `inject` cuts per home."""
    results: dict[str, list[HomeResult]] = {name: [] for name in factories}
    for n, home in enumerate(homes):
        moments = injection_moments(home, inject, seed=seed + n, learning_days=learning_days)
        for name, make in factories.items():
            progress(f"{home.home_id}: {name} ({len(home.ts):,} signs, {len(moments)} cuts)")
            results[name].append(replay(lambda r, make=make: make(r.tz), home,  # type: ignore[misc]
                                        learning_days=learning_days, injections=moments,
                                        tick_s=tick_s))
    return results


def recordings_in(pool: Executor, factories: dict[str, Factory], homes: list[Recording], *,
                  inject: int, seed: int, learning_days: float, tick_s: float,
                  ) -> dict[str, Future[dict[str, list[HomeResult]]]]:
    """`recordings`, one detector per task of `pool` (the factories must pickle)."""
    return {name: pool.submit(recordings, {name: make}, homes, inject=inject, seed=seed,
                              learning_days=learning_days, tick_s=tick_s)
            for name, make in factories.items()}


def simulated(factories: dict[str, Factory], scenario: Scenario,
              settings: DetectorSettings) -> SimOutcome:
    return run_simulated(scenario, dict(factories), settings)
