"""Schema migrations: a store written by a9fda27 (before migrations) upgrades with nothing lost, on
SQLite and PostgreSQL; an older store is refused with what to do; the migrations' head is schema.py."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, Integer, Table, create_engine, func, insert, select, text

from cli.main import main
from shouwang.domain.alerts import AlertKind, AlertState, Finding, Outcome, Severity
from shouwang.storage import migrate
from shouwang.storage.audit_query import AuditFilter
from shouwang.storage.database import open_engine
from shouwang.storage.migrations.baseline import metadata as baseline
from shouwang.storage.schema import metadata
from shouwang.storage.state import StateStore

FIXTURE = Path(__file__).parents[1] / "fixtures" / "state-a9fda27.db"


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every baseline table, in primary-key order."""
    found = {}
    with engine.connect() as db:
        for table in baseline.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            found[table.name] = [tuple(r) for r in db.execute(select(table).order_by(*order))]
    return found


def load_fixture_into(url: str) -> None:
    """The fixture's rows in a store at the baseline schema with no migration history, as a9fda27
    would have left it on this database."""
    source = create_engine(f"sqlite:///{FIXTURE}")
    target = create_engine(url)
    baseline.create_all(target)
    with source.connect() as src, target.begin() as db:
        for table in baseline.sorted_tables:
            found = [dict(r._mapping) for r in src.execute(select(table))]
            if found:
                db.execute(insert(table), found)
            if target.dialect.name == "postgresql" and serial(table) and found:
                db.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"(SELECT max(id) FROM {table.name}))"))
    source.dispose()
    target.dispose()


def serial(table: Table) -> bool:
    return "id" in table.c and isinstance(table.c.id.type, Integer)


@pytest.fixture
def old_store(any_state_url: str, tmp_path: Path) -> str:
    """A store from before migrations: the fixture file itself on SQLite, its rows on PostgreSQL."""
    if any_state_url.startswith("sqlite"):
        copy = tmp_path / "old.db"
        shutil.copy(FIXTURE, copy)
        return f"sqlite:///{copy}"
    load_fixture_into(any_state_url)
    return any_state_url


def test_the_fixture_is_a_store_from_before_migrations() -> None:
    engine = create_engine(f"sqlite:///{FIXTURE}")
    try:
        assert migrate.status(engine).kind == "unversioned"
        counts = {name: len(found) for name, found in rows(engine).items()}
    finally:
        engine.dispose()
    assert counts["alerts"] == 2 and counts["deliveries"] == 3 and counts["dead_letters"] == 2
    assert counts["audit"] >= 10 and counts["households"] == 3 and counts["consents"] == 3


def test_a_store_from_before_migrations_upgrades_with_nothing_lost(old_store: str) -> None:
    engine = open_engine(old_store)
    before = rows(engine)
    said: list[str] = []
    after_status = migrate.upgrade(engine, say=said.append)
    after = rows(engine)
    engine.dispose()
    assert after_status.kind == "current"
    assert any("recognised a store made before migrations" in line for line in said)
    assert after == before
    state = StateStore.open(old_store)  # the code now accepts it, and every part reads it
    try:
        resolved = state.alerts.get(1)
        assert resolved.state is AlertState.RESOLVED and resolved.outcome is Outcome.ELDER_FINE
        assert {d.status.value for d in state.alerts.deliveries(1)} == {"failed", "delivered"}
        trail, total = state.audit_query.search(AuditFilter(entity="alert", entity_id="1"))
        assert total >= 4 and {"opened", "routed", "acknowledged", "resolved"} <= {e.action for e in trail}
        assert state.dead_letters.count() == 2 and state.dead_letters.drops() == {"nobody": 1}
        assert state.registry.household("hh-001").alias == "elder 1"
        new = state.alerts.open(Finding("hh-003", AlertKind.INACTIVITY, Severity.URGENT, 1.0, "quiet"),
                                now=2.0)
        assert new is not None and new.id == 3  # ids carry on after the old ones
    finally:
        state.close()


def test_opening_a_store_from_before_migrations_is_refused_with_the_command(old_store: str) -> None:
    with pytest.raises(migrate.StoreOutOfDate, match="run `shouwang db upgrade`"):
        StateStore.open(old_store)
    engine = open_engine(old_store)
    try:
        assert migrate.status(engine).kind == "unversioned"  # refusing changed nothing
    finally:
        engine.dispose()


def test_a_store_stamped_by_a_newer_shouwang_is_refused(any_state_url: str) -> None:
    StateStore.open(any_state_url).close()
    engine = open_engine(any_state_url)
    with engine.begin() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
    with pytest.raises(migrate.StoreOutOfDate, match="a newer version wrote it"):
        migrate.upgrade(engine, say=lambda _: None)
    engine.dispose()
    with pytest.raises(migrate.StoreOutOfDate, match="0999_from_the_future"):
        StateStore.open(any_state_url)


def test_an_older_revision_is_told_to_upgrade() -> None:
    behind = migrate.SchemaStatus("behind", "0001_baseline", "0002_next")
    assert "back it up, then run `shouwang db upgrade`" in behind.advice()


def test_a_new_store_is_created_at_the_newest_revision(any_state_url: str) -> None:
    StateStore.open(any_state_url).close()
    engine = open_engine(any_state_url)
    try:
        found = migrate.status(engine)
        with engine.connect() as db:
            versions = db.execute(select(func.count()).select_from(text("alembic_version"))).scalar()
    finally:
        engine.dispose()
    assert found.kind == "current" and found.revision == migrate.head() and versions == 1
    StateStore.open(any_state_url).close()  # and opened again as it is


def test_the_newest_migration_is_exactly_schema_py(any_state_url: str) -> None:
    """A table or column added to schema.py without a migration fails here: write one with
    `shouwang db revision -m ...` (docs/migrations.md)."""
    engine = create_engine(any_state_url)
    try:
        with engine.begin() as db:
            command.upgrade(migrate._config(db), "head")
        with engine.connect() as db:
            differences = compare_metadata(MigrationContext.configure(db, opts={"compare_type": True}),
                                           metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_a_store_unlike_the_baseline_is_refused_and_left_alone(tmp_path: Path) -> None:
    copy = tmp_path / "odd.db"
    shutil.copy(FIXTURE, copy)
    engine = open_engine(f"sqlite:///{copy}")
    with engine.begin() as db:
        db.execute(text("ALTER TABLE visits DROP COLUMN note"))
    before = rows_without(engine, "visits")
    with pytest.raises(migrate.StoreOutOfDate, match=r"lacks column visits\.note"):
        migrate.upgrade(engine, say=lambda _: None)
    assert migrate.status(engine).kind == "unversioned" and rows_without(engine, "visits") == before
    engine.dispose()


def rows_without(engine: Engine, skipped: str) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as db:
        return {t.name: [tuple(r) for r in db.execute(select(t))]
                for t in baseline.sorted_tables if t.name != skipped}


def test_a_table_the_old_store_lacked_is_made_and_said(tmp_path: Path) -> None:
    copy = tmp_path / "older.db"
    shutil.copy(FIXTURE, copy)
    engine = open_engine(f"sqlite:///{copy}")
    with engine.begin() as db:
        db.execute(text("DROP TABLE sign_in_failures"))
        db.execute(text("DROP INDEX ix_dead_letters_hub"))
    said: list[str] = []
    assert migrate.upgrade(engine, say=said.append).kind == "current"
    engine.dispose()
    assert "created table sign_in_failures, which this store lacked" in said
    assert "created index ix_dead_letters_hub, which this store lacked" in said


def test_db_upgrade_and_status_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "state.db"
    shutil.copy(FIXTURE, copy)
    monkeypatch.setenv("SHOUWANG_STORAGE__STATE_URL", f"sqlite:///{copy}")
    assert main(["db", "status"]) == 1
    assert "run `shouwang db upgrade`" in capsys.readouterr().out
    assert main(["households", "list"]) == 2
    assert "shouwang db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert "stamped it 0001_baseline" in capsys.readouterr().out
    assert main(["db", "status"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["households", "list"]) == 0
    assert "hh-001" in capsys.readouterr().out


REBUILD = '''"""test: copy two tables, as a migration that alters a column must on SQLite"""
import sqlalchemy as sa
from alembic import op

revision = "9999_rebuild_for_test"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", recreate="always") as batch:
        batch.add_column(sa.Column("channel_hint", sa.String(16)))
    with op.batch_alter_table("households", recreate="always") as batch:
        batch.alter_column("alias", existing_type=sa.String(200), type_=sa.String(300))


def downgrade() -> None:
    pass
'''


def test_a_migration_that_copies_referenced_tables_on_sqlite_keeps_every_row_and_index(tmp_path: Path) -> None:
    """SQLite alters a table by copying it; alerts and households are referenced by other tables
    and alerts carries the partial unique index that allows one unresolved alert per kind."""
    location = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    # After the newest real migration, so the test follows the schema as it stands.
    (location / "versions" / "9999_rebuild_for_test.py").write_text(REBUILD.replace("{head}", migrate.revisions()[-1]))
    copy = tmp_path / "old.db"
    shutil.copy(FIXTURE, copy)
    engine = open_engine(f"sqlite:///{copy}")
    before = rows(engine)
    found = migrate.upgrade(engine, say=lambda _: None, location=location)
    assert found.kind == "current" and found.revision == "9999_rebuild_for_test"
    assert rows(engine) == before
    with engine.connect() as db:
        index = db.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ux_alerts_one_unresolved'")).scalar()
        broken = db.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    engine.dispose()
    assert index is not None and "WHERE state != 'resolved'" in index
    assert broken == []
