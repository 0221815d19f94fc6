"""Schema migrations of the state store (Alembic), and the check every process makes on opening it.

A new store is created at the newest schema and stamped with it. A store of another schema is
refused, with what to do: older ones are brought up to date by `shouwang db upgrade`, which also
recognises a store made before migrations existed (no `alembic_version` table) as the baseline,
and says so. See docs/migrations.md.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Index, Table, create_engine, inspect, text

from shouwang.domain.errors import ShouwangError
from shouwang.storage.schema import metadata

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001_baseline"
VERSION_TABLE = "alembic_version"
_PG_LOCK = 0x5348_5757  # any fixed number: the advisory lock every process takes to create a store

Kind = Literal["new", "unversioned", "behind", "current", "ahead"]


class StoreOutOfDate(ShouwangError):
    """The state store's schema is not the one this code was written for."""


@dataclass(frozen=True)
class SchemaStatus:
    kind: Kind
    revision: str | None
    head: str

    def advice(self) -> str:
        """What is wrong, and what to do, in a user's words."""
        if self.kind == "unversioned":
            return ("the state store was made before Shouwang had schema migrations; back it up, then run "
                    "`shouwang db upgrade` to recognise it and bring it up to date")
        if self.kind == "behind":
            return (f"the state store's schema is at revision {self.revision}, older than this Shouwang "
                    f"({self.head}); back it up, then run `shouwang db upgrade`")
        if self.kind == "ahead":
            return (f"the state store's schema is at revision {self.revision}, which this Shouwang does not "
                    f"know (its newest is {self.head}): a newer version wrote it; run that version")
        return f"the state store's schema is {self.kind} (revision {self.revision}, newest {self.head})"


def _config(connection: Connection | None = None, location: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("file_template", "%%(rev)s")
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts(location: Path = MIGRATIONS) -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(location=location))


def head(location: Path = MIGRATIONS) -> str:
    """The newest revision this code knows."""
    heads = _scripts(location).get_heads()
    if len(heads) != 1:
        raise ShouwangError(f"the migrations have {len(heads)} heads {heads}; merge them "
                            "(`alembic merge`, see docs/migrations.md)")
    return heads[0]


def revisions(location: Path = MIGRATIONS) -> list[str]:
    """Every revision, oldest first."""
    return [s.revision for s in reversed(list(_scripts(location).walk_revisions()))]


def status(engine: Engine, location: Path = MIGRATIONS) -> SchemaStatus:
    with engine.connect() as db:
        return _status(db, location)


def _status(db: Connection, location: Path = MIGRATIONS) -> SchemaStatus:
    names = set(inspect(db).get_table_names())
    newest = head(location)
    if VERSION_TABLE in names:
        revision = db.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        if revision is not None:
            if revision == newest:
                return SchemaStatus("current", revision, newest)
            known = revision in revisions(location)
            return SchemaStatus("behind" if known else "ahead", revision, newest)
    if names & set(metadata.tables):
        return SchemaStatus("unversioned", None, newest)
    return SchemaStatus("new", None, newest)


def prepare(engine: Engine, *, lock: AbstractContextManager[Any] | None = None) -> None:
    """Create a new store at the newest schema; refuse one at any other (see `SchemaStatus.advice`)."""
    found = status(engine)
    if found.kind != "current":  # perhaps another process is creating it: look again in turn
        with lock or nullcontext():
            found = status(engine)
            if found.kind == "new":
                found = _create(engine, None)
    if found.kind != "current":
        raise StoreOutOfDate(found.advice())


def _create(engine: Engine, lock: AbstractContextManager[Any] | None) -> SchemaStatus:
    """Every table at the newest schema, stamped, in one step (processes starting together make it once)."""
    with lock or nullcontext(), engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        found = _status(db)
        if found.kind == "new":
            metadata.create_all(db)
            MigrationContext.configure(db).stamp(_scripts(), "head")
            found = SchemaStatus("current", found.head, found.head)
        return found


def upgrade(engine: Engine, say: Callable[[str], None] = print, *,
            location: Path = MIGRATIONS) -> SchemaStatus:
    """Bring the store to the newest schema, saying each step; refuse what it cannot recognise.
    (`location`: another migrations folder, for tests of migrations yet to be written.)"""
    found = status(engine, location)
    if found.kind == "new":
        _create(engine, None)
        say(f"created a new state store at revision {found.head}")
        return status(engine)
    if found.kind == "ahead":
        raise StoreOutOfDate(found.advice())
    if found.kind == "current":
        say(f"the state store is up to date (revision {found.head})")
        return found
    with _migrating(engine) as db:
        if found.kind == "unversioned":
            _recognise(db, say)
            MigrationContext.configure(db).stamp(_scripts(location), BASELINE)
            say(f"recognised a store made before migrations as the baseline; stamped it {BASELINE}")
        before = _status(db, location).revision
        command.upgrade(_config(db, location), "head")
        say(f"upgraded the state store from revision {before} to {head(location)}")
    return status(engine, location)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole upgrade. SQLite alters a table by copying it, which its foreign
    keys would refuse midway, so they are off meanwhile and checked before the commit."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as db:
        if sqlite:
            db.exec_driver_sql("PRAGMA foreign_keys=OFF")
            db.commit()
        try:
            with db.begin():
                yield db
                if sqlite:
                    broken = db.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreOutOfDate(f"the upgrade would break {len(broken)} references "
                                             f"(first: {tuple(broken[0])}); nothing was changed")
        finally:
            if sqlite:
                db.exec_driver_sql("PRAGMA foreign_keys=ON")


def _recognise(db: Connection, say: Callable[[str], None]) -> None:
    """Check an unversioned store has the baseline's schema. Tables and indexes it lacks are made
    (Shouwang before migrations made them at every start); anything else is refused."""
    from shouwang.storage.migrations.baseline import metadata as baseline

    context = MigrationContext.configure(db, opts={"compare_type": False})
    missing: list[Table | Index] = []
    other: list[str] = []
    for diff in _flatten(compare_metadata(context, baseline)):
        if diff[0] in ("add_table", "add_index"):
            missing.append(diff[1])
        elif diff[0] != "remove_table":  # a table not ours, in the same database, is left alone
            other.append(_describe(diff))
    made = {part.name for part in missing if isinstance(part, Table)}
    missing = [p for p in missing if isinstance(p, Table) or p.table is None or p.table.name not in made]
    if other:
        raise StoreOutOfDate("this state store has no migration history and differs from the baseline "
                             f"schema (a9fda27): {'; '.join(other[:10])}; it cannot be upgraded safely "
                             "as it is (docs/migrations.md)")
    for part in missing:
        part.create(db)
        say(f"created {'table' if isinstance(part, Table) else 'index'} {part.name}, "
            "which this store lacked")


def _flatten(diffs: list[Any]) -> Iterator[Any]:
    for diff in diffs:
        if isinstance(diff, list):  # column changes come grouped
            yield from diff
        else:
            yield diff


def _describe(diff: Any) -> str:
    """One difference from the baseline, as the store has it."""
    kind = diff[0]
    if kind == "add_column":
        return f"lacks column {diff[2]}.{diff[3].name}"
    if kind == "remove_column":
        return f"has a column the baseline lacks: {diff[2]}.{diff[3].name}"
    if kind.startswith("modify_"):
        return f"column {diff[2]}.{diff[3]} differs ({kind.removeprefix('modify_')})"
    if kind == "remove_index":
        return f"has an index the baseline lacks: {diff[1].name}"
    return f"{kind.replace('_', ' ')} {getattr(diff[1], 'name', None) or diff[1:]}"


def new_revision(message: str, *, autogenerate: bool = True) -> Path:
    """Write a migration from schema.py's difference to the newest revision (for developers)."""
    # alembic_version.version_num is VARCHAR(32): a longer id fails on PostgreSQL (SQLite takes it).
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:27].rstrip("_") or "change"
    rev_id = f"{len(revisions()) + 1:04d}_{slug}"
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'head.db'}")
        with engine.begin() as db:
            command.upgrade(_config(db), "head")
        with engine.begin() as db:
            script = command.revision(_config(db), message=message, autogenerate=autogenerate, rev_id=rev_id)
        engine.dispose()
    _scripts.cache_clear()
    if script is None or isinstance(script, list):
        raise ShouwangError("alembic wrote no single revision")
    return Path(script.path)
