import pytest

from shouwang.domain.alerts import (
    Alert,
    AlertKind,
    AlertState,
    Outcome,
    Severity,
    acknowledge,
    clears_itself,
    escalate,
    resolve,
)
from shouwang.domain.errors import AlertAlreadyResolved, Conflict, InvalidInput

OPEN = Alert(1, "hh-1", AlertKind.INACTIVITY, AlertState.OPEN, Severity.URGENT, 100.0, 50.0,
             "quiet", next_escalation_at=400.0)


def test_acknowledging_stops_escalation() -> None:
    taken = acknowledge(OPEN, staff_id=7, now=200.0)
    assert (taken.state, taken.acknowledged_by, taken.next_escalation_at) == (
        AlertState.ACKNOWLEDGED, 7, None)
    assert not clears_itself(taken)


def test_acknowledging_twice_keeps_the_first() -> None:
    taken = acknowledge(OPEN, staff_id=7, now=200.0)
    assert acknowledge(taken, staff_id=8, now=300.0) is taken


def test_a_resolved_alert_cannot_be_acknowledged_or_resolved_again() -> None:
    done = resolve(OPEN, staff_id=7, outcome=Outcome.ELDER_FINE, note=None, now=200.0)
    with pytest.raises(AlertAlreadyResolved):
        acknowledge(done, staff_id=7, now=300.0)
    with pytest.raises(AlertAlreadyResolved):
        resolve(done, staff_id=7, outcome=Outcome.FALSE_ALARM, note=None, now=300.0)


def test_only_the_system_says_an_alert_cleared_itself() -> None:
    with pytest.raises(InvalidInput):
        resolve(OPEN, staff_id=7, outcome=Outcome.CLEARED_ITSELF, note=None, now=200.0)
    cleared = resolve(OPEN, staff_id=None, outcome=Outcome.CLEARED_ITSELF, note="x", now=200.0)
    assert cleared.state is AlertState.RESOLVED


def test_escalation_climbs_the_ladder_then_stops() -> None:
    first = escalate(OPEN, waits_s=(300.0, 900.0), now=400.0)
    assert (first.escalation_level, first.next_escalation_at) == (1, 1300.0)
    top = escalate(first, waits_s=(300.0, 900.0), now=1300.0)
    assert (top.escalation_level, top.next_escalation_at) == (2, None)


def test_an_acknowledged_alert_does_not_escalate() -> None:
    with pytest.raises(Conflict):
        escalate(acknowledge(OPEN, staff_id=7, now=200.0), waits_s=(300.0,), now=400.0)
