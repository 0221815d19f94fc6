"""An elder's own data: export it all; remove who they are when they leave the programme."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Context, Now, RegistryManager, VisibleHousehold
from api.routes.households import card
from api.schemas.common import BY_ID, CHANGES
from api.schemas.households import HouseholdOut
from api.trail import actor, note
from shouwang.domain.errors import Conflict

router = APIRouter(prefix="/households/{household_id}", tags=["privacy"])


@router.get("/export", responses=BY_ID,
            summary="Everything kept about one household, readings included (admins and "
                    "leaders)")
def export(household: VisibleHousehold, staff: RegistryManager, context: Context,
           now: Now) -> dict[str, Any]:
    state = context.state
    data = state.elder_data.export(household.id)
    data["readings"] = [
        {"hub_id": r.hub_id, "sensor": r.sensor, "ts": r.ts, "value": r.value,
         "power_w": r.power_w}
        for r in context.readings.query(household_id=household.id, start=0.0, end=now + 1)
    ]
    note(state, staff, "exported", "household", household.id, now=now)
    return {"household_id": household.id, "exported_at": now, **data}


@router.post("/anonymise", response_model=HouseholdOut, responses=CHANGES,
             summary="The elder left: remove name, address and notes; keep anonymous history")
def anonymise(household: VisibleHousehold, staff: RegistryManager, context: Context,
              now: Now) -> HouseholdOut:
    state = context.state
    if household.alias is None and household.address is None and not household.is_active:
        raise Conflict(f"household {household.id} is already anonymised")
    state.elder_data.anonymise(household.id, actor=actor(staff), now=now)
    return card(state, household.id, staff)
