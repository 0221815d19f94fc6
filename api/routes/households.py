"""Households: the homes you look after, their cards, and keeping the registry right."""

from __future__ import annotations

from datetime import tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Context, CurrentStaff, Now, RegistryManager, StateDep, VisibleHousehold, require
from api.schemas.common import AUTHED, BY_ID, CHANGES
from api.schemas.households import (
    COLOUR_PATTERN,
    SILENCE_KINDS,
    HouseholdIn,
    HouseholdOut,
    HouseholdPage,
    HouseholdPatch,
    UsualNow,
)
from api.trail import note
from shouwang.domain import access
from shouwang.domain.model import Household, Staff, Tier
from shouwang.domain.usual import expected_uses
from shouwang.domain.visits_due import VisitDue, visits_due
from shouwang.settings import CareSettings
from shouwang.storage.state import StateStore
from shouwang.storage.status import HouseholdStatus

router = APIRouter(prefix="/households", tags=["households"])
USUAL_MAX_S = 2 * 86400.0


def cards(state: StateStore, homes: list[Household], staff: Staff, *,
          at: tuple[float, tzinfo] | None = None, care: CareSettings | None = None) -> list[HouseholdOut]:
    """Households as the dashboard shows them, in a fixed number of queries; with `at` (now and the
    community's zone), each silence beside what is usual for it."""
    ids = [h.id for h in homes]
    statuses = state.status.all()
    usual = _usual_now(state, ids, statuses, at) if at is not None and staff.role.sees_readings else {}
    consenting = state.consent.consenting(household_ids=ids)
    alerts = state.alert_list.unresolved_by_household(ids) if staff.role.sees_readings else {}
    closed = (state.alert_list.last_resolved_by_household(ids, SILENCE_KINDS)
              if staff.role.sees_readings else {})
    dues = _visits_due(state, homes, care, now=at[0]) if care is not None and at is not None else {}
    suggestions = state.care.open_suggestions(ids) if staff.role.sees_readings else {}
    return [HouseholdOut.of(h, statuses.get(h.id), monitoring=h.id in consenting,
                            alert=alerts.get(h.id), sees_readings=staff.role.sees_readings,
                            closed=closed.get(h.id), usual_now=usual.get(h.id), visit=dues.get(h.id),
                            suggestion=s if (s := suggestions.get(h.id)) and s.to_tier < h.tier else None)
            for h in homes]


def _visits_due(state: StateStore, homes: list[Household], care: CareSettings, *,
                now: float) -> dict[str, VisitDue]:
    every = {t: care.visit_every_s(t) for t in Tier}
    last = state.care_rows.last_visits(h.id for h in homes)
    return {d.household_id: d for d in visits_due(homes, last, state.registry.roster(), every, now=now)}


def _usual_now(state: StateStore, ids: list[str], statuses: dict[str, HouseholdStatus],
               at: tuple[float, tzinfo]) -> dict[str, UsualNow]:
    now, tz = at
    found = {}
    for household_id, rates in state.rhythm.of(ids).items():
        status = statuses.get(household_id)
        # Beyond two days a silence is the alerts' and the cockpit's business, not a usual week's.
        if status is None or status.last_sign_at is None or not 0 <= now - status.last_sign_at <= USUAL_MAX_S:
            continue
        found[household_id] = UsualNow(silent_min=int((now - status.last_sign_at) // 60),
                                       expected=round(expected_uses(rates, status.last_sign_at, now, tz=tz), 1))
    return found


def card(state: StateStore, household_id: str, staff: Staff, *,
         at: tuple[float, tzinfo] | None = None, care: CareSettings | None = None) -> HouseholdOut:
    return cards(state, [state.registry.household(household_id)], staff, at=at, care=care)[0]


@router.get("", response_model=HouseholdPage, responses=AUTHED,
            summary="Households you look after, hottest colour first")
def list_households(
    staff: CurrentStaff,
    state: StateDep,
    context: Context,
    now: Now,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    colour: Annotated[str | None, Query(pattern=COLOUR_PATTERN)] = None,
    include_retired: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HouseholdPage:
    homes = state.registry.households(viewer=staff, include_retired=include_retired)
    if grid is not None:
        homes = [h for h in homes if h.grid_id == grid]
    if colour is not None:
        homes = [h for h in homes if h.tier is Tier.parse(colour)]
    homes.sort(key=lambda h: (int(h.tier), h.id))
    page = homes[offset:offset + limit]
    return HouseholdPage(items=cards(state, page, staff, at=(now, context.tz), care=context.settings.care),
                         total=len(homes), limit=limit,
                         offset=offset)


@router.post("", response_model=HouseholdOut, status_code=201, responses=CHANGES,
             summary="Register a household (admins and duty leaders); monitoring starts "
                     "once its consent is recorded")
def create_household(body: HouseholdIn, staff: RegistryManager, state: StateDep,
                     now: Now) -> HouseholdOut:
    household = Household(body.id, Tier.parse(body.colour), body.grid_id, body.caseworker_id,
                          body.alias, body.address, body.building)
    state.registry.add_household(household, now=now)
    note(state, staff, "household_added", "household", body.id, now=now,
         details={"colour": body.colour, "grid_id": body.grid_id})
    return card(state, body.id, staff)


@router.get("/{household_id}", response_model=HouseholdOut, responses=BY_ID,
            summary="One household, with its last sign of life and open alert")
def get_household(household: VisibleHousehold, staff: CurrentStaff, state: StateDep,
                  context: Context, now: Now) -> HouseholdOut:
    return card(state, household.id, staff, at=(now, context.tz), care=context.settings.care)


@router.patch("/{household_id}", response_model=HouseholdOut, responses=CHANGES,
              summary="Correct a household; colour, grid and caseworker: admins and leaders only")
def update_household(household: VisibleHousehold, body: HouseholdPatch, staff: CurrentStaff,
                     state: StateDep, now: Now) -> HouseholdOut:
    sent = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {("tier" if k == "colour" else k): v for k, v in sent.items()}
    if changes.get("tier") is not None:
        changes["tier"] = Tier.parse(changes["tier"])
    elif "tier" in changes:
        changes.pop("tier")
    refused = access.forbidden_changes(staff, changes)
    require(not refused, f"your role may not change {', '.join(refused)}; only admins and "
                         "duty leaders change a colour, grid or caseworker")
    if changes:
        state.registry.update_household(household.id, **changes)
        note(state, staff, "household_changed", "household", household.id, now=now,
             details={k: (int(v) if k == "tier" else v) for k, v in changes.items()})
    return card(state, household.id, staff)


@router.post("/{household_id}/retire", response_model=HouseholdOut, responses=CHANGES,
             summary="Stop watching a household; it and its history are kept")
def retire_household(household: VisibleHousehold, staff: RegistryManager, state: StateDep,
                     now: Now) -> HouseholdOut:
    state.registry.retire_household(household.id, now=now)
    note(state, staff, "household_retired", "household", household.id, now=now)
    return card(state, household.id, staff)

