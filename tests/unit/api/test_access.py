"""The access rules, pure: who sees which household and who changes what."""

from __future__ import annotations

import pytest

from shouwang.domain import access
from shouwang.domain.model import Household, Role, Staff, Tier

HOME = Household("h-1", Tier.RED, "g-01", caseworker_id=7)


def staff(role: Role, *, id: int = 1, grids: tuple[str, ...] = (),
          homes: tuple[str, ...] = (), active: bool = True) -> Staff:
    return Staff(id, f"u{id}", "name", role, frozenset(grids), active=active,
                 household_ids=frozenset(homes))


@pytest.mark.parametrize(("who", "sees"), [
    (staff(Role.ADMIN), True),
    (staff(Role.DUTY_LEADER), True),
    (staff(Role.GRID_MEMBER, grids=("g-01",)), True),
    (staff(Role.GRID_MEMBER, grids=("g-02",)), False),
    (staff(Role.GRID_HEAD, grids=("g-02", "g-01")), True),
    (staff(Role.CASEWORKER, id=7), True),
    (staff(Role.CASEWORKER, id=8, grids=("g-01",)), False),
    (staff(Role.VOLUNTEER, homes=("h-1",)), True),
    (staff(Role.VOLUNTEER, grids=("g-01",)), False),
    (staff(Role.DUTY_LEADER, active=False), False),
])
def test_who_sees_a_household(who: Staff, sees: bool) -> None:
    assert access.can_see(who, HOME) is sees


def test_a_volunteer_sees_the_home_but_not_its_readings() -> None:
    volunteer = staff(Role.VOLUNTEER, homes=("h-1",))
    assert access.can_see(volunteer, HOME)
    assert not access.can_see_readings(volunteer, HOME)
    assert not access.can_act_on_alerts(volunteer, HOME)


@pytest.mark.parametrize("role", [Role.GRID_MEMBER, Role.GRID_HEAD, Role.CASEWORKER,
                                  Role.VOLUNTEER])
def test_only_admins_and_leaders_change_colour_grid_or_claim(role: Role) -> None:
    assert access.forbidden_changes(staff(role), ["tier", "address"]) == (
        ["address", "tier"] if role is Role.VOLUNTEER else ["tier"])
    assert access.forbidden_changes(staff(Role.DUTY_LEADER), ["tier", "caseworker_id"]) == []


def test_a_grid_member_may_take_an_alert_but_not_hand_it_out() -> None:
    member = staff(Role.GRID_MEMBER, id=1, grids=("g-01",))
    head = staff(Role.GRID_HEAD, id=2, grids=("g-01",))
    assert access.can_assign_alerts(member, HOME, member)
    assert not access.can_assign_alerts(member, HOME, head)
    assert access.can_assign_alerts(head, HOME, member)
    stranger = staff(Role.GRID_MEMBER, id=3, grids=("g-02",))
    assert not access.can_assign_alerts(head, HOME, stranger)
