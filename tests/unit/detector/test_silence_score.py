"""Properties of the silence score: it grows as a silence goes on; sleep is not alarming."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detector.learned import LearnedDetector
from detector.rhythm import cumulative, expected_signs, surprise
from detector.signs import SignKind, SignOfLife
from shouwang.domain.alerts import AlertKind
from shouwang.settings import DetectorSettings
from simulator.population import build_homes
from tests.unit.detector.helpers import DAY, START, TZ, at, replay, routine, simulated

rates = arrays(np.float64, 168, elements=st.floats(0.0, 20.0, allow_nan=False))
hours = st.floats(0.0, 24 * 7 * 3000.0, allow_nan=False)


@given(rates, hours, st.floats(0.0, 500.0), st.floats(0.0, 500.0))
def test_expected_uses_never_fall_as_a_silence_goes_on(rate: np.ndarray, start: float,
                                                       a: float, b: float) -> None:
    cum = cumulative(rate[None, :])
    shorter, longer = sorted((a, b))
    at = np.array([start])
    low = expected_signs(cum, at, at + shorter)
    high = expected_signs(cum, at, at + longer)
    assert high[0] >= low[0] - 1e-6 * max(1.0, high[0])
    assert surprise(high, 2.0)[0] >= surprise(low, 2.0)[0] - 1e-9


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 999), st.floats(7.0, 20.0), st.lists(st.floats(0.0, 40.0), min_size=2,
                                                          max_size=6))
def test_a_households_silence_score_only_grows_until_the_next_sign(
        seed: int, last_hour: float, waits_h: list[float]) -> None:
    detector = LearnedDetector(DetectorSettings(), TZ)
    detector.learn(routine("h-1", 14, seed))
    detector.learn_one(SignOfLife("h-1", at(14, last_hour), SignKind.WATER, "water"))
    scores = [detector.silence_score("h-1", at(14, last_hour) + w * 3600)
              for w in sorted(waits_h)]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(scores))


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.integers(0, 10**6))
def test_sleep_in_the_simulators_routines_is_never_alarming(seed: int) -> None:
    """Two weeks learned, then four days judged: no inactivity alert inside a labelled sleep
    span (the night, or the afternoon nap) of the simulated elder."""
    households, events = simulated(1, 18, seed)
    home = build_homes(households, start=START, tz=TZ, incidents=[])[0]
    found = replay(LearnedDetector(DetectorSettings(), TZ), households, events,
                   until=START + 18 * DAY, judge_from=START + 14 * DAY, tick_s=1200.0)
    for now, finding in found:
        if finding.kind is AlertKind.INACTIVITY:
            asleep = home.plan_at(now)[1]
            assert not any(a <= now < b for a, b in asleep), finding.explanation
