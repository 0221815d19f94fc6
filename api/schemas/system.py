"""Health and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from api.schemas.common import Page, at
from shouwang.storage.audit import AuditEntry


class RoleProblem(BaseModel):
    role: str
    problem: str
    message: str
    since: datetime


class Health(BaseModel):
    status: str
    """ok, or failing (HTTP 503) while a role in this process reports a problem."""
    time: datetime
    open_alerts: int | None
    """None while the state store cannot be read."""
    dead_letters: int | None
    failed_deliveries: int | None
    """Notifications given up on after every retry."""
    retrying_deliveries: int | None
    """Notifications whose attempts have failed so far, being retried (`GET /alerts/{id}` says why)."""
    problems: list[RoleProblem] = []
    """What the roles of `shouwang run` (gateway, detector, dispatch) report, with what to do."""

    model_config = {"json_schema_extra": {"examples": [{
        "status": "ok", "time": "2025-11-22T10:00:00Z", "open_alerts": 2, "dead_letters": 0,
        "failed_deliveries": 0, "retrying_deliveries": 0}]}}


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_staff_id: int | None
    action: str
    entity: str
    entity_id: str
    details: dict[str, Any]

    @classmethod
    def of(cls, e: AuditEntry) -> AuditOut:
        return cls(id=e.id, at=at(e.at), actor=e.actor, actor_staff_id=e.actor_staff_id,
                   action=e.action, entity=e.entity, entity_id=e.entity_id, details=e.details)


class AuditPage(Page):
    items: list[AuditOut]
