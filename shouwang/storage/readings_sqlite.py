"""The embedded time-series store: one SQLite file in WAL mode."""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from shouwang.domain.model import StoredReading
from shouwang.storage.database import private_file
from shouwang.storage.ports import ReadingStoreUnavailable, SensorKey
from shouwang.storage.sqlite_wal import enable_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    household_id TEXT NOT NULL,
    sensor TEXT NOT NULL,
    ts REAL NOT NULL,
    hub_id TEXT NOT NULL,
    value REAL NOT NULL,
    power_w REAL,
    seq INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_readings ON readings (household_id, sensor, ts, hub_id);
"""
_COLUMNS = "household_id, hub_id, sensor, ts, value, power_w, seq"


class SqliteReadingStore:
    """Readings keyed by (household, sensor, ts, hub): a repeated message is stored once."""

    def __init__(self, path: Path) -> None:
        private_file(path)
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._db().executescript(_SCHEMA)
        self._file = self._identity()

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=30, check_same_thread=False)
            try:
                enable_wal(db)
                db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error:
                db.close()
                raise
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def write(self, readings: Sequence[StoredReading]) -> int:
        if self._identity() != self._file:
            # Found by a tester: readings.db deleted while running took every reading after it,
            # acknowledged, into a file nobody could open again, in silence (6,000 lost).
            raise ReadingStoreUnavailable(
                f"SQLite reading store {self._path} was deleted or replaced while open; nothing more is "
                "stored (the broker keeps the readings): restore the file, or restart to begin a new one")
        try:
            db = self._db()  # found by a tester: a file that could not be opened (no descriptor
            # left) was taken for readings refused, and 3,000 good ones became dead letters
            before = db.total_changes
            with db:
                db.executemany(
                    f"INSERT OR IGNORE INTO readings ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (r.household_id, r.hub_id, r.sensor, r.ts, r.value, r.power_w, r.seq)
                        for r in readings
                    ],
                )
        except sqlite3.OperationalError as exc:  # locked, disk full, I/O error: not the readings' fault
            raise ReadingStoreUnavailable(f"SQLite reading store {self._path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            # "file is not a database", "disk image is malformed": the file, not the readings
            raise ReadingStoreUnavailable(f"SQLite reading store {self._path}: {exc}") from exc
        return db.total_changes - before

    def query(
        self, *, household_id: str, start: float, end: float, sensor: str | None = None
    ) -> list[StoredReading]:
        sql = f"SELECT {_COLUMNS} FROM readings WHERE household_id = ? AND ts >= ? AND ts < ?"
        args: list[object] = [household_id, start, end]
        if sensor is not None:
            sql += " AND sensor = ?"
            args.append(sensor)
        rows = self._db().execute(sql + " ORDER BY ts", args).fetchall()
        return [StoredReading(*row) for row in rows]

    def latest(
        self, keys: Sequence[SensorKey], *, since: float, limit: int, before: float | None = None,
    ) -> dict[SensorKey, list[StoredReading]]:
        db, found = self._db(), {}
        for household_id, hub_id, sensor in keys:  # each an index range: tens of microseconds
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM readings WHERE household_id = ? AND sensor = ? AND ts >= ?"
                " AND ts < ? AND hub_id = ? ORDER BY ts DESC LIMIT ?",
                (household_id, sensor, since, math.inf if before is None else before, hub_id, limit)).fetchall()
            if rows:
                found[(household_id, hub_id, sensor)] = [StoredReading(*row) for row in rows]
        return found

    def count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM readings").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()
