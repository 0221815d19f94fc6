from dataclasses import replace

from dispatch import policy
from dispatch.gaps import coverage_gaps
from shouwang.domain.delivery import Channel, backoff_s
from shouwang.domain.model import Household, Role, Staff, Tier

MEMBER_A = Staff(1, "a", "A", Role.GRID_MEMBER, frozenset({"g-a"}), webhook_url="http://x")
MEMBER_B = Staff(2, "b", "B", Role.GRID_MEMBER, frozenset({"g-b"}))
HEAD_A = Staff(3, "ha", "HA", Role.GRID_HEAD, frozenset({"g-a"}))
CASEWORKER = Staff(4, "c", "C", Role.CASEWORKER)
LEADER = Staff(5, "l", "L", Role.DUTY_LEADER)
ADMIN = Staff(7, "admin", "管理员", Role.ADMIN)
ROSTER = [MEMBER_A, MEMBER_B, HEAD_A, CASEWORKER, LEADER, ADMIN]


def ids(people: list[Staff]) -> list[int]:
    return [s.id for s in people]


def test_every_alert_goes_to_the_grid_member() -> None:
    home = Household("hh", Tier.YELLOW, "g-a", caseworker_id=4)
    assert ids(policy.recipients(0, home, ROSTER)) == [1]


def test_a_red_household_also_reaches_its_caseworker() -> None:
    home = Household("hh", Tier.RED, "g-a", caseworker_id=4)
    assert ids(policy.recipients(0, home, ROSTER)) == [1, 4]


def test_escalation_reaches_the_grid_head_then_the_duty_leader() -> None:
    home = Household("hh", Tier.ORANGE, "g-a")
    assert ids(policy.recipients(1, home, ROSTER)) == [3]
    assert ids(policy.recipients(2, home, ROSTER)) == [5]


def test_a_rung_with_nobody_on_it_falls_through_so_someone_is_told() -> None:
    home = Household("hh", Tier.GREEN, "g-b")  # grid b has no head
    assert ids(policy.recipients(1, home, ROSTER)) == [5]
    lonely = Household("hh", Tier.GREEN, "g-z")
    assert ids(policy.recipients(0, lonely, ROSTER)) == [5]


def test_a_ladder_with_nobody_on_it_reaches_the_admins_rather_than_no_one() -> None:
    admin = Staff(6, "ad", "AD", Role.ADMIN)
    lonely = Household("hh", Tier.RED, "g-z")
    assert ids(policy.recipients(0, lonely, [MEMBER_A, admin])) == [6]
    assert ids(policy.recipients(2, lonely, [MEMBER_A, admin])) == [6]
    assert policy.recipients(0, lonely, [MEMBER_A]) == []


def test_a_grid_whose_whole_ladder_is_empty_is_named_with_who_its_alerts_reach() -> None:
    lonely = [Household("hh-3", Tier.GREEN, "g-z")]
    assert any("grid g-z has no grid member, grid head or duty leader: its alerts reach NOBODY" in g.en
               and "网格 g-z 没有网格员、网格长或值班领导：其警报无人接收" in g.zh
               for g in coverage_gaps(lonely, [MEMBER_A]))
    admin = Staff(6, "ad", "AD", Role.ADMIN)
    assert any("reach only the admins (ad)" in g.en and "只通知管理员（ad）" in g.zh
               for g in coverage_gaps(lonely, [MEMBER_A, admin]))


def test_inactive_staff_are_skipped() -> None:
    gone = Staff(1, "a", "A", Role.GRID_MEMBER, frozenset({"g-a"}), active=False)
    home = Household("hh", Tier.BLUE, "g-a")
    assert ids(policy.recipients(0, home, [gone, HEAD_A])) == [3]


def test_channels_follow_what_each_person_set_up() -> None:
    assert policy.channels(MEMBER_A) == [Channel.WEBHOOK, Channel.MQTT]
    assert policy.channels(Staff(9, "q", "Q", Role.GRID_MEMBER, notify_mqtt=False)) == []


def test_backoff_doubles_up_to_a_cap() -> None:
    waits = [backoff_s(n, initial_s=2, max_s=30) for n in range(1, 7)]
    assert waits == [2, 4, 8, 16, 30, 30]


def test_gaps_in_coverage_are_named() -> None:
    homes = [Household("hh-1", Tier.RED, "g-a"), Household("hh-2", Tier.BLUE, "g-z")]
    gaps = coverage_gaps(homes, [MEMBER_A, HEAD_A])
    assert any("no duty leader" in g.en and "尚未登记值班领导" in g.zh for g in gaps)
    assert any("grid g-z has no grid member" in g.en and "网格 g-z 没有网格员" in g.zh for g in gaps)
    assert any("1 red household(s) have no caseworker (or a retired one): hh-1" in g.en
               and "1 户红色户没有社工认领（或认领的社工已离职）：hh-1" in g.zh for g in gaps)
    assert coverage_gaps([Household("hh", Tier.BLUE, "g-a")], ROSTER) == []


def test_a_stored_webhook_that_can_never_be_delivered_to_is_named_at_start() -> None:
    stale = replace(MEMBER_A, username="wang", webhook_url="https://…")
    gaps = [g.en for g in coverage_gaps([Household("hh", Tier.BLUE, "g-a")], [*ROSTER, stale])]
    assert gaps == ["webhook 'https://…' looks like a placeholder; give the receiver's real address, "
                    "e.g. https://example.org/hooks/wang: wang's webhook notifications are given up "
                    "at once; fix it with `shouwang staff update wang --webhook URL`"]


def test_a_red_household_whose_caseworker_retired_is_unclaimed_and_no_admin_is_a_gap() -> None:
    """Found by a tester: retiring a red household's caseworker, or the only admin, went unsaid."""
    home = Household("hh-9", Tier.RED, "g-a", caseworker_id=CASEWORKER.id)
    assert coverage_gaps([home], ROSTER) == []
    retired = replace(CASEWORKER, active=False)
    gaps = coverage_gaps([home], [s for s in ROSTER if s is not CASEWORKER] + [retired])
    assert [g.en for g in gaps] == ["1 red household(s) have no caseworker (or a retired one): hh-9"]
    gaps = coverage_gaps([home], [s for s in ROSTER if s is not ADMIN])
    assert [g.en.split(":")[0] for g in gaps] == ["no admin is registered"]
