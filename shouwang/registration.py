"""Registering households in bulk: add what is new, update what changed, never delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from shouwang import registry_csv
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import Grid, Household, Hub, Role
from shouwang.registry_csv import HouseholdRow
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.state import StateStore


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    updated: int
    hubs_added: int
    grids_added: int
    consents_recorded: int = 0
    changed: tuple[str, ...] = ()
    """What the import changed of households already registered: grid, caseworker, alias,
    address, building, one line each (said by the command and kept in the audit trail)."""


def import_households(state: StateStore, text: str, *, now: float,
                      tz: ZoneInfo) -> ImportReport:
    """Check every row against the file and the registry; import all of them or none."""
    rows, problems = registry_csv.check(text)
    caseworkers, more = _caseworkers(state, rows)
    problems += more
    registry = state.registry
    # Every check a write could fail is made here, retired hubs and households included, so the
    # import writes all the rows or none (found by a tester: a re-import stopped at a retired hub
    # halfway, after moving a retired household back to its old grid).
    every_hub = registry.hubs(include_retired=True)
    hub_owner = {hub.id: hub.household_id for hub in every_hub}
    retired_hubs = {hub.id for hub in every_hub} - {hub.id for hub in registry.hubs()}
    retired_homes = {h.id for h in registry.households(include_retired=True) if h.retired_at is not None}
    known_grids = {g.id for g in registry.grids()}
    new_grids = {r.grid_id for r in rows if r.grid_name} - known_grids
    homes = {h.id: h for h in registry.households(include_retired=True)}
    for row in rows:
        owner = hub_owner.get(row.hub_id) if row.hub_id else None
        home = homes.get(row.id)
        if home is not None and home.retired_at is None and home.tier is not row.tier:
            # Found by a tester: last month's sheet turned a red household green, unsaid.
            problems.append((row.line, f"household {row.id} is {home.tier.colour} and this file makes it "
                             f"{row.tier.colour}; a colour is changed by a person saying why: `shouwang "
                             f"households colour {row.id} {row.tier.colour} --reason ... --by ...`"))
        if row.id in retired_homes:
            problems.append((row.line, f"household {row.id} was retired (its history is kept); a home "
                             "watched again takes a new id"))
        elif row.hub_id in retired_hubs:
            problems.append((row.line, f"hub {row.hub_id} was retired (with household {owner}); a hub "
                             "fitted again takes a new id"))
        elif owner is not None and owner != row.id:
            problems.append((row.line, f"hub {row.hub_id} already belongs to household {owner}"))
        if row.grid_id not in known_grids | new_grids:
            problems.append((row.line, f"grid {row.grid_id} does not exist; add it with "
                             "`shouwang grids add`, or give its name in a grid_name column"))
    if problems:
        raise InvalidInput(registry_csv.nothing_imported(problems))

    added = updated = hubs_added = consents = 0
    changed: list[str] = []
    names = {m.id: m.username for m in registry.roster()}
    for grid_id in sorted(new_grids):
        registry.add_grid(Grid(grid_id, next(r.grid_name for r in rows if r.grid_id == grid_id) or grid_id))
    for row in rows:
        caseworker_id = caseworkers.get(row.caseworker) if row.caseworker else None
        home = homes.get(row.id)
        if home is not None:
            changes = _changes(home, row, caseworker_id)
            if changes:
                registry.update_household(row.id, **changes)
                changed.append(_said(home, changes, names))
            updated += 1
        else:
            registry.add_household(Household(row.id, row.tier, row.grid_id, caseworker_id,
                                             row.alias, row.address, row.building), now=now)
            added += 1
        if row.hub_id is not None and row.hub_id not in hub_owner:
            registry.add_hub(Hub(row.hub_id, row.id, row.report_interval_s), now=now)
            hubs_added += 1
        consents += _record_consent(state, row, now=now, tz=tz)
    return ImportReport(added, updated, hubs_added, len(new_grids), consents, tuple(changed))


_FIELDS = (("grid", "grid_id"), ("caseworker", "caseworker_id"), ("alias", "alias"), ("address", "address"),
           ("building", "building"))


def _changes(home: Household, row: HouseholdRow, caseworker_id: int | None) -> dict[str, object]:
    """What the row changes of a registered household, from the columns the file has only."""
    given = {"grid_id": row.grid_id, "caseworker_id": caseworker_id, "alias": row.alias,
             "address": row.address, "building": row.building}
    return {field: given[field] for column, field in _FIELDS
            if column in row.columns and given[field] != getattr(home, field)}


def _said(home: Household, changes: dict[str, object], names: dict[int, str]) -> str:
    def shown(field: str, value: object) -> str:
        if value is None:
            return "(none)"
        return names.get(value, str(value)) if field == "caseworker_id" and isinstance(value, int) else str(value)
    parts = [f"{column} {shown(field, getattr(home, field))} → {shown(field, changes[field])}"
             for column, field in _FIELDS if field in changes]
    return f"{home.id}: {'; '.join(parts)}"


def _record_consent(state: StateStore, row: HouseholdRow, *, now: float, tz: ZoneInfo) -> int:
    """Record the row's consent unless the household's current statement already says the same."""
    if row.consent_by is None:
        return 0
    current = state.consent.current(row.id)
    if current is not None and current.sensing and current.given_by == row.consent_by and (
            current.share_with_family == row.share_with_family):
        return 0
    given = datetime.combine(row.consent_date, time(), tz).timestamp() if row.consent_date else now
    state.consent.record(Consent(row.id, row.consent_by, row.consent_relationship, sensing=True,
                                 share_with_family=row.share_with_family, given_at=given,
                                 note=f"imported from CSV line {row.line}"),
                         actor=Actor("import"), now=now)
    return 1


def _caseworkers(state: StateStore, rows: list[HouseholdRow]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    found: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    for row in rows:
        if not row.caseworker or row.caseworker in found:
            continue
        try:
            member = state.registry.staff_by_username(row.caseworker)
        except NotFound:
            problems.append((row.line, f"caseworker {row.caseworker} is not registered; add them "
                             "with `shouwang staff add ... --role caseworker`"))
            continue
        if member.role is not Role.CASEWORKER:
            problems.append((row.line, f"{row.caseworker} is a {member.role}, not a caseworker"))
            continue
        found[row.caseworker] = member.id
    return found, problems
