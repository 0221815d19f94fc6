"""The operating curve: the learned detector at several budgets beside the 12-hour rule."""

from __future__ import annotations

from typing import Any

import pytest

from detector.evaluation import curve
from detector.evaluation.metrics import by_detector
from detector.evaluation.simulated import Scenario, run
from detector.learned import LearnedDetector
from detector.rules import FixedRules
from shouwang.settings import DetectorSettings
from simulator.routines import KINDS
from tests.unit.detector.helpers import TZ


def _m(median: float | None, rate: float | None, *, false: int = 0) -> dict[str, Any]:
    return {"median_delay_h": median, "p90_delay_h": None if median is None else median * 2,
            "missed": 0, "false_alerts": false, "false_alerts_per_household_month": rate}


def test_there_is_one_detector_per_budget_and_the_configured_one_is_not_run_twice() -> None:
    settings = DetectorSettings()
    made = curve.factories(settings, seed=3, budgets=(0.25, 0.5, 2.0))
    assert list(made) == ["learned", "fixed-12h", "learned@0.25", "learned@2"]
    tight = made["learned@0.25"](TZ)
    assert isinstance(tight, LearnedDetector) and isinstance(made["fixed-12h"](TZ), FixedRules)
    assert tight.settings.learned.false_alerts_per_month == 0.25
    assert made["learned"](TZ).settings.learned.false_alerts_per_month == 0.5  # type: ignore[attr-defined]


def test_the_curve_runs_from_the_lowest_budget_with_the_configured_one_in_its_place() -> None:
    summaries = {"learned": _m(3.0, 0.6), "learned@0.25": _m(4.0, 0.3), "learned@2": _m(2.0, 1.9),
                 "fixed-12h": _m(11.5, 0.9)}
    points = curve.points(summaries, configured=0.5, budgets=(2.0, 0.25, 0.5))
    assert [p["budget"] for p in points] == [0.25, 0.5, 2.0]
    assert [p["median_delay_h"] for p in points] == [4.0, 3.0, 2.0]


def test_at_the_rules_rate_the_fastest_budget_within_it_is_taken() -> None:
    points = curve.points({"learned": _m(3.0, 0.6), "learned@0.25": _m(4.0, 0.3),
                           "learned@2": _m(2.0, 1.9)}, configured=0.5, budgets=(0.25, 2.0))
    best = curve.at_rate(points, 0.9)
    assert best is not None and best["budget"] == 0.5
    assert curve.at_rate(points, 0.3) == points[0]  # a rate met exactly counts
    assert curve.at_rate(points, 0.1) is None


def test_a_curve_below_the_rules_point_dominates_it() -> None:
    summaries = {"learned": _m(3.0, 0.6), "learned@0.25": _m(4.0, 0.3), "fixed-12h": _m(11.5, 0.9)}
    made = curve.of(summaries, configured=0.5, budgets=(0.25,))
    assert made is not None and made["dominates"]
    assert made["at_rule_rate"]["budget"] == 0.5
    text = curve.table("recorded homes", made)
    assert "12-hour rule" in text and "dominates the rule: at budget 0.5" in text


def test_a_curve_whose_every_budget_makes_more_false_alerts_than_the_rule_does_not() -> None:
    summaries = {"learned": _m(3.0, 1.8), "learned@0.25": _m(4.0, 1.6), "fixed-12h": _m(11.2, 0.6)}
    made = curve.of(summaries, configured=0.5, budgets=(0.25,))
    assert made is not None and not made["dominates"] and made["at_rule_rate"] is None
    assert "does NOT dominate" in curve.table("recorded homes", made)


def test_a_curve_as_slow_as_the_rule_at_its_rate_does_not_dominate_it() -> None:
    summaries = {"learned": _m(12.0, 0.2), "fixed-12h": _m(11.9, 0.2)}
    made = curve.of(summaries, configured=0.5, budgets=())
    assert made is not None and not made["dominates"]


def test_markdown_rows_name_each_budget_and_the_rule() -> None:
    made = curve.of({"learned": _m(3.0, 0.6), "fixed-12h": _m(11.5, 0.9, false=9)},
                    configured=0.5, budgets=())
    assert made is not None
    rows = curve.markdown("simulated, seed 11", made).splitlines()
    assert rows == ["| simulated, seed 11 | learned, budget 0.5 | 3.00 | 6.00 | 0 | 0.60 |",
                    "| simulated, seed 11 | **12-hour rule** | 11.50 | 23.00 | 9 | 0.90 |"]


@pytest.mark.slow
def test_on_every_kind_of_routine_the_learned_curve_passes_below_the_rules_point() -> None:
    # a home of each kind of simulator/routines.py, three weeks judged after two of learning
    settings = DetectorSettings()
    scenario = Scenario(homes=len(KINDS), days=35, learning_days=14, seed=11)
    budgets = (0.25,)  # with the configured 0.5: the curve's low end; each budget more costs ~25 s
    outcome = run(scenario, dict(curve.factories(settings, seed=11, budgets=budgets)), settings)
    made = curve.of(by_detector(outcome.homes), configured=0.5, budgets=budgets)
    assert made is not None
    assert made["dominates"], curve.table("simulated kinds", made)
