"""Messages the gateway refused, kept with the reason so nothing disappears silently.

The table is bounded: per hub and in all, the oldest letters are dropped beyond the caps the
gateway passes in, and the drops are counted (per hub) so an operator sees that a flood happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, insert, select, true
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.storage.database import writing
from shouwang.storage.schema import dead_letter_drops, dead_letters

PAYLOAD_KEPT = 4096
TOPIC_KEPT = 500
HUB_ID_KEPT = 64
"""The columns' widths, the same on SQLite and PostgreSQL (which refuses longer text)."""
ANY_HUB = ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: float
    topic: str
    hub_id: str | None
    reason: str
    payload: str
    id: int | None = None
    category: str = "rejected"


@dataclass(frozen=True, slots=True)
class Caps:
    per_hub: int
    total: int


def _text(value: str, limit: int | None = None) -> str:
    """Text any database stores: cut, with NUL and unpaired surrogates replaced."""
    cut = value if limit is None else value[:limit]
    return cut.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _row(d: DeadLetter) -> dict[str, object]:
    return {
        "received_at": d.received_at,
        "topic": _text(d.topic, TOPIC_KEPT),
        "hub_id": None if d.hub_id is None else _text(d.hub_id, HUB_ID_KEPT),
        "category": _text(d.category, 32),
        "reason": _text(d.reason, PAYLOAD_KEPT),
        "payload": _text(d.payload, PAYLOAD_KEPT),
    }


def _within(letters: Sequence[DeadLetter], caps: Caps) -> tuple[list[DeadLetter], dict[str, int]]:
    """The newest letters of a batch that fit the caps, and how many were left out per hub."""
    kept: list[DeadLetter] = []
    per_hub: dict[str | None, int] = {}
    dropped: dict[str, int] = {}
    for letter in reversed(letters):
        hub = None if letter.hub_id is None else letter.hub_id[:HUB_ID_KEPT]
        seen = per_hub[hub] = per_hub.get(hub, 0) + 1
        if hub is not None and seen > caps.per_hub:
            dropped[hub] = dropped.get(hub, 0) + 1
        elif len(kept) >= caps.total:
            dropped[ANY_HUB] = dropped.get(ANY_HUB, 0) + 1
        else:
            kept.append(letter)
    kept.reverse()
    return kept, dropped


class DeadLetterStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, letters: Sequence[DeadLetter], caps: Caps | None = None) -> int:
        """Keep `letters`; with `caps`, drop the oldest beyond them. Returns how many were dropped."""
        if not letters:
            return 0
        dropped: dict[str, int] = {}
        if caps is not None:
            letters, dropped = _within(letters, caps)
        rows = [_row(d) for d in letters]
        with writing(self._engine) as db:
            if rows:
                db.execute(insert(dead_letters), rows)
            if caps is not None:
                for hub_id in sorted({str(r["hub_id"]) for r in rows if r["hub_id"] is not None}):
                    _add(dropped, hub_id, _trim(db, dead_letters.c.hub_id == hub_id, caps.per_hub))
                _add(dropped, ANY_HUB, _trim(db, true(), caps.total))
            if dropped:
                self._count_drops(db, dropped)
        return sum(dropped.values())

    def _count_drops(self, db: Connection, dropped: dict[str, int]) -> None:
        upsert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        stmt = upsert(dead_letter_drops)
        stmt = stmt.on_conflict_do_update(
            index_elements=[dead_letter_drops.c.hub_id],
            set_={"dropped": dead_letter_drops.c.dropped + stmt.excluded.dropped},
        )
        db.execute(stmt, [{"hub_id": hub, "dropped": n} for hub, n in sorted(dropped.items())])

    def drops(self) -> dict[str, int]:
        """Letters dropped to stay within the caps, per hub ("" for those dropped from all hubs)."""
        with self._engine.connect() as db:
            return {hub: int(n) for hub, n in db.execute(select(dead_letter_drops))}

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


def _add(dropped: dict[str, int], hub: str, n: int) -> None:
    if n:
        dropped[hub] = dropped.get(hub, 0) + n


def _trim(db: Connection, where: ColumnElement[bool], keep: int) -> int:
    """Delete the oldest letters matching `where` beyond the newest `keep`; how many went."""
    low, high = db.execute(select(func.min(dead_letters.c.id), func.max(dead_letters.c.id)).where(where)).one()
    if low is None or high - low + 1 <= keep:  # ids only grow: the span bounds the count cheaply
        return 0
    cutoff = db.execute(
        select(dead_letters.c.id).where(where).order_by(dead_letters.c.id.desc()).offset(keep).limit(1)
    ).scalar()
    if cutoff is None:
        return 0
    return int(db.execute(delete(dead_letters).where(where, dead_letters.c.id <= cutoff)).rowcount)
