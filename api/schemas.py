"""The API's request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from shouwang.domain.alerts import Alert, AlertKind, AlertState, Outcome, Severity
from shouwang.domain.delivery import Delivery
from shouwang.domain.model import Household
from shouwang.storage.audit import AuditEntry
from shouwang.storage.status import HouseholdStatus


def when(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class AlertOut(BaseModel):
    id: int
    household_id: str
    kind: AlertKind
    state: AlertState
    severity: Severity
    opened_at: datetime
    since: datetime
    explanation: str
    escalation_level: int
    next_escalation_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    resolved_at: datetime | None
    resolved_by: int | None
    outcome: Outcome | None
    note: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(
            id=alert.id, household_id=alert.household_id, kind=alert.kind, state=alert.state,
            severity=alert.severity, opened_at=when(alert.opened_at),  # type: ignore[arg-type]
            since=when(alert.since),  # type: ignore[arg-type]
            explanation=alert.explanation, escalation_level=alert.escalation_level,
            next_escalation_at=when(alert.next_escalation_at),
            acknowledged_at=when(alert.acknowledged_at), acknowledged_by=alert.acknowledged_by,
            resolved_at=when(alert.resolved_at), resolved_by=alert.resolved_by,
            outcome=alert.outcome, note=alert.note,
        )


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> HistoryEntry:
        return cls(at=when(entry.at), actor=entry.actor, action=entry.action,  # type: ignore[arg-type]
                   details=entry.details)


class DeliveryOut(BaseModel):
    staff_id: int
    channel: str
    event: str
    status: str
    attempts: int
    delivered_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(staff_id=d.staff_id, channel=d.channel.value, event=d.event.value,
                   status=d.status.value, attempts=d.attempts, delivered_at=when(d.delivered_at),
                   last_error=d.last_error)


class AlertDetail(AlertOut):
    history: list[HistoryEntry]
    deliveries: list[DeliveryOut]


class ResolveIn(BaseModel):
    outcome: Outcome = Field(description="what was found; 'cleared_itself' is for the system only")
    note: str | None = Field(default=None, max_length=2000)

    model_config = {"json_schema_extra": {"examples": [{"outcome": "elder_fine",
                                                         "note": "fell asleep in the chair"}]}}


class HouseholdOut(BaseModel):
    id: str
    alias: str | None
    address: str | None
    colour: str
    tier: int
    grid_id: str
    caseworker_id: int | None
    away_until: datetime | None
    last_sign_of_life_at: datetime | None
    last_sign_of_life_kind: str | None
    hub_last_seen_at: datetime | None

    @classmethod
    def of(cls, h: Household, status: HouseholdStatus | None) -> HouseholdOut:
        return cls(
            id=h.id, alias=h.alias, address=h.address, colour=h.tier.colour, tier=int(h.tier),
            grid_id=h.grid_id, caseworker_id=h.caseworker_id, away_until=when(h.away_until),
            last_sign_of_life_at=when(status.last_sign_at) if status else None,
            last_sign_of_life_kind=status.last_sign_kind if status else None,
            hub_last_seen_at=when(status.hub_last_seen_at) if status else None,
        )


class Health(BaseModel):
    status: str
    time: datetime
    open_alerts: int
    dead_letters: int
    failed_deliveries: int
