"""The cockpit (社区智治在线): what every grid needs now, for duty leaders and admins; CSV of each table."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import Context, CurrentStaff, StateDep, require
from api.schemas.cockpit import CockpitAlert, CockpitDay, CockpitGrid, CockpitHousehold, CockpitOut
from api.schemas.common import AUTHED, at
from dispatch.ladders import LadderPolicy
from shouwang.domain import cockpit as figures
from shouwang.domain.alerts import AlertKind
from shouwang.domain.model import Staff, Tier
from shouwang.registry_csv import cell

router = APIRouter(prefix="/cockpit", tags=["cockpit"])
WINDOW_DAYS = 30


def leader(staff: CurrentStaff) -> Staff:
    require(staff.role.sees_everything, "the cockpit is for duty leaders and admins")
    return staff


Leader = Annotated[Staff, Depends(leader)]


def build(context: Context, state: StateDep, staff: Leader) -> CockpitOut:
    """The cockpit now, from the state store in a fixed number of queries."""
    now, settings = context.clock.now(), context.settings
    homes = state.registry.households(viewer=staff)
    community = figures.Community(
        grids=state.registry.grids(), households=homes, hubs=state.registry.hubs(),
        presence=state.registry.presence(),
        hub_last_seen={h: s.hub_last_seen_at for h, s in state.status.all().items()},
        consenting=state.consent.consenting(), last_visit=state.visits.last_by_household(),
        alerts=state.alert_list.unresolved_or_opened_since(now - WINDOW_DAYS * 86400))
    limits = figures.Limits(ack_s=first_waits(LadderPolicy.of(settings.dispatch)),
                            hub_silent_after_s=settings.detector.hub_offline_after_s,
                            visit_every_days={t: settings.care.visit_every_days[t.colour] for t in Tier})
    view = figures.cockpit(community, limits, now=now, tz=context.tz, days=WINDOW_DAYS)
    alias = {h.id: h.alias for h in homes}
    return CockpitOut(
        at=at(now), grids=[CockpitGrid.of(g) for g in view.grids],
        alerts=[CockpitAlert.of(a, alias.get(a.household_id)) for a in view.alerts],
        households=[CockpitHousehold.of(h) for h in view.households
                    if h.watch != "watched" or h.hub_offline or h.visit_overdue],
        trend=[CockpitDay(day=d.day, opened=d.opened, false_alarms=d.false_alarms) for d in view.trend],
        median_ack_min=None if view.median_ack_s is None else round(view.median_ack_s / 60, 1))


def first_waits(policy: LadderPolicy) -> Callable[[Tier, AlertKind], float | None]:
    """Each colour and kind's limit: how long its ladder in force waits before it first climbs."""
    waits = {(tier, kind): policy.ladder(tier, kind).waits_s for tier in Tier for kind in AlertKind}
    return lambda tier, kind: waits[tier, kind][0] if waits[tier, kind] else None


CockpitNow = Annotated[CockpitOut, Depends(build)]


@router.get("", response_model=CockpitOut, responses=AUTHED,
            summary="Per grid: open alerts, those past their limit, hubs offline, households not "
                    "watched, visits overdue, response times, a 30-day trend (duty leaders, admins)")
def get_cockpit(view: CockpitNow) -> CockpitOut:
    return view


Table = Literal["grids", "alerts", "households", "trend"]


@router.get("/{table}.csv", responses=AUTHED, response_class=Response,
            summary="One of the cockpit's tables as CSV (UTF-8 with BOM, so Excel opens it)")
def cockpit_csv(table: Annotated[Table, Path()], view: CockpitNow) -> Response:
    rows: list[dict[str, object]]
    if table == "grids":
        rows = [_grid_counts(g) for g in view.grids]
    else:
        rows = [item.model_dump(mode="json") for item in getattr(view, table)]
    out = io.StringIO()
    fields = list(rows[0]) if rows else list(_FIELDS[table].model_fields)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: cell(value) for key, value in row.items()} for row in rows)
    day = view.at.date().isoformat()
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="cockpit-{table}-{day}.csv"'})


def _grid_counts(grid: CockpitGrid) -> dict[str, object]:
    """A grid's row for a spreadsheet: how many, not which."""
    row: dict[str, object] = {k: len(v) if isinstance(v, list) else v for k, v in grid.model_dump().items()}
    row["open_by_colour"] = " ".join(f"{colour}:{n}" for colour, n in grid.open_by_colour.items())
    return row


_FIELDS: dict[str, type[BaseModel]] = {"grids": CockpitGrid, "alerts": CockpitAlert,
                                       "households": CockpitHousehold, "trend": CockpitDay}
