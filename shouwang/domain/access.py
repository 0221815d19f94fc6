"""Who may see which household: a worker sees only the households of their own grids."""

from __future__ import annotations

from shouwang.domain.model import Household, Role, Staff


def can_see(staff: Staff, household: Household) -> bool:
    """Leaders and admins see all; caseworkers their claimed homes; grid staff their grids."""
    if not staff.active:
        return False
    if staff.role.sees_everything:
        return True
    if staff.role is Role.CASEWORKER:
        return household.caseworker_id == staff.id
    return household.grid_id in staff.grid_ids
