"""Visits staff recorded: each one a sign of life for the detector."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, insert, or_, select

from shouwang.domain.model import Visit
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import visits

IN_PERSON = or_(visits.c.how.is_(None), visits.c.how == "visit")
"""Visits in person: the ones the colours' cadences count (a phone call is not one)."""


def _visit(r: Any) -> Visit:
    return Visit(r.household_id, r.at, r.staff_id, r.note, r.id, r.how or "visit")


class VisitStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, visit: Visit, *, actor: Actor, now: float) -> Visit:
        with writing(self._engine) as db:
            visit_id = db.execute(
                insert(visits).values(household_id=visit.household_id, staff_id=visit.staff_id,
                                      at=visit.at, note=visit.note, recorded_at=now, how=visit.how)
            ).inserted_primary_key[0]  # type: ignore[index]
            trail.record(db, at=now, actor=actor, action="visit_recorded", entity="household",
                         entity_id=visit.household_id,
                         details={"at": visit.at, "note": visit.note, "how": visit.how})
        return Visit(visit.household_id, visit.at, visit.staff_id, visit.note, int(visit_id), visit.how)

    def since(self, after_id: int = 0) -> list[Visit]:
        """Visits recorded after `after_id`, oldest first (the detector polls this)."""
        query = select(visits).where(visits.c.id > after_id).order_by(visits.c.id)
        with self._engine.connect() as db:
            return [_visit(r) for r in db.execute(query)]

    def for_household(self, household_id: str, *, start: float, end: float) -> list[Visit]:
        query = (select(visits)
                 .where(visits.c.household_id == household_id, visits.c.at >= start, visits.c.at < end)
                 .order_by(visits.c.at))
        with self._engine.connect() as db:
            return [_visit(r) for r in db.execute(query)]

    def last_by_household(self) -> dict[str, float]:
        """When each household was last visited in person (households never visited are absent)."""
        query = (select(visits.c.household_id, func.max(visits.c.at)).where(IN_PERSON)
                 .group_by(visits.c.household_id))
        with self._engine.connect() as db:
            return {household_id: float(at) for household_id, at in db.execute(query)}
