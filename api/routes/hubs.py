"""Hubs: the box in each home that reports its meters and door."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import CurrentStaff, Now, RegistryManager, StateDep
from api.schemas.common import AUTHED, BY_ID, CHANGES
from api.schemas.households import HubIn, HubOut, HubPatch
from api.trail import note
from shouwang.domain import access
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import Hub, Staff
from shouwang.storage.state import StateStore

router = APIRouter(prefix="/hubs", tags=["hubs"])
HubId = Annotated[str, Path(min_length=1, max_length=64, examples=["h-sim-0001"])]


def get_visible_hub(hub_id: HubId, staff: CurrentStaff, state: StateDep) -> Hub:
    hub = state.registry.hub(hub_id)
    if not access.can_see(staff, state.registry.household(hub.household_id)):
        raise NotFound("hub", hub_id)
    return hub


VisibleHub = Annotated[Hub, Depends(get_visible_hub)]


@router.get("", response_model=list[HubOut], responses=AUTHED,
            summary="Hubs of the households you look after")
def list_hubs(staff: CurrentStaff, state: StateDep) -> list[HubOut]:
    ids = [h.id for h in state.registry.households(viewer=staff)]
    return [HubOut.of(h) for h in state.registry.hubs(ids)]


@router.post("", response_model=HubOut, status_code=201, responses=CHANGES,
             summary="Register a hub for a household (admins and duty leaders)")
def create_hub(body: HubIn, staff: RegistryManager, state: StateDep, now: Now) -> HubOut:
    try:
        state.registry.household(body.household_id)
    except NotFound:
        raise InvalidInput(f"household {body.household_id} is not registered; add it first") \
            from None
    hub = state.registry.add_hub(Hub(body.id, body.household_id, body.report_interval_s), now=now)
    _note(state, staff, "hub_added", hub, now)
    return HubOut.of(hub)


@router.get("/{hub_id}", response_model=HubOut, responses=BY_ID, summary="One hub")
def get_hub(hub: VisibleHub) -> HubOut:
    return HubOut.of(hub)


@router.patch("/{hub_id}", response_model=HubOut, responses=CHANGES,
              summary="Change how often a hub is expected to report")
def update_hub(hub: VisibleHub, body: HubPatch, staff: RegistryManager, state: StateDep,
               now: Now) -> HubOut:
    changed = state.registry.update_hub(hub.id, report_interval_s=body.report_interval_s)
    _note(state, staff, "hub_changed", changed, now)
    return HubOut.of(changed)


@router.post("/{hub_id}/retire", response_model=HubOut, responses=CHANGES,
             summary="Take a hub out of service; its readings are kept")
def retire_hub(hub: VisibleHub, staff: RegistryManager, state: StateDep, now: Now) -> HubOut:
    state.registry.retire_hub(hub.id, now=now)
    _note(state, staff, "hub_retired", hub, now)
    return HubOut.of(hub)


def _note(state: StateStore, staff: Staff, action: str, hub: Hub, now: float) -> None:
    note(state, staff, action, "hub", hub.id, now=now,
         details={"household_id": hub.household_id,
                  "report_interval_s": hub.report_interval_s})
