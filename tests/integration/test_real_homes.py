"""Real recorded homes from ../shared/eval-data (skipped, saying so, when the folder is absent)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from detector.evaluation import eval_data
from detector.evaluation.replay import injection_moments, replay
from detector.learned import LearnedDetector
from detector.rules import FixedRules
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.conftest import EVAL_DATA

pytestmark = pytest.mark.skipif(
    not EVAL_DATA.is_dir(),
    reason=f"no recorded homes at {EVAL_DATA} (../shared/eval-data from the project root)",
)


def test_the_recorded_homes_load_as_signs_of_life_with_their_labels() -> None:
    home = eval_data.ordonez(EVAL_DATA, "A")
    kinds = Counter(k.value for k in home.kinds)
    assert set(kinds) == {"activity", "water", "electricity", "door", "gas"}
    assert np.all(np.diff(home.ts) >= 0)
    assert 13 < (home.end - home.start) / 86400 < 15
    assert Counter(s.label for s in home.labels) == {"sleep": 14, "away": 14}
    kasteren = eval_data.kasteren(EVAL_DATA)
    assert {s.label for s in kasteren.labels} == {"away", "sleep"}


def test_on_a_real_home_the_learned_detector_is_faster_than_the_12_hour_rule() -> None:
    home = eval_data.ordonez(EVAL_DATA, "B")
    moments = injection_moments(home, 8, seed=5, learning_days=7)
    # a generous budget: with a week of history the default 0.5 buys cautious limits
    settings = DetectorSettings(learned=LearnedSettings(false_alerts_per_month=2.0))
    learned = replay(lambda r: LearnedDetector(settings, r.tz), home, learning_days=7,
                     injections=moments)
    fixed = replay(lambda r: FixedRules(settings, r.tz), home, learning_days=7,
                   injections=moments)
    assert all(math.isfinite(d) for d in learned.delays_h)
    assert np.median(learned.delays_h) < np.median(fixed.delays_h) / 2
