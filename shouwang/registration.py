"""Registering households in bulk: add what is new, update what changed, never delete."""

from __future__ import annotations

from dataclasses import dataclass

from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import Grid, Household, Hub, Role
from shouwang.registry_csv import HouseholdRow
from shouwang.storage.state import StateStore


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    updated: int
    hubs_added: int
    grids_added: int


def import_households(state: StateStore, rows: list[HouseholdRow], *, now: float) -> ImportReport:
    registry = state.registry
    caseworkers: dict[str, int] = {}
    problems = []
    for row in rows:
        if row.caseworker and row.caseworker not in caseworkers:
            try:
                member = registry.staff_by_username(row.caseworker)
            except NotFound:
                problems.append(f"line {row.line}: caseworker {row.caseworker} is not registered; "
                                "add them with `shouwang staff add ... --role caseworker`")
                continue
            if member.role is not Role.CASEWORKER:
                problems.append(f"line {row.line}: {row.caseworker} is a {member.role}, not a caseworker")
                continue
            caseworkers[row.caseworker] = member.id
    hub_owner = {hub.id: hub.household_id for hub in registry.hubs()}
    for row in rows:
        owner = hub_owner.get(row.hub_id)
        if owner is not None and owner != row.id:
            problems.append(f"line {row.line}: hub {row.hub_id} already belongs to household {owner}")
    if problems:
        raise InvalidInput("nothing imported; fix these rows:\n  " + "\n  ".join(problems))

    known_grids = {g.id for g in registry.grids()}
    known_homes = {h.id for h in registry.households(include_retired=True)}
    added = updated = hubs_added = grids_added = 0
    for row in rows:
        if row.grid_id not in known_grids:
            registry.add_grid(Grid(row.grid_id, row.grid_name or row.grid_id))
            known_grids.add(row.grid_id)
            grids_added += 1
        caseworker_id = caseworkers.get(row.caseworker) if row.caseworker else None
        if row.id in known_homes:
            registry.update_household(row.id, alias=row.alias, address=row.address,
                                      building=row.building, tier=row.tier,
                                      grid_id=row.grid_id, caseworker_id=caseworker_id)
            updated += 1
        else:
            registry.add_household(Household(row.id, row.tier, row.grid_id, caseworker_id,
                                             row.alias, row.address, row.building), now=now)
            added += 1
        if row.hub_id not in hub_owner:
            registry.add_hub(Hub(row.hub_id, row.id, row.report_interval_s), now=now)
            hubs_added += 1
    return ImportReport(added, updated, hubs_added, grids_added)
