"""Grids (网格): the community's units, each with its members and head."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import CurrentStaff, Now, RegistryManager, StateDep
from api.schemas.common import AUTHED, BY_ID, CHANGES
from api.schemas.households import GridIn, GridOut, GridPatch
from api.trail import note
from shouwang.domain.errors import Conflict, NotFound
from shouwang.domain.model import Grid, Staff
from shouwang.storage.state import StateStore

router = APIRouter(prefix="/grids", tags=["grids"])
GridId = Annotated[str, Path(min_length=1, max_length=64, examples=["g-01"])]


def visible_grids(staff: Staff, state: StateStore) -> set[str]:
    if staff.role.sees_everything:
        return {g.id for g in state.registry.grids(include_retired=True)}
    return set(staff.grid_ids) | {h.grid_id for h in state.registry.households(viewer=staff)}


def get_visible_grid(grid_id: GridId, staff: CurrentStaff, state: StateDep) -> Grid:
    if grid_id not in visible_grids(staff, state):
        raise NotFound("grid", grid_id)
    return state.registry.grid(grid_id)


VisibleGrid = Annotated[Grid, Depends(get_visible_grid)]


@router.get("", response_model=list[GridOut], responses=AUTHED, summary="Grids you work in")
def list_grids(staff: CurrentStaff, state: StateDep) -> list[GridOut]:
    mine = visible_grids(staff, state)
    return [GridOut.of(g) for g in state.registry.grids() if g.id in mine]


@router.post("", response_model=GridOut, status_code=201, responses=CHANGES,
             summary="Add a grid (admins and duty leaders)")
def create_grid(body: GridIn, staff: RegistryManager, state: StateDep, now: Now) -> GridOut:
    try:
        state.registry.grid(body.id)
    except NotFound:
        grid = state.registry.add_grid(Grid(body.id, body.name))
        note(state, staff, "grid_added", "grid", grid.id, now=now, details={"name": grid.name})
        return GridOut.of(grid)
    raise Conflict(f"grid {body.id} exists; rename it with PATCH /grids/{body.id}")


@router.get("/{grid_id}", response_model=GridOut, responses=BY_ID, summary="One grid")
def get_grid(grid: VisibleGrid) -> GridOut:
    return GridOut.of(grid)


@router.patch("/{grid_id}", response_model=GridOut, responses=CHANGES, summary="Rename a grid")
def update_grid(grid: VisibleGrid, body: GridPatch, staff: RegistryManager, state: StateDep,
                now: Now) -> GridOut:
    renamed = state.registry.add_grid(Grid(grid.id, body.name))
    note(state, staff, "grid_renamed", "grid", grid.id, now=now, details={"name": body.name})
    return GridOut.of(renamed)


@router.post("/{grid_id}/retire", response_model=GridOut, responses=CHANGES,
             summary="Retire a grid with no active households")
def retire_grid(grid: VisibleGrid, staff: RegistryManager, state: StateDep, now: Now) -> GridOut:
    state.registry.retire_grid(grid.id, now=now)
    note(state, staff, "grid_retired", "grid", grid.id, now=now)
    return GridOut.of(grid)
