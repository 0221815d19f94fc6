"""Failed sign-ins kept in the state store, so every API process slows the same attacker."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.storage.database import writing
from shouwang.storage.schema import sign_in_failures as failures_table

DelayAfter = Callable[[str, int], float]
"""Seconds a key must wait after its n-th failure (n counts the try being made)."""


class SignInAttempts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def try_once(self, keys: Sequence[str], *, now: float, forget_s: float,
                 delay_after: DelayAfter) -> float:
        """Seconds these keys must still wait (nothing counted), or 0: the try is counted as
        a failure of each key until `succeeded` says otherwise."""
        t = failures_table
        keys = sorted(set(keys))  # rows locked in one order by every process: no deadlock
        self._forget_old(now - forget_s, now)
        with writing(self._engine) as db:
            # The first statement writes and locks these keys' rows (PostgreSQL: the upsert's
            # no-op update), so concurrent tries of the same keys queue here, and SQLite holds
            # its write lock from the start instead of failing to upgrade a read.
            self._lock_rows(db, keys, now)
            rows = {r.key: r for r in db.execute(select(t).where(t.c.key.in_(keys)))}
            wait = max((r.blocked_until - now for r in rows.values()), default=0.0)
            if wait > 0:
                return wait
            for key, row in rows.items():
                count = 1 if row.last_at < now - forget_s else row.failures + 1
                db.execute(update(t).where(t.c.key == key).values(
                    failures=count, last_at=now, blocked_until=now + delay_after(key, count)))
        return 0.0

    def _lock_rows(self, db: Connection, keys: Sequence[str], now: float) -> None:
        t = failures_table
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        rows = [{"key": k, "failures": 0, "last_at": now, "blocked_until": 0.0} for k in keys]
        db.execute(dialect.insert(t).values(rows).on_conflict_do_update(
            index_elements=[t.c.key], set_={"failures": t.c.failures}))

    def _forget_old(self, before: float, now: float) -> None:
        """Drop rows quiet since `before`; rows another try holds are skipped, never waited on."""
        t = failures_table
        old = (select(t.c.key).where(t.c.last_at < before, t.c.blocked_until < now)
               .with_for_update(skip_locked=True))
        with writing(self._engine) as db:
            db.execute(delete(t).where(t.c.key.in_(old)))

    def succeeded(self, *, forgive: str, uncount: str, tried_at: float) -> None:
        """The try made at `tried_at` succeeded: `forgive`'s failures are forgotten, and the
        try no longer counts against `uncount`, whose earlier failures stand. Nothing blocked
        `uncount` when the try was admitted, so unless another try came since, nothing does."""
        t = failures_table
        with writing(self._engine) as db:
            db.execute(delete(t).where(t.c.key == forgive))
            row = db.execute(select(t).where(t.c.key == uncount)).first()
            if row is not None:
                unblock = {"blocked_until": 0.0} if row.last_at <= tried_at else {}
                db.execute(update(t).where(t.c.key == uncount).values(
                    failures=max(0, row.failures - 1), **unblock))

    def failures(self, key: str) -> int:
        with self._engine.connect() as db:
            found = db.execute(select(failures_table.c.failures)
                               .where(failures_table.c.key == key)).scalar()
        return int(found or 0)
