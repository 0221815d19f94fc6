"""Who may see and change what: pure rules the API applies to every request.

Seeing is object-level: a worker sees only the households of their own grids, a red-tier
caseworker the households they claimed, a volunteer the households they visit; duty leaders and
admins see all. Changing is property-level: only admins and duty leaders change a household's
colour, its grid or its caseworker's claim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from shouwang.domain.cover import Leave, stood_in_for
from shouwang.domain.model import Household, Role, Staff

LEADERS = frozenset({Role.ADMIN, Role.DUTY_LEADER})
FRONTLINE = frozenset({Role.GRID_MEMBER, Role.GRID_HEAD, Role.CASEWORKER})
# Only admins and leaders move a household between colours, grids or caseworkers.
GUARDED_FIELDS = frozenset({"tier", "grid_id", "caseworker_id"})
# What the people who know the household may correct themselves.
CONTACT_FIELDS = frozenset({"alias", "address", "building"})


def can_see(staff: Staff, household: Household) -> bool:
    """Leaders and admins see all; caseworkers their claimed homes; volunteers the homes they
    visit; grid staff their grids; a deputy also what the colleague on leave they stand in for
    sees (found by a tester: a deputy from the next grid was told of the alert and could neither
    open nor acknowledge it)."""
    if not staff.active:
        return False
    return _sees(staff, household) or any(_sees(other, household) for other in staff.covering)


def _sees(staff: Staff, household: Household) -> bool:
    if not staff.active:
        return False
    if staff.role.sees_everything:
        return True
    if staff.role is Role.CASEWORKER:
        return household.caseworker_id == staff.id
    if staff.role is Role.VOLUNTEER:
        return household.id in staff.household_ids
    return household.grid_id in staff.grid_ids


def can_see_readings(staff: Staff, household: Household) -> bool:
    """Readings, signs of life and alerts reveal how an elder lives: not for volunteers."""
    return can_see(staff, household) and staff.role.sees_readings


def can_act_on_alerts(staff: Staff, household: Household) -> bool:
    """Acknowledge, resolve, comment: whoever may see the household's alerts."""
    return can_see_readings(staff, household)


def looks_after(staff: Staff, household: Household, *, leaves: Callable[[], Iterable[Leave]],
                staff_of: Callable[[int], Staff], now: float) -> bool:
    """Whether `staff` may still be told of `household`'s alerts and act on them: active, and
    seeing its alerts, or standing in (`leaves()`, read only then) for someone on leave who does,
    directly or down a chain of deputies on leave (`cover.stood_in_for`)."""
    if not staff.active:
        return False
    if can_act_on_alerts(staff, household):
        return True
    return any(can_act_on_alerts(staff_of(other), household) for other in stood_in_for(staff.id, leaves(), now))


def can_assign_alerts(staff: Staff, household: Household, assignee: Staff) -> bool:
    """Grid heads, leaders and admins hand alerts out; anyone who acts on alerts may take one."""
    if not can_act_on_alerts(staff, household) or not can_act_on_alerts(assignee, household):
        return False
    return assignee.id == staff.id or hands_out_alerts(staff)


def hands_out_alerts(staff: Staff) -> bool:
    """Grid heads, leaders and admins may hand an alert to someone else."""
    return staff.role in LEADERS | {Role.GRID_HEAD}


def forbidden_changes(staff: Staff, fields: Iterable[str]) -> list[str]:
    """The household fields `staff` asked to change but may not (empty: allowed)."""
    wanted = set(fields)
    if staff.role in LEADERS:
        return []
    if staff.role in FRONTLINE:
        return sorted(wanted - CONTACT_FIELDS)
    return sorted(wanted)


def manages_registry(staff: Staff) -> bool:
    """Add, retire, import and export households and hubs; read the audit trail."""
    return staff.active and staff.role in LEADERS


def manages_staff(staff: Staff) -> bool:
    """Add staff, change roles and grids, retire them, set their passwords."""
    return staff.active and staff.role is Role.ADMIN


def manages_maintenance(staff: Staff) -> bool:
    """Grid heads, duty leaders and admins put a hub or a grid under maintenance."""
    return staff.active and (staff.role in LEADERS or staff.role is Role.GRID_HEAD)


def can_maintain(staff: Staff, grid_id: str) -> bool:
    """A grid head their own grids (and the hubs in them); leaders and admins every one."""
    return manages_maintenance(staff) and (staff.role.sees_everything or grid_id in staff.grid_ids)


def can_record_care(staff: Staff, household: Household) -> bool:
    """Record consent and 'away until' silences: the staff who look after the household."""
    return can_see(staff, household) and staff.role is not Role.VOLUNTEER


def can_see_staff(viewer: Staff, other: Staff) -> bool:
    """Leaders see everyone; a grid head the staff of their grids; anyone themselves."""
    if viewer.id == other.id or (viewer.active and viewer.role.sees_everything):
        return True
    shares_grid = bool(viewer.grid_ids & other.grid_ids)
    return viewer.active and viewer.role is Role.GRID_HEAD and shares_grid
