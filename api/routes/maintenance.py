"""Maintenance windows: a hub or a whole grid being worked on raises no hub-offline alert until the
window ends. Grid heads manage their own grids' (and the hubs in them); duty leaders and admins all."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.deps import CurrentStaff, Now, StateDep, require
from api.schemas.common import AUTHED, BY_ID, CHANGES, RequestBody, at, seconds
from api.trail import actor
from shouwang.domain import access
from shouwang.domain.cover import MaintenanceWindow
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import Staff
from shouwang.storage.state import StateStore

router = APIRouter(prefix="/maintenance", tags=["maintenance"])


def maintainer(staff: CurrentStaff) -> Staff:
    require(access.manages_maintenance(staff), "only grid heads, duty leaders and admins manage maintenance")
    return staff


Maintainer = Annotated[Staff, Depends(maintainer)]


class MaintenanceIn(RequestBody):
    hub_id: str | None = Field(default=None, min_length=1, max_length=64, description="one hub, or …")
    grid_id: str | None = Field(default=None, min_length=1, max_length=64, description="… every hub of a grid")
    until: datetime
    reason: str = Field(min_length=1, max_length=500, examples=["更换电表"])


class MaintenanceWindowOut(BaseModel):
    id: int
    hub_id: str | None
    grid_id: str | None
    starts_at: datetime
    until: datetime
    reason: str
    by_staff_id: int | None

    @classmethod
    def of(cls, w: MaintenanceWindow) -> MaintenanceWindowOut:
        return cls(id=w.id, hub_id=w.hub_id, grid_id=w.grid_id, starts_at=at(w.starts_at), until=at(w.until),
                   reason=w.reason, by_staff_id=w.created_by)


def _grid_of(state: StateStore, window_hub: str | None, window_grid: str | None) -> str:
    """The grid a window's hub or grid belongs to (NotFound for an unknown one)."""
    if window_hub is not None:
        return state.registry.household(state.registry.hub(window_hub).household_id).grid_id
    assert window_grid is not None
    return state.registry.grid(window_grid).id


def _mine(staff: Staff, state: StateStore, window: MaintenanceWindow) -> bool:
    try:
        return access.can_maintain(staff, _grid_of(state, window.hub_id, window.grid_id))
    except NotFound:  # its hub or grid is gone: leaders still see it
        return staff.role.sees_everything


@router.get("", response_model=list[MaintenanceWindowOut], responses=AUTHED,
            summary="Maintenance windows in force (a grid head: their grids')")
def list_maintenance(staff: Maintainer, state: StateDep, now: Now) -> list[MaintenanceWindowOut]:
    return [MaintenanceWindowOut.of(w) for w in state.maintenance.live(now) if _mine(staff, state, w)]


@router.post("", response_model=MaintenanceWindowOut, status_code=201, responses=CHANGES,
             summary="Put a hub or a grid under maintenance until a time: its hub-offline alerts are silenced")
def add_maintenance(body: MaintenanceIn, staff: Maintainer, state: StateDep, now: Now) -> MaintenanceWindowOut:
    if (body.hub_id is None) == (body.grid_id is None):
        raise InvalidInput("a maintenance window covers one hub (hub_id) or one grid (grid_id)")
    try:
        grid_id = _grid_of(state, body.hub_id, body.grid_id)
    except NotFound:
        raise NotFound("hub" if body.hub_id else "grid", body.hub_id or body.grid_id) from None
    if not access.can_maintain(staff, grid_id):  # another grid's: as if it did not exist
        raise NotFound("hub" if body.hub_id else "grid", body.hub_id or body.grid_id)
    until = seconds(body.until)
    if until > now + 90 * 86400:
        raise InvalidInput("a maintenance window may last at most 90 days")
    return MaintenanceWindowOut.of(state.maintenance.add(hub_id=body.hub_id, grid_id=body.grid_id, until=until,
                                                         reason=body.reason, actor=actor(staff), now=now))


@router.post("/{window_id}/end", response_model=MaintenanceWindowOut, responses=BY_ID | CHANGES,
             summary="The work is done: end the window")
def end_maintenance(window_id: Annotated[int, Path(ge=1, le=2**31 - 1)], staff: Maintainer, state: StateDep,
                    now: Now) -> MaintenanceWindowOut:
    window = state.maintenance.get(window_id)
    if not _mine(staff, state, window):
        raise NotFound("maintenance window", window_id)
    return MaintenanceWindowOut.of(state.maintenance.end(window_id, actor=actor(staff), now=now))
