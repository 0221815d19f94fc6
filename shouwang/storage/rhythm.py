"""Each household's usual rhythm (expected uses per hour of the week), written by the learned
detector and read by the API, which may run in another process, to weigh a silence."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.domain.usual import HOURS_PER_WEEK
from shouwang.storage.database import writing
from shouwang.storage.schema import household_rhythm


class RhythmStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, rhythms: Mapping[str, Sequence[float]], *, now: float) -> None:
        rows = [{"household_id": h, "rates": json.dumps([round(r, 4) for r in rates]), "updated_at": now}
                for h, rates in rhythms.items() if len(rates) == HOURS_PER_WEEK]
        if not rows:
            return
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(household_rhythm)
        stmt = stmt.on_conflict_do_update(index_elements=[household_rhythm.c.household_id],
                                          set_={"rates": stmt.excluded.rates, "updated_at": stmt.excluded.updated_at})
        with writing(self._engine) as db:
            db.execute(stmt, rows)

    def of(self, household_ids: Sequence[str]) -> dict[str, list[float]]:
        """The rhythms known for these households (those the detector has not learned are absent)."""
        query = select(household_rhythm.c.household_id, household_rhythm.c.rates).where(
            household_rhythm.c.household_id.in_(household_ids))
        with self._engine.connect() as db:
            rows = db.execute(query).all()
        return {r.household_id: json.loads(r.rates) for r in rows}

