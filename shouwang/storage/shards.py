"""The detectors running now, by shard (`shouwang.domain.shards.coverage_gap` judges them).

Times of beats and stops are the database's clock, so detectors on machines whose clocks differ
judge each other alike (found by a tester: a machine two minutes behind was always "missing");
`clock_at` is the detector's own clock at its beat, what a restart counts its outage from.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.domain.shards import Shard
from shouwang.storage.database import writing
from shouwang.storage.schema import detector_shards

FORGET_S = 86400.0
"""Rows not heard of for a day are deleted."""


def _db_now(db: Connection) -> float:
    """The database's clock, UNIX seconds."""
    if db.dialect.name == "postgresql":
        return float(db.execute(text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")).scalar_one())
    return float(db.execute(text("SELECT (julianday('now') - 2440587.5) * 86400.0")).scalar_one())


class ShardStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def beat(self, instance: str, shard: Shard, *, clock_at: float) -> None:
        """`instance` runs `shard` now (`clock_at`: its own clock)."""
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        with writing(self._engine) as db:
            now = _db_now(db)
            stmt = insert(detector_shards).values(instance=instance, shard_index=shard.index,
                                                  shard_count=shard.count, started_at=now, seen_at=now,
                                                  clock_at=clock_at, stopped_at=None)
            db.execute(stmt.on_conflict_do_update(
                index_elements=[detector_shards.c.instance],
                set_={"seen_at": now, "clock_at": clock_at, "shard_index": shard.index,
                      "shard_count": shard.count, "stopped_at": None}))

    def running(self, *, within_s: float) -> list[tuple[str, Shard]]:
        """The detectors heard of within `within_s` and not stopped, with their shards, but those
        not heard of since another of the same shard started (it replaced them: a restart after a
        kill -9 is not two detectors); rows a day old are forgotten."""
        with writing(self._engine) as db:
            now = _db_now(db)
            db.execute(delete(detector_shards).where(detector_shards.c.seen_at < now - FORGET_S))
            rows = db.execute(select(detector_shards).where(
                detector_shards.c.seen_at >= now - within_s, detector_shards.c.stopped_at.is_(None))).all()
        shard = {r.instance: Shard(r.shard_index, r.shard_count) for r in rows}
        return [(r.instance, shard[r.instance]) for r in rows
                if not any(shard[q.instance] == shard[r.instance] and r.seen_at < q.started_at for q in rows)]

    def last_alive(self, shard: Shard) -> float | None:
        """The newest beat of any detector of `shard`, on its own clock (None: none is known)."""
        with self._engine.connect() as db:
            found = db.execute(select(func.max(detector_shards.c.clock_at)).where(
                detector_shards.c.shard_index == shard.index,
                detector_shards.c.shard_count == shard.count, detector_shards.c.clock_at > 0)).scalar()
        return None if found is None else float(found)

    def leave(self, instance: str) -> None:
        """`instance` stopped (a detector that dies unannounced is forgotten once it is not heard)."""
        with writing(self._engine) as db:
            db.execute(update(detector_shards).where(detector_shards.c.instance == instance)
                       .values(stopped_at=_db_now(db)))
