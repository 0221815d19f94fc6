"""Searching the audit trail (for admins and duty leaders)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from shouwang.storage.audit import AuditEntry, _entry
from shouwang.storage.schema import audit


@dataclass(frozen=True, slots=True)
class AuditFilter:
    entity: str | None = None
    entity_id: str | None = None
    actor_staff_id: int | None = None
    action: str | None = None
    start: float | None = None
    end: float | None = None
    limit: int = 100
    offset: int = 0


def _conditions(f: AuditFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if f.entity is not None:
        found.append(audit.c.entity == f.entity)
    if f.entity_id is not None:
        found.append(audit.c.entity_id == f.entity_id)
    if f.actor_staff_id is not None:
        found.append(audit.c.actor_staff_id == f.actor_staff_id)
    if f.action is not None:
        found.append(audit.c.action == f.action)
    if f.start is not None:
        found.append(audit.c.at >= f.start)
    if f.end is not None:
        found.append(audit.c.at < f.end)
    return found


class AuditQuery:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def search(self, f: AuditFilter) -> tuple[list[AuditEntry], int]:
        """Matching entries, newest first, and how many match in all."""
        where = _conditions(f)
        query = select(audit).where(*where).order_by(audit.c.id.desc())
        with self._engine.connect() as db:
            total = int(db.execute(select(func.count()).select_from(audit).where(*where))
                        .scalar_one())
            rows = db.execute(query.limit(f.limit).offset(f.offset)).all()
        return [_entry(r) for r in rows], total

    def last_id(self) -> int:
        with self._engine.connect() as db:
            return int(db.execute(select(func.coalesce(func.max(audit.c.id), 0))).scalar_one())
