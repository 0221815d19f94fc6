"""'Away until': staff say the elder is away, so a silent home is expected until then.

The household's `away_until` (what the detector reads) is kept equal to the latest live silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from shouwang.domain.errors import Conflict, InvalidInput, NotFound
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import households, silences


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    household_id: str
    starts_at: float
    until: float
    reason: str | None
    created_by: int | None
    created_at: float
    cancelled_at: float | None = None

    def live(self, now: float) -> bool:
        return self.cancelled_at is None and self.until > now


def _silence(r: Any) -> Silence:
    return Silence(r.id, r.household_id, r.starts_at, r.until, r.reason, r.created_by,
                   r.created_at, r.cancelled_at)


class SilenceStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, household_id: str, *, until: float, reason: str | None, actor: Actor,
            now: float) -> Silence:
        if until <= now:
            raise InvalidInput("'until' must be in the future")
        with writing(self._engine) as db:
            silence_id = db.execute(insert(silences).values(
                household_id=household_id, starts_at=now, until=until, reason=reason,
                created_by=actor.staff_id, created_at=now,
            )).inserted_primary_key[0]  # type: ignore[index]
            _sync_away(db, household_id, now)
            trail.record(db, at=now, actor=actor, action="silenced", entity="household",
                         entity_id=household_id, details={"silence_id": silence_id,
                                                          "until": until})
        return self.get(int(silence_id))

    def get(self, silence_id: int) -> Silence:
        with self._engine.connect() as db:
            row = db.execute(select(silences).where(silences.c.id == silence_id)).first()
        if row is None:
            raise NotFound("silence", silence_id)
        return _silence(row)

    def cancel(self, silence_id: int, *, actor: Actor, now: float) -> Silence:
        """End a silence early (the elder came back); detection resumes at once."""
        silence = self.get(silence_id)
        if not silence.live(now):
            raise Conflict(f"silence {silence_id} has already ended")
        with writing(self._engine) as db:
            db.execute(update(silences).where(silences.c.id == silence_id)
                       .values(cancelled_at=now))
            _sync_away(db, silence.household_id, now)
            trail.record(db, at=now, actor=actor, action="silence_cancelled", entity="household",
                         entity_id=silence.household_id, details={"silence_id": silence_id})
        return self.get(silence_id)

    def for_household(self, household_id: str, *, start: float | None = None,
                      end: float | None = None) -> list[Silence]:
        query = select(silences).where(silences.c.household_id == household_id)
        if start is not None:
            query = query.where(silences.c.until >= start)
        if end is not None:
            query = query.where(silences.c.starts_at < end)
        with self._engine.connect() as db:
            return [_silence(r) for r in db.execute(query.order_by(silences.c.id))]


def _sync_away(db: Connection, household_id: str, now: float) -> None:
    latest = db.execute(select(func.max(silences.c.until)).where(
        silences.c.household_id == household_id, silences.c.cancelled_at.is_(None),
        silences.c.until > now,
    )).scalar_one_or_none()
    db.execute(update(households).where(households.c.id == household_id)
               .values(away_until=latest))
