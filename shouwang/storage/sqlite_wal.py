"""Switching a SQLite file to write-ahead logging, when other processes open it at the same time.

Changing the journal mode needs the file's exclusive lock, and SQLite answers "database is
locked" at once (without waiting out the busy timeout) when another connection is switching it
too: two gateways, or a gateway and a detector, started together on a fresh file failed to start
in about one start of three. The switch is retried until `timeout_s`; once a file is in WAL mode
it stays so, and the pragma only reads it.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

RETRY_S = 0.02


def enable_wal(cursor: Any, timeout_s: float = 30.0) -> None:
    """`PRAGMA journal_mode=WAL` on `cursor` (a DB-API cursor or sqlite3 connection), retried
    while the file is locked."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(RETRY_S)
