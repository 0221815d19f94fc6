"""Consent: who agreed, when, to what. Monitoring a household starts only with it.

Each statement is kept (a withdrawal is a new statement), so the record shows the whole story.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import consents, households

SENSING = "sensing"
SHARE_WITH_FAMILY = "share_with_family"
PURPOSES = (SENSING, SHARE_WITH_FAMILY)


@dataclass(frozen=True, slots=True)
class Consent:
    household_id: str
    given_by: str
    relationship: str
    sensing: bool
    share_with_family: bool
    given_at: float
    note: str | None = None
    recorded_by: int | None = None
    recorded_at: float | None = None
    id: int | None = None

    def allows(self, purpose: str) -> bool:
        return bool(getattr(self, purpose))


def _consent(r: Any) -> Consent:
    return Consent(r.household_id, r.given_by, r.relationship, bool(r.sensing),
                   bool(r.share_with_family), r.given_at, r.note, r.recorded_by, r.recorded_at,
                   r.id)


class ConsentStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, consent: Consent, *, actor: Actor, now: float) -> Consent:
        """Keep a statement; consenting to sensing (re)starts monitoring from when it was given."""
        before = self.has_consent(consent.household_id)
        with writing(self._engine) as db:
            consent_id = db.execute(insert(consents).values(
                household_id=consent.household_id, given_by=consent.given_by,
                relationship=consent.relationship, sensing=consent.sensing,
                share_with_family=consent.share_with_family, given_at=consent.given_at,
                note=consent.note, recorded_by=actor.staff_id, recorded_at=now,
            )).inserted_primary_key[0]  # type: ignore[index]
            if consent.sensing and not before:
                db.execute(update(households).where(households.c.id == consent.household_id)
                           .values(monitoring_since=consent.given_at))
            trail.record(db, at=now, actor=actor, action="consent_recorded", entity="household",
                         entity_id=consent.household_id,
                         details={"sensing": consent.sensing,
                                  "share_with_family": consent.share_with_family})
        return dataclasses.replace(consent, recorded_by=actor.staff_id, recorded_at=now,
                                   id=int(consent_id))

    def history(self, household_id: str) -> list[Consent]:
        query = select(consents).where(consents.c.household_id == household_id)
        with self._engine.connect() as db:
            return [_consent(r) for r in db.execute(query.order_by(consents.c.id))]

    def current(self, household_id: str) -> Consent | None:
        found = self.history(household_id)
        return found[-1] if found else None

    def has_consent(self, household_id: str, purpose: str = SENSING) -> bool:
        """Whether the household's newest statement allows `purpose` (sensing, sharing)."""
        current = self.current(household_id)
        return current is not None and current.allows(purpose)

    def consenting(self, purpose: str = SENSING,
                   household_ids: Iterable[str] | None = None) -> set[str]:
        """Every household whose newest statement allows `purpose`, in one query."""
        newest = (select(consents.c.household_id, func.max(consents.c.id).label("id"))
                  .group_by(consents.c.household_id).subquery())
        query = (select(consents.c.household_id)
                 .join(newest, newest.c.id == consents.c.id)
                 .where(consents.c[purpose].is_(True)))
        if household_ids is not None:
            query = query.where(consents.c.household_id.in_(sorted(household_ids)))
        with self._engine.connect() as db:
            return set(db.execute(query).scalars())
