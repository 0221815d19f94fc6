"""Recording what staff did through the API in the audit trail."""

from __future__ import annotations

from typing import Any

from shouwang.domain.model import Staff
from shouwang.storage import audit
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.state import StateStore


def actor(staff: Staff) -> Actor:
    return Actor(staff.username, staff.id)


def note(state: StateStore, staff: Staff, action: str, entity: str, entity_id: object, *,
         now: float, details: dict[str, Any] | None = None) -> None:
    with writing(state.engine) as db:
        audit.record(db, at=now, actor=actor(staff), action=action, entity=entity,
                     entity_id=entity_id, details=details)
