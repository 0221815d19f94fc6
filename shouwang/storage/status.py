"""What the detector last knew of each household, for the API and for restarts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.storage.database import writing
from shouwang.storage.schema import household_status


@dataclass(frozen=True, slots=True)
class HouseholdStatus:
    household_id: str
    last_sign_at: float | None
    last_sign_kind: str | None
    last_door_at: float | None
    hub_last_seen_at: float | None
    updated_at: float
    learned_days: int | None = None
    """Normal days of this household the detector has learned from (None: not reported)."""


class StatusStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, statuses: Iterable[HouseholdStatus]) -> None:
        rows = [
            {
                "household_id": s.household_id,
                "last_sign_at": s.last_sign_at,
                "last_sign_kind": s.last_sign_kind,
                "last_door_at": s.last_door_at,
                "hub_last_seen_at": s.hub_last_seen_at,
                "updated_at": s.updated_at,
                "learned_days": s.learned_days,
            }
            for s in statuses
        ]
        if not rows:
            return
        dialect = self._engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(household_status)
        stmt = stmt.on_conflict_do_update(
            index_elements=[household_status.c.household_id],
            set_={c: stmt.excluded[c] for c in rows[0] if c != "household_id"},
        )
        with writing(self._engine) as db:
            db.execute(stmt, rows)

    def all(self) -> dict[str, HouseholdStatus]:
        with self._engine.connect() as db:
            rows = db.execute(select(household_status)).all()
        return {
            r.household_id: HouseholdStatus(
                r.household_id, r.last_sign_at, r.last_sign_kind, r.last_door_at,
                r.hub_last_seen_at, r.updated_at, r.learned_days,
            )
            for r in rows
        }
