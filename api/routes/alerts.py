"""Alerts: list, read with history, acknowledge, resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentStaff, Now, StateDep
from api.schemas import AlertDetail, AlertOut, DeliveryOut, HistoryEntry, ResolveIn
from shouwang.domain.alerts import AlertKind, AlertState
from shouwang.domain.model import Tier
from shouwang.storage.alerts import AlertFilter

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", response_model=list[AlertOut], summary="Alerts of the households you look after")
def list_alerts(
    staff: CurrentStaff,
    state: StateDep,
    alert_state: Annotated[AlertState | None, Query(alias="state")] = None,
    kind: AlertKind | None = None,
    colour: Annotated[str | None, Query(pattern="^(red|orange|yellow|blue|green)$")] = None,
    grid: str | None = None,
    household: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AlertOut]:
    filters = AlertFilter(
        state=alert_state, kind=kind, tier=Tier.parse(colour) if colour else None,
        grid_id=grid, household_id=household, limit=limit, offset=offset,
    )
    return [AlertOut.of(a) for a in state.alerts.list(filters, viewer=staff)]


@router.get("/{alert_id}", response_model=AlertDetail, summary="One alert with its history")
def get_alert(alert_id: int, staff: CurrentStaff, state: StateDep) -> AlertDetail:
    alert = state.alerts.get(alert_id, viewer=staff)
    return AlertDetail(
        **AlertOut.of(alert).model_dump(),
        history=[HistoryEntry.of(e) for e in state.audit.for_entity("alert", alert_id)],
        deliveries=[DeliveryOut.of(d) for d in state.alerts.deliveries(alert_id)],
    )


@router.post("/{alert_id}/acknowledge", response_model=AlertOut,
             summary="Say you are on it; escalation stops")
def acknowledge(alert_id: int, staff: CurrentStaff, state: StateDep, now: Now) -> AlertOut:
    state.alerts.get(alert_id, viewer=staff)
    return AlertOut.of(state.alerts.acknowledge(alert_id, staff=staff, now=now))


@router.post("/{alert_id}/resolve", response_model=AlertOut,
             summary="Close the alert with what you found")
def resolve(alert_id: int, body: ResolveIn, staff: CurrentStaff, state: StateDep, now: Now) -> AlertOut:
    state.alerts.get(alert_id, viewer=staff)
    return AlertOut.of(state.alerts.resolve(alert_id, staff=staff, outcome=body.outcome,
                                            note=body.note, now=now))
