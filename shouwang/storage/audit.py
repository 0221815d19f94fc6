"""The audit trail: who did what, when. Written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from shouwang.storage.schema import audit


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    actor_staff_id: int | None
    action: str
    entity: str
    entity_id: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Actor:
    """A staff member, or a part of the system ("detector", "dispatch")."""

    name: str
    staff_id: int | None = None


def record(
    db: Connection,
    *,
    at: float,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    details: dict[str, Any] | None = None,
) -> None:
    db.execute(
        insert(audit).values(
            at=at,
            actor=actor.name,
            actor_staff_id=actor.staff_id,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            details=details or {},
        )
    )


class AuditTrail:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def for_entity(self, entity: str, entity_id: object) -> list[AuditEntry]:
        query = (
            select(audit)
            .where(audit.c.entity == entity, audit.c.entity_id == str(entity_id))
            .order_by(audit.c.id)
        )
        with self._engine.connect() as db:
            return [_entry(r) for r in db.execute(query)]

    def since(self, after_id: int, *, limit: int = 500) -> list[AuditEntry]:
        """Entries after `after_id`, oldest first: a change feed for live views."""
        query = select(audit).where(audit.c.id > after_id).order_by(audit.c.id).limit(limit)
        with self._engine.connect() as db:
            return [_entry(r) for r in db.execute(query)]


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(
        id=r.id,
        at=r.at,
        actor=r.actor,
        actor_staff_id=r.actor_staff_id,
        action=r.action,
        entity=r.entity,
        entity_id=r.entity_id,
        details=dict(r.details or {}),
    )
