"""Found by a regression tester: a store made while 0003 held the shard table's clock_at and
stopped_at (an edit later moved to 0004) could not be upgraded ("duplicate column"), and beats
recorded before 0004 read as alive in 1970. 0004 adds only what is missing and dates old beats."""

from __future__ import annotations

import time

from sqlalchemy import text

from shouwang.domain.shards import Shard
from shouwang.storage import migrate
from shouwang.storage.database import open_engine
from shouwang.storage.state import StateStore

# detector_shards as dcc3bc5 (the previous HEAD) made it: its edited 0003 and its schema.py both
# already had clock_at and stopped_at, and its stores are stamped 0003_detector_shards.
EDITED_0003 = """CREATE TABLE detector_shards (
    instance VARCHAR(200) NOT NULL, shard_index INTEGER NOT NULL, shard_count INTEGER NOT NULL,
    started_at FLOAT NOT NULL, seen_at FLOAT NOT NULL, clock_at FLOAT NOT NULL, stopped_at FLOAT,
    PRIMARY KEY (instance))"""
FIRST_0003 = """CREATE TABLE detector_shards (
    instance VARCHAR(200) NOT NULL, shard_index INTEGER NOT NULL, shard_count INTEGER NOT NULL,
    started_at FLOAT NOT NULL, seen_at FLOAT NOT NULL, PRIMARY KEY (instance))"""


def _store_at_0003(url: str, ddl: str, rows: list[str] = ()) -> None:  # type: ignore[assignment]
    StateStore.open(url).close()
    engine = open_engine(url)
    try:
        with engine.begin() as db:
            db.execute(text("DROP TABLE detector_shards"))
            db.execute(text(ddl))
            for row in rows:
                db.execute(text(row))
            db.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '0003_detector_shards'"))
    finally:
        engine.dispose()


def test_a_store_made_by_the_edited_0003_upgrades(any_state_url: str) -> None:
    """Before: `shouwang db upgrade` failed: duplicate column name: clock_at (SQLite) /
    DuplicateColumn: column "clock_at" of relation "detector_shards" already exists (PostgreSQL)."""
    _store_at_0003(any_state_url, EDITED_0003)
    engine = open_engine(any_state_url)
    try:
        found = migrate.upgrade(engine, say=lambda _: None)
    finally:
        engine.dispose()
    assert found.kind == "current"
    state = StateStore.open(any_state_url)
    try:
        state.shards.beat("d-1", Shard(1, 1), clock_at=1000.0)
    finally:
        state.close()


def test_beats_recorded_before_0004_do_not_read_as_alive_at_epoch_zero(any_state_url: str) -> None:
    """A store at the first 0003 that a detector of 2802921 beat in: 0004 fills clock_at with 0.
    Before: last_alive == 0.0, so the next detector start took itself for down since 1970
    (DetectorService.warm_up: self._down = (0.0, now); restart.resume_learned(..., 0.0) counts
    every hub ever heard as heard now; catch_up re-reads CATCH_UP_MAX_S)."""
    seen = time.time() - 60
    _store_at_0003(any_state_url, FIRST_0003, [
        "INSERT INTO detector_shards (instance, shard_index, shard_count, started_at, seen_at) "
        f"VALUES ('d-old', 1, 1, {seen - 3600}, {seen})"])
    engine = open_engine(any_state_url)
    try:
        migrate.upgrade(engine, say=lambda _: None)
    finally:
        engine.dispose()
    state = StateStore.open(any_state_url)
    try:
        alive = state.shards.last_alive(Shard(1, 1))
    finally:
        state.close()
    assert alive is None or alive >= seen - 3600, f"last alive: {alive}"
