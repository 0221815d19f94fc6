"""Households: the homes you look after and their last sign of life."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentStaff, StateDep
from api.schemas import HouseholdOut
from shouwang.domain.access import can_see
from shouwang.domain.errors import NotFound

router = APIRouter(prefix="/households", tags=["households"])


@router.get("", response_model=list[HouseholdOut], summary="Households you look after")
def list_households(staff: CurrentStaff, state: StateDep) -> list[HouseholdOut]:
    statuses = state.status.all()
    return [HouseholdOut.of(h, statuses.get(h.id)) for h in state.registry.households(viewer=staff)]


@router.get("/{household_id}", response_model=HouseholdOut, summary="One household")
def get_household(household_id: str, staff: CurrentStaff, state: StateDep) -> HouseholdOut:
    household = state.registry.household(household_id)
    if not can_see(staff, household):
        raise NotFound("household", household_id)
    return HouseholdOut.of(household, state.status.all().get(household_id))
