"""The five visits (五色五访): when a household is due, who claimed it, and each overdue period."""

from __future__ import annotations

from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.domain.visits_due import claimants, overdue_for, visit_due, visits_due
from shouwang.settings import CareSettings

NOW = 1_790_000_000.0
HOUR, DAY = 3600.0, 86400.0
EVERY = {t: CareSettings().visit_every_s(t) for t in Tier}

MEMBER = Staff(1, "wang.fang", "王芳", Role.GRID_MEMBER, frozenset({"g-01"}))
HEAD = Staff(2, "zhao.min", "赵敏", Role.GRID_HEAD, frozenset({"g-01"}))
CASEWORKER = Staff(3, "chen.jing", "陈静", Role.CASEWORKER)
VOLUNTEER = Staff(4, "li.lei", "李雷", Role.VOLUNTEER, household_ids=frozenset({"blue"}))
OTHER_MEMBER = Staff(5, "liu.yang", "刘洋", Role.GRID_MEMBER, frozenset({"g-02"}))
ROSTER = [MEMBER, HEAD, CASEWORKER, VOLUNTEER, OTHER_MEMBER]


def home(id_: str, tier: Tier, **more: object) -> Household:
    return Household(id_, tier, more.pop("grid", "g-01"), monitoring_since=NOW - 100 * DAY, **more)  # type: ignore[arg-type]


def test_the_default_cadences_are_daily_weekly_twice_a_month_monthly_quarterly() -> None:
    assert [EVERY[t] / DAY for t in Tier] == [1, 7, 15, 30, 91]


def test_each_colour_is_claimed_by_the_role_the_design_gives_it() -> None:
    assert claimants(home("red", Tier.RED, caseworker_id=3), ROSTER) == [CASEWORKER]
    assert claimants(home("orange", Tier.ORANGE), ROSTER) == [HEAD]
    assert claimants(home("yellow", Tier.YELLOW), ROSTER) == [MEMBER]
    assert claimants(home("blue", Tier.BLUE), ROSTER) == [VOLUNTEER]
    assert claimants(home("green", Tier.GREEN), ROSTER) == [MEMBER]


def test_where_nobody_holds_the_role_the_grid_members_are_reminded() -> None:
    assert claimants(home("red", Tier.RED), ROSTER) == [MEMBER]  # no caseworker claimed it
    assert claimants(home("blue2", Tier.BLUE), ROSTER) == [MEMBER]  # no volunteer visits it
    retired = Staff(3, "chen.jing", "陈静", Role.CASEWORKER, active=False)
    assert claimants(home("red", Tier.RED, caseworker_id=3), [MEMBER, retired]) == [MEMBER]


def test_a_red_household_visited_yesterday_morning_is_overdue_this_morning() -> None:
    due = visit_due(home("red", Tier.RED, caseworker_id=3), NOW - 25 * HOUR, ROSTER,
                    every_s=EVERY[Tier.RED], now=NOW)
    assert due.overdue and due.overdue_s == HOUR and due.period == 1
    assert due.claimed_by == (3,)


def test_a_green_household_visited_last_month_is_not_due_yet() -> None:
    due = visit_due(home("green", Tier.GREEN), NOW - 30 * DAY, ROSTER, every_s=EVERY[Tier.GREEN], now=NOW)
    assert not due.overdue and due.period == 0 and due.due_at == NOW + 61 * DAY


def test_each_further_missed_period_is_a_new_period_so_it_is_reminded_again() -> None:
    red = home("red", Tier.RED, caseworker_id=3)
    periods = [visit_due(red, NOW - 3 * DAY, ROSTER, every_s=DAY, now=NOW + extra).period
               for extra in (-2 * DAY + 1, -DAY + 1, -1, 0, DAY)]
    assert periods == [1, 2, 2, 3, 4]


def test_a_household_never_visited_is_due_a_cadence_after_it_came_under_watch() -> None:
    fresh = Household("new", Tier.ORANGE, "g-01", monitoring_since=NOW - 2 * DAY)
    due = visit_due(fresh, None, ROSTER, every_s=EVERY[Tier.ORANGE], now=NOW)
    assert due.due_at == NOW + 5 * DAY and due.last_visit_at is None


def test_a_worker_sees_only_the_overdue_visits_they_claimed() -> None:
    homes = [home("red", Tier.RED, caseworker_id=3), home("yellow", Tier.YELLOW),
             home("west", Tier.YELLOW, grid="g-02"), Household("gone", Tier.RED, "g-01", retired_at=NOW)]
    dues = visits_due(homes, {}, ROSTER, EVERY, now=NOW)
    assert [d.household_id for d in dues] == ["red", "west", "yellow"]  # the retired one is not due
    assert [d.household_id for d in overdue_for(CASEWORKER, dues)] == ["red"]
    assert [d.household_id for d in overdue_for(MEMBER, dues)] == ["yellow"]
    assert [d.household_id for d in overdue_for(OTHER_MEMBER, dues)] == ["west"]


def test_a_community_may_set_its_own_cadence_by_colour_name_in_either_language() -> None:
    care = CareSettings(visit_every_days={"红": 2, "green": 60})
    assert care.visit_every_s(Tier.RED) == 2 * DAY and care.visit_every_s(Tier.GREEN) == 60 * DAY
    assert care.visit_every_s(Tier.ORANGE) == 7 * DAY
