"""Ladders as data: parsing a community's ladders, choosing one, and who it really calls."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from dispatch import ladders
from dispatch.ladders import LadderPolicy, Step, rung
from shouwang.domain.alerts import AlertKind
from shouwang.domain.cover import Cover, DutySlot, FamilyContact, Leave
from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.settings import DEFAULT_LADDERS_MIN, DispatchSettings

MEMBER = Staff(1, "wang", "王", Role.GRID_MEMBER, frozenset({"g-a"}))
OTHER_MEMBER = Staff(2, "li", "李", Role.GRID_MEMBER, frozenset({"g-b"}))
HEAD = Staff(3, "zhao", "赵", Role.GRID_HEAD, frozenset({"g-a"}))
CASEWORKER = Staff(4, "chen", "陈", Role.CASEWORKER)
DAY_LEADER = Staff(5, "sun", "孙", Role.DUTY_LEADER)
NIGHT_LEADER = Staff(6, "zhou", "周", Role.DUTY_LEADER)
ROSTER = [MEMBER, OTHER_MEMBER, HEAD, CASEWORKER, DAY_LEADER, NIGHT_LEADER]
RED = Household("hh-1", Tier.RED, "g-a", caseworker_id=4)
GREEN = Household("hh-2", Tier.GREEN, "g-a")
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-30, local time in Shanghai
MONDAY_10 = datetime(2026, 11, 30, 10, tzinfo=SHANGHAI).timestamp()
MONDAY_23 = datetime(2026, 11, 30, 23, tzinfo=SHANGHAI).timestamp()
TUESDAY_03 = datetime(2026, 12, 1, 3, tzinfo=SHANGHAI).timestamp()
# Day duty Monday 8-18 for sun, night duty Monday 18 → Tuesday 8 for zhou
WEEK = Cover((DutySlot(5, 0, 8, 18), DutySlot(6, 0, 18, 8)), (), SHANGHAI)


def ids(r: ladders.Rung) -> list[int]:
    return [c.staff.id for c in r.staff]


def default_policy() -> LadderPolicy:
    return LadderPolicy.of(DispatchSettings())


def test_the_default_ladders_are_todays_for_every_colour() -> None:
    policy = default_policy()
    red = policy.ladder(Tier.RED, AlertKind.INACTIVITY)
    assert red.steps == (Step(0.0, ("grid_member", "caseworker")), Step(300.0, ("grid_head",)),
                         Step(900.0, ("duty_leader",)))
    assert red.remind_every_s is None
    for tier in Tier:
        assert policy.ladder(tier, AlertKind.WATER_RUNNING).waits_s == tuple(
            60.0 * w for w in DEFAULT_LADDERS_MIN[tier.colour])


def test_the_help_button_reaches_the_first_step_and_the_grid_head_at_once_and_reminds_every_minute() -> None:
    ladder = default_policy().ladder(Tier.GREEN, AlertKind.HELP)
    assert ladder.remind_every_s == 60.0
    assert ids(rung(0, ladder, GREEN, ROSTER)) == [1, 3]
    assert ids(rung(0, default_policy().ladder(Tier.RED, AlertKind.HELP), RED, ROSTER)) == [1, 3, 4]


def test_a_community_changes_a_colours_ladder_in_its_settings() -> None:
    settings = DispatchSettings.model_validate({"ladders": {"green": {
        "steps": [{"who": ["grid_member"]}, {"after_min": 60, "who": ["staff:chen", "family"]}],
        "remind_every_min": 20}}})
    policy = LadderPolicy.of(settings)
    green = policy.ladder(Tier.GREEN, AlertKind.INACTIVITY)
    assert green.waits_s == (3600.0,) and green.remind_every_s == 1200.0
    assert ids(rung(1, green, GREEN, ROSTER)) == [4]
    assert policy.ladder(Tier.RED, AlertKind.INACTIVITY).waits_s == (300.0, 900.0)  # others unchanged
    # The help button keeps its own urgent ladder where only the colour's was changed.
    assert policy.ladder(Tier.GREEN, AlertKind.HELP).remind_every_s == 60.0


def test_the_most_specific_ladder_wins() -> None:
    step = {"who": ["grid_head"]}
    settings = DispatchSettings.model_validate({"ladders": {
        "red": {"steps": [step], "remind_every_min": 1}, "gas_running": {"steps": [step], "remind_every_min": 2},
        "red.gas_running": {"steps": [step], "remind_every_min": 3}}})
    policy = LadderPolicy.of(settings)
    assert policy.ladder(Tier.RED, AlertKind.GAS_RUNNING).remind_every_s == 180
    assert policy.ladder(Tier.BLUE, AlertKind.GAS_RUNNING).remind_every_s == 120
    assert policy.ladder(Tier.RED, AlertKind.INACTIVITY).remind_every_s == 60


@pytest.mark.parametrize(("ladders_setting", "message"), [
    ({"purple": {"steps": [{"who": ["grid_head"]}]}}, "ladder 'purple': 'purple' is neither a colour"),
    ({"red.fire": {"steps": [{"who": ["grid_head"]}]}}, "ladder 'red.fire': unknown alert kind 'fire'"),
    ({"red": {"steps": [{"who": ["neighbour"]}]}}, "unknown recipient 'neighbour'"),
    ({"red": {"steps": [{"who": ["staff:"]}]}}, "unknown recipient 'staff:'"),
    ({"red": {"steps": [{"after_min": 5, "who": ["grid_head"]}]}}, "the first step is told at once"),
    ({"red": {"steps": []}}, "at least 1 item"),
    ({"red": {"steps": [{"who": ["grid_head"]}], "remind_every_min": 0}}, "greater than 0"),
    ({"red": {"steps": [{"who": ["grid_head"], "wait": 3}]}}, "Extra inputs are not permitted"),
])
def test_a_bad_ladder_is_refused_naming_the_entry(ladders_setting: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DispatchSettings.model_validate({"ladders": ladders_setting})
    assert message in str(caught.value)


def test_the_roster_decides_which_duty_leader_is_called_day_and_night() -> None:
    ladder = default_policy().ladder(Tier.RED, AlertKind.INACTIVITY)
    assert ids(rung(2, ladder, RED, ROSTER, cover=WEEK, at=MONDAY_10)) == [5]
    assert ids(rung(2, ladder, RED, ROSTER, cover=WEEK, at=MONDAY_23)) == [6]
    assert ids(rung(2, ladder, RED, ROSTER, cover=WEEK, at=TUESDAY_03)) == [6]
    # An hour the roster leaves open calls every duty leader rather than none.
    tuesday_10 = datetime(2026, 12, 1, 10, tzinfo=SHANGHAI).timestamp()
    assert ids(rung(2, ladder, RED, ROSTER, cover=WEEK, at=tuesday_10)) == [5, 6]


def test_someone_on_leave_is_replaced_by_their_deputy() -> None:
    cover = Cover(WEEK.slots, (Leave(1, MONDAY_10 - 3600, MONDAY_10 + 3600, deputy_id=2),), SHANGHAI)
    first = rung(0, default_policy().ladder(Tier.RED, AlertKind.INACTIVITY), RED, ROSTER, cover=cover,
                 at=MONDAY_10)
    assert ids(first) == [2, 4]
    assert first.staff[0].why == "deputy for wang (on leave)"
    # After the leave, the member is back.
    back = rung(0, default_policy().ladder(Tier.RED, AlertKind.INACTIVITY), RED, ROSTER, cover=cover,
                at=MONDAY_10 + 3600)
    assert ids(back) == [1, 4]


def test_leave_without_a_deputy_goes_to_the_duty_leader_on_duty() -> None:
    cover = Cover(WEEK.slots, (Leave(1, MONDAY_10 - 3600, MONDAY_23 + 3600),), SHANGHAI)
    ladder = default_policy().ladder(Tier.GREEN, AlertKind.INACTIVITY)
    assert ids(rung(0, ladder, GREEN, ROSTER, cover=cover, at=MONDAY_10)) == [5]
    assert ids(rung(0, ladder, GREEN, ROSTER, cover=cover, at=MONDAY_23)) == [6]
    assert "for wang (on leave, no deputy)" in rung(0, ladder, GREEN, ROSTER, cover=cover, at=MONDAY_10).staff[0].why


def test_a_deputy_on_leave_hands_on_to_their_own_deputy_and_a_loop_ends() -> None:
    ladder = default_policy().ladder(Tier.GREEN, AlertKind.INACTIVITY)
    chain = Cover((), (Leave(1, 0, 2e9, deputy_id=2), Leave(2, 0, 2e9, deputy_id=3)), UTC)
    assert ids(rung(0, ladder, GREEN, ROSTER, cover=chain, at=MONDAY_10)) == [3]
    loop = Cover((), (Leave(1, 0, 2e9, deputy_id=2), Leave(2, 0, 2e9, deputy_id=1)), UTC)
    assert ids(rung(0, ladder, GREEN, ROSTER, cover=loop, at=MONDAY_10)) == [5, 6]


def test_a_duty_leader_on_leave_hands_over_to_their_deputy() -> None:
    cover = Cover(WEEK.slots, (Leave(5, 0, 2e9, deputy_id=3),), SHANGHAI)
    ladder = default_policy().ladder(Tier.GREEN, AlertKind.INACTIVITY)
    assert ids(rung(2, ladder, GREEN, ROSTER, cover=cover, at=MONDAY_10)) == [3]


def test_family_stand_at_their_chosen_step_or_where_the_ladder_names_family() -> None:
    daughter = FamilyContact(1, "hh-2", "王小红", "daughter", "webhook", "https://example.org/h",
                             "王小红", 0.0, step=1)
    son = FamilyContact(2, "hh-2", "王小明", "son", "webhook", "https://example.org/s", "王小明", 0.0)
    ladder = default_policy().ladder(Tier.GREEN, AlertKind.INACTIVITY)
    assert [c.id for c in rung(1, ladder, GREEN, ROSTER, contacts=[daughter, son]).family] == [1]
    named = LadderPolicy.of(DispatchSettings.model_validate({"ladders": {"green": {"steps": [
        {"who": ["grid_member"]}, {"after_min": 30, "who": ["family"]}]}}})).ladder(Tier.GREEN, AlertKind.INACTIVITY)
    assert [c.id for c in rung(1, named, GREEN, ROSTER, contacts=[daughter, son]).family] == [1, 2]
    assert rung(1, named, GREEN, ROSTER, contacts=[daughter, son]).staff == ()


def test_a_step_with_nobody_falls_through_and_an_empty_ladder_reaches_the_admins() -> None:
    admin = Staff(9, "ad", "AD", Role.ADMIN)
    lonely = Household("hh-9", Tier.GREEN, "g-z")
    ladder = default_policy().ladder(Tier.GREEN, AlertKind.INACTIVITY)
    assert rung(0, ladder, lonely, ROSTER).step == 2
    alone = rung(0, ladder, lonely, [MEMBER, admin])
    assert (alone.step, ids(alone)) == (None, [9])


def test_gaps_in_cover_name_the_open_hours_and_the_leave_without_a_deputy() -> None:
    from dispatch import gaps as policy

    cover = Cover((DutySlot(5, 0, 8, 18), DutySlot(6, 0, 18, 8), DutySlot(5, 1, 8, 24)),
                  (Leave(1, MONDAY_10, MONDAY_23), Leave(3, MONDAY_10, MONDAY_23, deputy_id=2)), SHANGHAI)
    gaps = policy.cover_gaps(default_policy(), [RED], ROSTER, cover, now=MONDAY_10,
                             date=lambda ts: datetime.fromtimestamp(ts, SHANGHAI).strftime("%m-%d %H:%M"))
    assert gaps[0].en == ("the duty roster has nobody on duty wed 00:00–mon 08:00: escalations then reach "
                          "every duty leader (`shouwang roster add USER DAY FROM-TO`)")
    assert gaps[0].zh == ("值班表在 周三 00:00–周一 08:00 无人值班：这些时段的升级会通知所有值班领导"
                          "（`shouwang roster add USER DAY FROM-TO`）")
    assert gaps[1].en.startswith("wang is on leave 11-30 10:00 to 11-30 23:00 with no deputy")
    assert gaps[1].zh.startswith("wang 休假（11-30 10:00 至 11-30 23:00）且没有代班人")
    assert len(gaps) == 2
    named = LadderPolicy.of(DispatchSettings.model_validate(
        {"ladders": {"red": {"steps": [{"who": ["staff:nobody"]}]}}}))
    assert [g.en for g in policy.cover_gaps(named, [RED], ROSTER, Cover(), now=0, date=str)] == [
        "a ladder in the settings names staff:nobody, who is not active staff: that step calls the "
        "others on it, or falls through"]


def test_open_roster_hours_are_said_as_ranges() -> None:
    from dispatch.gaps import hour_ranges

    assert hour_ranges([0, 1, 2, 26]) == ["mon 00:00–03:00", "tue 02:00–03:00"]
    assert hour_ranges([22, 23, 24, 25]) == ["mon 22:00–tue 02:00"]
    assert hour_ranges([167, 0, 1]) == ["sun 23:00–mon 02:00"]
    assert hour_ranges([167, 0, 1, 30], "zh") == ["周日 23:00–周一 02:00", "周二 06:00–07:00"]
    assert hour_ranges([23]) == ["mon 23:00–tue 00:00"]
    # found by a tester: a roster with nobody active read "nobody on duty mon 00:00–mon 00:00"
    assert (hour_ranges(range(168)), hour_ranges(range(168), "zh")) == (["all week"], ["全周"])
