"""What the detector must remember of each household across restarts, whatever its age.

The household status keeps the last sign of life; this keeps the rest a restarted detector
needs to judge a silence from where it began rather than from its own start: since when it has
watched the home, the first reading it heard from it, and the last water drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.storage.database import writing
from shouwang.storage.schema import detector_memory


@dataclass(frozen=True, slots=True)
class HouseholdMemory:
    household_id: str
    watching_since: float
    """When a detector first watched this household (after its registration and consent)."""
    first_heard_at: float | None = None
    last_water_at: float | None = None
    updated_at: float = 0.0
    """When this was last changed (0: not stored yet)."""


class MemoryStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, memories: Iterable[HouseholdMemory]) -> None:
        rows = [asdict(m) for m in memories]
        if not rows:
            return
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(detector_memory)
        stmt = stmt.on_conflict_do_update(
            index_elements=[detector_memory.c.household_id],
            set_={c: stmt.excluded[c] for c in rows[0] if c != "household_id"},
        )
        with writing(self._engine) as db:
            db.execute(stmt, rows)

    def all(self) -> dict[str, HouseholdMemory]:
        with self._engine.connect() as db:
            rows = db.execute(select(detector_memory)).all()
        return {r.household_id: HouseholdMemory(r.household_id, r.watching_since,
                                                r.first_heard_at, r.last_water_at, r.updated_at)
                for r in rows}
