"""What staff add to an alert besides its lifecycle: comments and who it is assigned to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import alert_assignments, alert_comments


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    alert_id: int
    staff_id: int | None
    at: float
    text: str


@dataclass(frozen=True, slots=True)
class Assignment:
    alert_id: int
    staff_id: int
    assigned_by: int | None
    assigned_at: float


def _assignment(r: Any) -> Assignment:
    return Assignment(r.alert_id, r.staff_id, r.assigned_by, r.assigned_at)


class AlertNotes:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def comment(self, alert_id: int, text: str, *, actor: Actor, now: float) -> Comment:
        with writing(self._engine) as db:
            comment_id = db.execute(insert(alert_comments).values(
                alert_id=alert_id, staff_id=actor.staff_id, at=now, text=text,
            )).inserted_primary_key[0]  # type: ignore[index]
            trail.record(db, at=now, actor=actor, action="commented", entity="alert",
                         entity_id=alert_id, details={"comment_id": comment_id})
        return Comment(int(comment_id), alert_id, actor.staff_id, now, text)

    def comments(self, alert_id: int) -> list[Comment]:
        query = select(alert_comments).where(alert_comments.c.alert_id == alert_id)
        with self._engine.connect() as db:
            return [Comment(r.id, r.alert_id, r.staff_id, r.at, r.text)
                    for r in db.execute(query.order_by(alert_comments.c.id))]

    def assign(self, alert_id: int, staff_id: int, *, actor: Actor, now: float) -> Assignment:
        with writing(self._engine) as db:
            db.execute(delete(alert_assignments).where(alert_assignments.c.alert_id == alert_id))
            db.execute(insert(alert_assignments).values(
                alert_id=alert_id, staff_id=staff_id, assigned_by=actor.staff_id,
                assigned_at=now,
            ))
            trail.record(db, at=now, actor=actor, action="assigned", entity="alert",
                         entity_id=alert_id, details={"staff_id": staff_id})
        return Assignment(alert_id, staff_id, actor.staff_id, now)

    def assignments(self, alert_ids: Iterable[int]) -> dict[int, Assignment]:
        query = select(alert_assignments).where(alert_assignments.c.alert_id.in_(list(alert_ids)))
        with self._engine.connect() as db:
            return {r.alert_id: _assignment(r) for r in db.execute(query)}

    def assigned_to(self, staff_id: int) -> list[int]:
        query = select(alert_assignments.c.alert_id).where(alert_assignments.c.staff_id == staff_id)
        with self._engine.connect() as db:
            return list(db.execute(query).scalars())
