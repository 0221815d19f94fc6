"""`shouwang db`: the state store's schema (status, upgrade, new migrations) and the reading store's setup."""

from __future__ import annotations

import argparse
from typing import Any

from cli.commands.common import load_settings
from shouwang.storage import migrate
from shouwang.storage.database import open_engine


def add_parser(commands: Any) -> None:
    db = commands.add_parser(
        "db", help="the stores: schema status and upgrade, InfluxDB setup",
        description="The state store's schema: see where it stands, bring it up to date after "
                    "installing a newer Shouwang (back it up first), and, for developers, write a new "
                    "migration. See docs/migrations.md.")
    sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    status = sub.add_parser("status", help="the state store's schema revision and the newest this code knows")
    status.set_defaults(handler=handle_status)
    upgrade = sub.add_parser(
        "upgrade", help="bring the state store to the newest schema, keeping every record",
        description="Bring the state store to the newest schema. A store made before migrations "
                    "existed is recognised as the baseline (and said so); one that differs from it "
                    "is refused. A new store is created.")
    upgrade.set_defaults(handler=handle_upgrade)
    revision = sub.add_parser(
        "revision", help="(developers) write a migration for what changed in shouwang/storage/schema.py",
        description="Compare shouwang/storage/schema.py with the newest migration and write the "
                    "difference as a new migration under shouwang/storage/migrations/versions/. "
                    "Read and edit it before committing.")
    revision.add_argument("-m", "--message", required=True, help="what the migration does, e.g. 'add visits.kind'")
    revision.add_argument("--empty", action="store_true", help="an empty migration to write by hand")
    revision.set_defaults(handler=handle_revision)


def handle_status(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    engine = open_engine(settings.storage.state_database_url())
    try:
        found = migrate.status(engine)
    finally:
        engine.dispose()
    print(f"state store   {engine.url.render_as_string(hide_password=True)}")
    print(f"revision      {found.revision or '(none)'}")
    print(f"newest        {found.head}")
    if found.kind == "current":
        print("up to date")
    elif found.kind == "new":
        print("empty: the first start (or `shouwang db upgrade`) creates it")
    else:
        print(found.advice())
    return 0 if found.kind in ("current", "new") else 1


def handle_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    engine = open_engine(settings.storage.state_database_url())
    try:
        migrate.upgrade(engine, say=print)
    finally:
        engine.dispose()
    return 0


def handle_revision(args: argparse.Namespace) -> int:
    path = migrate.new_revision(args.message, autogenerate=not args.empty)
    print(f"wrote {path}; read it, adjust it, and add a test if it moves data")
    return 0
