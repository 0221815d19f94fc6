"""One suite, every detector: what any detector must do, whatever it learns."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest

from detector.base import Detector
from detector.learned import LearnedDetector
from detector.rules import FixedRules
from shouwang.domain.alerts import AlertKind, Severity
from shouwang.settings import DetectorSettings, LearnedSettings
from simulator.incidents import Incident, IncidentKind
from tests.unit.detector.helpers import DAY, START, TZ, at, replay, routine, simulated

# The learned detector spends its budget of false alerts (by default one per household-month)
# on the rarest silences; a short test cannot tell that budget from a fault. Here it runs at a
# quieter setting a community may choose, a quarter of that, so that a normal week of a few
# homes should raise nothing at all (the evaluation measures the default budget).
QUIET = DetectorSettings(learned=LearnedSettings(false_alerts_per_month=0.25))
DETECTORS: dict[str, Callable[[int], Detector]] = {
    "learned": lambda seed: LearnedDetector(QUIET, TZ, seed=seed),
    "fixed-12h": lambda seed: FixedRules(DetectorSettings(), TZ, seed=seed),
}
WELFARE = {AlertKind.INACTIVITY, AlertKind.NO_WATER}


@pytest.fixture(params=sorted(DETECTORS))
def make(request: pytest.FixtureRequest) -> Callable[[int], Detector]:
    return DETECTORS[request.param]


def _summary(found: list) -> list[tuple]:  # type: ignore[type-arg]
    return [(now, f.household_id, f.kind, f.since, f.explanation) for now, f in found]


def test_learning_does_not_change_the_signs_it_is_given(make: Callable[[int], Detector]) -> None:
    signs = list(routine("h-1", days=10, seed=1))
    before = copy.deepcopy(signs)
    make(0).learn(signs)
    assert signs == before


def test_the_same_seed_gives_the_same_findings(make: Callable[[int], Detector]) -> None:
    households, events = simulated(2, 18, 3)
    runs = [replay(make(7), households, events, until=START + 18 * DAY,
                   judge_from=START + 14 * DAY) for _ in range(2)]
    assert _summary(runs[0]) == _summary(runs[1])


def test_state_survives_a_pickle_round_trip(make: Callable[[int], Detector]) -> None:
    households, events = simulated(2, 18, 3)
    halfway = [e for e in events if e[0] <= START + 16 * DAY]
    rest = [e for e in events if e[0] > START + 16 * DAY]
    detector = make(0)
    replay(detector, households, halfway, until=START + 16 * DAY, judge_from=START + 15 * DAY)
    thawed = pickle.loads(pickle.dumps(detector))
    after = [replay(d, households, rest, until=START + 18 * DAY, judge_from=START + 16 * DAY)
             for d in (detector, thawed)]
    assert _summary(after[0]) == _summary(after[1])


def test_nothing_alerts_during_a_normal_simulated_week(make: Callable[[int], Detector]) -> None:
    households, events = simulated(2, 21, 11)
    found = replay(make(0), households, events, until=START + 21 * DAY,
                   judge_from=START + 14 * DAY)
    urgent = [(now, f.explanation) for now, f in found if f.severity is not Severity.NOTE]
    assert urgent == []


def test_an_injected_incapacitation_alerts(make: Callable[[int], Detector]) -> None:
    down_at = at(16, 10.0)
    incident = Incident("sim-0001", IncidentKind.INCAPACITATION, down_at, down_at + DAY)
    households, events = simulated(2, 18, 11, (incident,))
    found = replay(make(0), households, events, until=down_at + 13 * 3600,
                   judge_from=START + 14 * DAY)
    caught = [now for now, f in found if f.household_id == "sim-0001" and f.kind in WELFARE]
    assert caught, "the incapacitation was never noticed"
    assert down_at < min(caught) <= down_at + 12.5 * 3600
