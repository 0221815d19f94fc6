"""Found by a regression tester: the columns `clock_at` and `stopped_at` of detector_shards had
been added by editing migration 0003 after a commit had shipped it, so a store at that first 0003
was "up to date" and every beat failed. They come in migration 0004 now: such a store is brought
up to date and beats, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from shouwang.domain.shards import Shard
from shouwang.storage import migrate
from shouwang.storage.database import open_engine
from shouwang.storage.state import StateStore

OLD_0003 = """CREATE TABLE detector_shards (
    instance VARCHAR(200) NOT NULL, shard_index INTEGER NOT NULL, shard_count INTEGER NOT NULL,
    started_at FLOAT NOT NULL, seen_at FLOAT NOT NULL, PRIMARY KEY (instance))"""


def test_a_store_at_the_first_0003_is_brought_up_to_date_and_beats(any_state_url: str) -> None:
    url = any_state_url
    StateStore.open(url).close()
    engine = open_engine(url)
    try:
        with engine.begin() as db:  # the table as 2802921's 0003 made it
            db.execute(text("DROP TABLE detector_shards"))
            db.execute(text(OLD_0003))
            db.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '0003_detector_shards'"))
        migrate.upgrade(engine, say=lambda _: None)  # `shouwang db upgrade`
    finally:
        engine.dispose()
    state = StateStore.open(url)
    try:
        # before: sqlite3.OperationalError: table detector_shards has no column named clock_at
        state.shards.beat("d-1", Shard(1, 1), clock_at=1000.0)
        assert state.shards.last_alive(Shard(1, 1)) == 1000.0
    finally:
        state.close()
