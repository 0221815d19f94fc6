"""The detectors running now, by shard (`shouwang.domain.shards.coverage_gap` judges them)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.domain.shards import Shard
from shouwang.storage.database import writing
from shouwang.storage.schema import detector_shards


class ShardStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def beat(self, instance: str, shard: Shard, *, started_at: float, now: float) -> None:
        """`instance` runs `shard` at `now`."""
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(detector_shards).values(instance=instance, shard_index=shard.index,
                                              shard_count=shard.count, started_at=started_at, seen_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=[detector_shards.c.instance],
                                          set_={"seen_at": now, "shard_index": shard.index,
                                                "shard_count": shard.count})
        with writing(self._engine) as db:
            db.execute(stmt)

    def running(self, *, seen_since: float) -> list[tuple[str, Shard]]:
        """The detectors heard of since `seen_since`, with their shards, but those not heard of since
        another of the same shard started (it replaced them: a restart after a kill -9 is not two
        detectors); rows a day older are forgotten."""
        with writing(self._engine) as db:
            db.execute(delete(detector_shards).where(detector_shards.c.seen_at < seen_since - 86400.0))
            rows = db.execute(select(detector_shards).where(detector_shards.c.seen_at >= seen_since)).all()
        shard = {r.instance: Shard(r.shard_index, r.shard_count) for r in rows}
        return [(r.instance, shard[r.instance]) for r in rows
                if not any(shard[q.instance] == shard[r.instance] and r.seen_at < q.started_at for q in rows)]

    def leave(self, instance: str) -> None:
        """`instance` stopped (a detector that dies unannounced is forgotten once it is not heard)."""
        with writing(self._engine) as db:
            db.execute(update(detector_shards).where(detector_shards.c.instance == instance)
                       .values(seen_at=0.0))
