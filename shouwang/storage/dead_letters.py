"""Messages the gateway refused, kept with the reason so nothing disappears silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select

from shouwang.storage.database import writing
from shouwang.storage.schema import dead_letters

PAYLOAD_KEPT = 4096


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: float
    topic: str
    hub_id: str | None
    reason: str
    payload: str
    id: int | None = None
    category: str = "rejected"


class DeadLetterStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        rows = [
            {
                "received_at": d.received_at,
                "topic": d.topic[:500],
                "hub_id": d.hub_id,
                "category": d.category,
                "reason": d.reason,
                "payload": d.payload[:PAYLOAD_KEPT],
            }
            for d in letters
        ]
        with writing(self._engine) as db:
            db.execute(insert(dead_letters), rows)

    def recent(self, limit: int = 100) -> list[DeadLetter]:
        query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
        with self._engine.connect() as db:
            return [
                DeadLetter(r.received_at, r.topic, r.hub_id, r.reason, r.payload, r.id, r.category)
                for r in db.execute(query)
            ]

    def count_by_category(self) -> dict[str, int]:
        query = select(dead_letters.c.category, func.count()).group_by(dead_letters.c.category)
        with self._engine.connect() as db:
            return {category: int(n) for category, n in db.execute(query)}

    def count(self) -> int:
        with self._engine.connect() as db:
            return int(db.execute(select(func.count()).select_from(dead_letters)).scalar_one())
