"""Alerts as the API shows them, and what staff send to act on them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import Page, RequestBody, at, when
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Outcome, Severity
from shouwang.domain.delivery import Delivery
from shouwang.domain.model import Household
from shouwang.storage.alert_notes import Comment
from shouwang.storage.audit import AuditEntry

_EXAMPLE: dict[str, Any] = {
    "id": 12, "household_id": "sim-0001", "household_alias": "王秀英", "colour": "red",
    "kind": "inactivity", "state": "open", "severity": "urgent",
    "opened_at": "2025-11-22T10:05:00Z", "since": "2025-11-21T22:10:00Z",
    "explanation": "no water, power or door since 22:10 (11 h 55 m)",
    "explanations": {"en": "no water, power or door since 22:10 (11 h 55 m)",
                     "zh": "自22:10起11小时55分没有用水、用电或开关门"},
    "escalation_level": 0, "next_escalation_at": "2025-11-22T10:10:00Z",
    "acknowledged_at": None, "acknowledged_by": None, "resolved_at": None, "resolved_by": None,
    "outcome": None, "note": None, "assigned_to": None,
}


class AlertOut(BaseModel):
    id: int
    household_id: str
    household_alias: str | None
    colour: str
    kind: AlertKind
    state: AlertState
    severity: Severity
    opened_at: datetime
    since: datetime = Field(description="when the condition is counted from: the last sign of "
                                        "life, or a later moment such as when staff last checked")
    explanation: str = Field(description="why, in words a grid worker understands (English)")
    explanations: dict[str, str] = Field(
        description='the explanation by language: "en" and "zh" (Simplified Chinese)')
    escalation_level: int
    next_escalation_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    resolved_at: datetime | None
    resolved_by: int | None
    outcome: Outcome | None
    note: str | None
    assigned_to: int | None
    acknowledged_by_name: str | None = Field(
        default=None, description="the name of `acknowledged_by`, so people read a name, not an id")

    model_config = {"json_schema_extra": {"examples": [_EXAMPLE]}}

    @classmethod
    def of(cls, alert: Alert, household: Household, assigned_to: int | None = None, *,
           acknowledged_by_name: str | None = None) -> AlertOut:
        # Built from our own typed values, so validation would only re-check them; skipping it
        # is a third of the cost of a page of alerts.
        return cls.model_construct(
            id=alert.id, household_id=alert.household_id, household_alias=household.alias,
            colour=household.tier.colour, kind=alert.kind, state=alert.state,
            severity=alert.severity, opened_at=at(alert.opened_at), since=at(alert.since),
            explanation=alert.explanation, explanations=alert.explanations,
            escalation_level=alert.escalation_level,
            next_escalation_at=when(alert.next_escalation_at),
            acknowledged_at=when(alert.acknowledged_at), acknowledged_by=alert.acknowledged_by,
            resolved_at=when(alert.resolved_at), resolved_by=alert.resolved_by,
            outcome=alert.outcome, note=alert.note, assigned_to=assigned_to,
            acknowledged_by_name=acknowledged_by_name,
        )


class AlertPage(Page):
    items: list[AlertOut]


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str = Field(description="opened, routed, escalated, delivered, acknowledged, "
                                    "assigned, commented, resolved, cleared …")
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> HistoryEntry:
        return cls(at=at(entry.at), actor=entry.actor, action=entry.action,
                   details=entry.details)


class DeliveryOut(BaseModel):
    staff_id: int
    staff_name: str | None = None
    channel: str
    event: str
    status: str
    attempts: int
    delivered_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, d: Delivery, names: Mapping[int | None, str] | None = None) -> DeliveryOut:
        return cls(staff_id=d.staff_id, staff_name=(names or {}).get(d.staff_id),
                   channel=d.channel.value, event=d.event.value,
                   status=d.status.value, attempts=d.attempts, delivered_at=when(d.delivered_at),
                   last_error=d.last_error)


class CommentOut(BaseModel):
    id: int
    staff_id: int | None
    staff_name: str | None = None
    at: datetime
    text: str

    @classmethod
    def of(cls, c: Comment, names: Mapping[int | None, str] | None = None) -> CommentOut:
        return cls(id=c.id, staff_id=c.staff_id, staff_name=(names or {}).get(c.staff_id),
                   at=at(c.at), text=c.text)


class AlertDetail(AlertOut):
    resolved_by_name: str | None = None
    assigned_to_name: str | None = None
    history: list[HistoryEntry]
    deliveries: list[DeliveryOut]
    comments: list[CommentOut]


class ResolveIn(RequestBody):
    outcome: Outcome = Field(description="what was found; 'cleared_itself' is for the system only")
    note: str | None = Field(default=None, max_length=2000)

    model_config = ConfigDict(json_schema_extra={"examples": [{"outcome": "elder_fine",
                                                         "note": "fell asleep in the chair"}]})


class AcknowledgeIn(RequestBody):
    note: str | None = Field(default=None, min_length=1, max_length=2000,
                             description="kept in the alert's history as your comment")

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "on my way, there in 10 minutes"}]})


class CommentIn(RequestBody):
    text: str = Field(min_length=1, max_length=2000)

    @field_validator("text")
    @classmethod
    def _said_something(cls, text: str) -> str:
        if not text.strip():  # found by a tester: a comment of spaces was kept in the history
            raise ValueError("a comment says something: it is empty or only spaces")
        return text

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": "phoned her daughter, on the way"}]})


class AssignIn(RequestBody):
    staff_id: int = Field(description="who takes the alert; they must look after the household")

    model_config = ConfigDict(json_schema_extra={"examples": [{"staff_id": 3}]})
