"""The help button: an urgent alert said in both languages, raised once per press."""

from __future__ import annotations

from detector.help import help_finding, is_help_press, presses_to_raise
from shouwang.domain.alerts import AlertKind, Severity
from shouwang.domain.model import FINE_PRESS, HELP_PRESS, StoredReading
from tests.unit.detector.helpers import TZ, at


def press(ts: float, value: float = HELP_PRESS, household: str = "hh-1") -> StoredReading:
    return StoredReading(household, "h-1", "button", ts, value)


def test_a_help_press_is_urgent_and_says_when_in_both_languages() -> None:
    ts = at(0, 14.0) + 5 * 60
    finding = help_finding(press(ts), TZ, now=ts + 2)
    assert (finding.kind, finding.severity, finding.since) == (AlertKind.HELP, Severity.URGENT, ts)
    assert "the help button was pressed at 14:05" in finding.explanation
    assert finding.explanation_zh is not None and "14:05按下了求助按钮" in finding.explanation_zh


def test_only_help_presses_raise_and_a_fine_press_does_not() -> None:
    assert is_help_press(press(1.0))
    assert not is_help_press(press(1.0, FINE_PRESS))
    assert not is_help_press(StoredReading("hh-1", "h-1", "door", 1.0, 1.0))


def test_a_press_already_answered_is_not_raised_again_and_each_home_gets_its_earliest() -> None:
    presses = [press(30.0), press(20.0), press(10.0), press(25.0, household="hh-2")]
    raised = presses_to_raise(presses, {"hh-1": [10.0]})
    assert sorted((p.household_id, p.ts) for p in raised) == [("hh-1", 20.0), ("hh-2", 25.0)]
    assert presses_to_raise([press(10.0)], {"hh-1": [10.0, 40.0]}) == []


def test_a_press_stamped_before_the_last_help_alert_is_raised() -> None:
    """Found by attackers: a hub whose clock came back behind after a power cut, and one steadily
    behind; the press, older by its stamp than the help alert resolved a moment before, was dropped."""
    assert presses_to_raise([press(5.0)], {"hh-1": [10.0]}) == [press(5.0)]
