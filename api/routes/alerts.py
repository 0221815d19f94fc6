"""Alerts: list, read with history, acknowledge, resolve, comment, assign."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import CurrentStaff, Now, StateDep, VisibleAlert, require
from api.schemas.alerts import (
    AcknowledgeIn,
    AlertDetail,
    AlertOut,
    AlertPage,
    AssignIn,
    CommentIn,
    CommentOut,
    DeliveryOut,
    HistoryEntry,
    ResolveIn,
)
from api.schemas.common import AUTHED, BY_ID, CHANGES, seconds
from api.schemas.households import COLOUR_PATTERN
from shouwang.domain import access
from shouwang.domain.alerts import Alert, AlertKind, AlertState
from shouwang.domain.errors import Conflict, InvalidInput, NotFound
from shouwang.domain.model import Staff, Tier
from shouwang.storage.alert_query import AlertQuery
from shouwang.storage.audit import Actor
from shouwang.storage.state import StateStore

router = APIRouter(prefix="/alerts", tags=["alerts"])
StateFilter = Literal["open", "acknowledged", "resolved", "unresolved"]


def _out(state: StateStore, view_alert_id: int) -> AlertOut:
    alert = state.alerts.get(view_alert_id)
    household = state.registry.household(alert.household_id)
    assigned = state.alert_notes.assignments([alert.id]).get(alert.id)
    return AlertOut.of(alert, household, assigned.staff_id if assigned else None,
                       acknowledged_by_name=acknowledger(state, alert))


def acknowledger(state: StateStore, alert: Alert) -> str | None:
    """The name of whoever acknowledged the alert (None while nobody has)."""
    if alert.acknowledged_by is None:
        return None
    try:
        return state.registry.staff(alert.acknowledged_by).name
    except NotFound:
        return None


def _json(body: BaseModel) -> Response:
    """A body built from our own typed values, serialised once rather than re-validated against
    the route's response_model (for a `def` route, on a second trip to a worker thread)."""
    return Response(body.model_dump_json(), media_type="application/json")


# The busiest read: `async` so it runs on the event loop instead of hopping to a worker thread.
# Its queries are short reads (SQLite WAL readers never wait for writers); under 200 requests/s
# the thread hops cost more than the queries (benchmarks/api_latency.py). Writes stay `def`.
@router.get("", response_model=AlertPage, responses=AUTHED,
            summary="Alerts of the households you look after, newest first")
async def list_alerts(
    staff: CurrentStaff,
    state: StateDep,
    alert_state: Annotated[StateFilter | None, Query(alias="state")] = None,
    kind: AlertKind | None = None,
    colour: Annotated[str | None, Query(pattern=COLOUR_PATTERN)] = None,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    household: Annotated[str | None, Query(max_length=64)] = None,
    assigned_to: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    require(staff.role.sees_readings, "volunteers do not see alerts")
    if alert_state == "unresolved":
        states: tuple[AlertState, ...] = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
    else:
        states = (AlertState(alert_state),) if alert_state else ()
    query = AlertQuery(
        states=states, kind=kind, tier=Tier.parse(colour) if colour else None, grid_id=grid,
        household_id=household, assigned_to=assigned_to,
        opened_from=seconds(opened_from) if opened_from else None,
        opened_to=seconds(opened_to) if opened_to else None, limit=limit, offset=offset,
    )
    listed, total = state.alert_list.page(query, viewer=staff)
    names: dict[int | None, str] = ({m.id: m.name for m in state.registry.all_staff()}
                                    if any(x.alert.acknowledged_by is not None for x in listed) else {})
    items = [AlertOut.of(x.alert, x.household, x.assigned_to,
                         acknowledged_by_name=names.get(x.alert.acknowledged_by))
             for x in listed]
    return _json(AlertPage(items=items, total=total, limit=limit, offset=offset))


@router.get("/{alert_id}", response_model=AlertDetail, responses=BY_ID,
            summary="One alert with its explanation, history, deliveries and comments")
def get_alert(view: VisibleAlert, state: StateDep) -> AlertDetail:
    alert_id = view.alert.id
    out = _out(state, alert_id)
    # Only someone who may see the alert gets here, and its people are their colleagues.
    names: dict[int | None, str] = {s.id: s.name for s in state.registry.all_staff()}
    return AlertDetail(
        **out.model_dump(exclude={"acknowledged_by_name"}),
        acknowledged_by_name=names.get(out.acknowledged_by),
        resolved_by_name=names.get(out.resolved_by), assigned_to_name=names.get(out.assigned_to),
        history=[HistoryEntry.of(e) for e in state.audit.for_entity("alert", alert_id)],
        deliveries=[DeliveryOut.of(d, names) for d in state.alerts.deliveries(alert_id)],
        comments=[CommentOut.of(c, names) for c in state.alert_notes.comments(alert_id)],
    )


@router.post("/{alert_id}/acknowledge", response_model=AlertOut, responses=CHANGES,
             summary="Say you are on it; escalation stops (a body is optional: a note for the history)")
def acknowledge(view: VisibleAlert, staff: CurrentStaff, state: StateDep, now: Now,
                body: AcknowledgeIn | None = None) -> Response:
    changed = state.alerts.acknowledge(view.alert.id, staff=staff, now=now)
    if changed.acknowledged_by is not None and changed.acknowledged_by != staff.id:
        # someone else is on it: said, so that two do not go thinking the other will not
        raise Conflict(f"alert {changed.id} is already acknowledged by {acknowledger(state, changed)}; "
                       "add a comment if you are helping (POST /alerts/{id}/comments)")
    if body is not None and body.note is not None:
        state.alert_notes.comment(changed.id, body.note, actor=Actor(staff.username, staff.id), now=now)
    # Acknowledging leaves the assignee as it was when the alert was read for this request.
    return _json(AlertOut.of(changed, view.household, view.assigned_to,
                             acknowledged_by_name=acknowledger(state, changed)))


@router.post("/{alert_id}/resolve", response_model=AlertOut, responses=CHANGES,
             summary="Close the alert with what you found")
def resolve(view: VisibleAlert, body: ResolveIn, staff: CurrentStaff, state: StateDep,
            now: Now) -> AlertOut:
    state.alerts.resolve(view.alert.id, staff=staff, outcome=body.outcome, note=body.note, now=now)
    return _out(state, view.alert.id)


@router.post("/{alert_id}/comments", response_model=CommentOut, status_code=201,
             responses=BY_ID, summary="Add a comment to the alert's history")
def comment(view: VisibleAlert, body: CommentIn, staff: CurrentStaff, state: StateDep,
            now: Now) -> CommentOut:
    made = state.alert_notes.comment(view.alert.id, body.text,
                                     actor=Actor(staff.username, staff.id), now=now)
    return CommentOut.of(made, {staff.id: staff.name})  # the writer's name, as the alert's history gives it


@router.post("/{alert_id}/assign", response_model=AlertOut, responses=CHANGES,
             summary="Hand the alert to someone who looks after the household (or take it)")
def assign(view: VisibleAlert, body: AssignIn, staff: CurrentStaff, state: StateDep,
           now: Now) -> AlertOut:
    if view.alert.state is AlertState.RESOLVED:  # found by a tester: 200, where ack and resolve say 409
        raise Conflict(f"alert {view.alert.id} is resolved; there is nothing left to hand over")
    handing = "only grid heads, duty leaders and admins hand alerts to others; you may take it"
    try:
        assignee: Staff | None = state.registry.staff(body.staff_id)
    except NotFound:
        assignee = None
    if assignee is None or not access.can_see_staff(staff, assignee):
        # found by a privacy tester: the refusal named the username behind any staff id
        require(body.staff_id == staff.id or access.hands_out_alerts(staff), handing)
        raise InvalidInput(f"staff {body.staff_id} does not exist among the staff you can see")
    if not access.can_act_on_alerts(assignee, view.household):
        raise InvalidInput(f"{assignee.username} does not look after household "
                           f"{view.household.id}; choose one of its grid's staff")
    require(access.can_assign_alerts(staff, view.household, assignee), handing)
    state.alert_notes.assign(view.alert.id, assignee.id, actor=Actor(staff.username, staff.id),
                             now=now)
    return _out(state, view.alert.id)
