"""Colour suggestions: genuine alerts piling up suggest a hotter colour; a person decides."""

from __future__ import annotations

import pytest

from shouwang.domain.alerts import Alert, AlertKind, AlertState, Outcome, Severity
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.domain.tier_advice import advisees, check_tier_change, genuine, may_change_tier, suggest

NOW = 1_790_000_000.0
DAY = 86400.0
YELLOW = Household("hh-1", Tier.YELLOW, "g-01", caseworker_id=3)
WINDOW = 30 * DAY


def closed(id_: int, outcome: Outcome, *, days_ago: float, household: str = "hh-1") -> Alert:
    opened = NOW - days_ago * DAY
    return Alert(id_, household, AlertKind.INACTIVITY, AlertState.RESOLVED, Severity.URGENT, opened,
                 opened - 3600, "quiet", resolved_at=opened + 1800, resolved_by=1, outcome=outcome)


def test_only_alerts_closed_having_found_a_need_are_genuine() -> None:
    found = {o: genuine(closed(1, o, days_ago=1)) for o in Outcome}
    assert [o for o, g in found.items() if g] == [Outcome.ELDER_FINE, Outcome.NEEDED_HELP,
                                                 Outcome.HOSPITALISED, Outcome.DIED]
    still_open = Alert(2, "hh-1", AlertKind.INACTIVITY, AlertState.OPEN, Severity.URGENT, NOW, NOW, "quiet")
    assert not genuine(still_open)


def test_three_genuine_alerts_in_thirty_days_suggest_the_next_hotter_colour() -> None:
    alerts = [closed(1, Outcome.NEEDED_HELP, days_ago=20), closed(2, Outcome.ELDER_FINE, days_ago=9),
              closed(3, Outcome.HOSPITALISED, days_ago=2), closed(4, Outcome.FALSE_ALARM, days_ago=1),
              closed(5, Outcome.NEEDED_HELP, days_ago=1, household="hh-2")]
    found = suggest(YELLOW, alerts, threshold=3, window_s=WINDOW, after=None, now=NOW)
    assert found is not None
    assert (found.from_tier, found.to_tier, found.alert_ids) == (Tier.YELLOW, Tier.ORANGE, (1, 2, 3))


def test_false_alarms_device_faults_and_old_alerts_do_not_count() -> None:
    alerts = [closed(1, Outcome.NEEDED_HELP, days_ago=40), closed(2, Outcome.DEVICE_FAULT, days_ago=9),
              closed(3, Outcome.WAS_AWAY, days_ago=3), closed(4, Outcome.CLEARED_ITSELF, days_ago=2),
              closed(5, Outcome.ELDER_FINE, days_ago=1), closed(6, Outcome.ELDER_FINE, days_ago=1)]
    assert suggest(YELLOW, alerts, threshold=3, window_s=WINDOW, after=None, now=NOW) is None


def test_a_declined_suggestion_is_not_made_again_on_the_same_alerts() -> None:
    alerts = [closed(i, Outcome.NEEDED_HELP, days_ago=10 - i) for i in range(1, 5)]
    assert suggest(YELLOW, alerts, threshold=3, window_s=WINDOW, after=NOW - 5 * DAY, now=NOW) is None
    assert suggest(YELLOW, alerts, threshold=3, window_s=WINDOW, after=NOW - 8.5 * DAY, now=NOW) is not None


def test_nothing_is_hotter_than_red() -> None:
    red = Household("hh-1", Tier.RED, "g-01")
    alerts = [closed(i, Outcome.NEEDED_HELP, days_ago=i) for i in range(1, 6)]
    assert suggest(red, alerts, threshold=3, window_s=WINDOW, after=None, now=NOW) is None


def test_the_household_staff_may_raise_a_colour_and_only_leaders_lower_it() -> None:
    member = Staff(1, "m", "m", Role.GRID_MEMBER, frozenset({"g-01"}))
    leader = Staff(2, "l", "l", Role.DUTY_LEADER)
    volunteer = Staff(4, "v", "v", Role.VOLUNTEER, household_ids=frozenset({"hh-1"}))
    assert may_change_tier(member, YELLOW, Tier.ORANGE)
    assert not may_change_tier(member, YELLOW, Tier.BLUE)
    assert may_change_tier(leader, YELLOW, Tier.GREEN)
    assert not may_change_tier(volunteer, YELLOW, Tier.RED)


def test_a_colour_change_needs_a_reason_and_a_change() -> None:
    with pytest.raises(InvalidInput, match="reason"):
        check_tier_change(YELLOW, Tier.ORANGE, "  ")
    with pytest.raises(InvalidInput, match="already yellow"):
        check_tier_change(YELLOW, Tier.YELLOW, "why not")
    check_tier_change(YELLOW, Tier.ORANGE, "three falls this month")


def test_the_suggestion_goes_to_the_caseworker_else_the_grid_members() -> None:
    caseworker = Staff(3, "c", "c", Role.CASEWORKER)
    member = Staff(1, "m", "m", Role.GRID_MEMBER, frozenset({"g-01"}))
    assert advisees(YELLOW, [member, caseworker]) == [caseworker]
    assert advisees(Household("hh-9", Tier.GREEN, "g-01"), [member, caseworker]) == [member]
