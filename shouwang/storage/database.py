"""Connecting to the state store: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import os
import threading
import weakref

try:
    import fcntl
except ImportError:  # not on Windows: stores created there are not guarded across processes
    fcntl = None  # type: ignore[assignment]
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from shouwang.storage import migrate
from shouwang.storage.sqlite_wal import enable_wal

# SQLite keeps this many connections open: as many threads as read at once (the API's worker
# threads, the event loop, dispatch, the detector). A connection opened afresh costs its pragmas
# and a cold page cache, and one closed as overflow is opened again by the next request.
StateStoreUnavailable = OperationalError
"""What the state store raises when it cannot be reached (a dropped connection, a database refusing
them, SQLite busy): the roles hold their work and retry on it, without importing SQLAlchemy."""
SQLITE_POOL_SIZE = 20
SQLITE_POOL_OVERFLOW = 40

# One write lock per SQLite file in this process, shared by every engine on that file
# (see `writing`).
_sqlite_files: dict[Path, threading.RLock] = {}
_sqlite_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_sqlite_writers_guard = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def connect(url: str) -> Engine:
    """An engine for `url`: a new store is created at the newest schema, and a store at any other
    schema is refused with what to do (`shouwang db upgrade`; see `shouwang.storage.migrate`)."""
    engine = open_engine(url)
    try:
        migrate.prepare(engine, lock=_creating(url, engine))
    except BaseException:
        engine.dispose()
        raise
    return engine


def private_file(path: Path) -> None:
    """Make a new SQLite file (and its folder) readable by this user only: an elder's readings
    show when she is home (found by a tester: `init` left state.db readable by every user of the
    machine, 0644). SQLite gives its -wal and -shm files the database file's mode. A file or
    folder already there keeps the mode its operator gave it."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if str(path) != ":memory:" and not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def open_engine(url: str) -> Engine:
    """An engine for `url` as the stores use it, whatever its schema (for `shouwang db`)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        private_file(path)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_OVERFLOW)
        event.listen(engine, "connect", _sqlite_pragmas)
        with _sqlite_writers_guard:
            lock = _sqlite_files.setdefault(path.resolve(), threading.RLock())
            _sqlite_writers[engine] = lock
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    return engine


@contextmanager
def _creating(url: str, engine: Engine) -> Iterator[None]:
    """Held while a store may be created: processes started together on a fresh SQLite file
    (roles as processes) each created its tables, and all but one failed to start ("table grids
    already exists": pysqlite runs DDL outside a transaction). A lock file beside the database
    orders them across processes (where the platform has `fcntl`); this process's writers queue
    on the file's own lock. PostgreSQL takes an advisory lock instead (`migrate._create`)."""
    with _sqlite_writers.get(engine) or nullcontext():
        if not url.startswith("sqlite:///") or fcntl is None:
            yield
            return
        with open(f"{url.removeprefix('sqlite:///')}.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction, committed on leaving the block (rolled back on an exception).

    SQLite lets one connection write at a time. Its busy handler makes the others sleep in growing
    steps (up to 100 ms) and lets a newcomer take the lock ahead of those asleep, so under load
    (200 acknowledgements a second) writers waited seconds. This process's writers to a SQLite
    file queue here instead, each taking the file as soon as the one before commits; writers in
    other processes still meet the busy timeout. PostgreSQL locks rows, so it needs no queue.
    """
    with _sqlite_writers.get(engine) or nullcontext(), engine.begin() as db:
        yield db
