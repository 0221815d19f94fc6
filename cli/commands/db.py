"""`shouwang db`: the state store's schema (status, upgrade, new migrations) and the reading store's setup."""

from __future__ import annotations

import argparse
from typing import Any

from cli.commands.common import load_settings
from shouwang.domain.errors import InvalidInput
from shouwang.storage import migrate
from shouwang.storage.database import open_engine
from shouwang.storage.influx_flux import RetentionPlan, hourly_task


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
    influx = sub.add_parser(
        "influx-setup", help="create or update InfluxDB 2's buckets, their retention and the hourly task",
        description="Create or update the InfluxDB 2 buckets for raw readings (kept "
                    "storage.influx_raw_retention_days) and hourly signs of life (kept "
                    "storage.influx_hourly_retention_days), and the task that fills the second from "
                    "the first every hour. Safe to run again after changing a retention.")
    influx.add_argument("--print", action="store_true", dest="print_only",
                        help="print the plan and the task's Flux instead of applying them")
    influx.set_defaults(handler=handle_influx_setup)


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


MIN_RAW_DAYS = 28.0
"""The detector re-reads up to four weeks of raw readings when it starts without its snapshot."""


def handle_influx_setup(args: argparse.Namespace) -> int:
    storage = load_settings(args).storage
    plan = RetentionPlan(storage.influx_bucket, storage.influx_raw_retention_days,
                         storage.influx_hourly_bucket, storage.influx_hourly_retention_days)
    if 0 < plan.raw_days < MIN_RAW_DAYS:
        raise InvalidInput(f"storage.influx_raw_retention_days is {plan.raw_days:g}; keep raw readings at least "
                           f"{MIN_RAW_DAYS:g} days (the detector re-reads four weeks when it starts afresh)")
    if plan.raw_bucket == plan.hourly_bucket:
        raise InvalidInput("storage.influx_bucket and storage.influx_hourly_bucket must differ")
    for line in plan.describe():
        print(line)
    if args.print_only:
        print()
        print(hourly_task(raw_bucket=plan.raw_bucket, hourly_bucket=plan.hourly_bucket, org=storage.influx_org))
        return 0
    if not storage.influx_url or storage.influx_token is None:
        raise InvalidInput("influx-setup needs SHOUWANG_STORAGE__INFLUX_URL and SHOUWANG_STORAGE__INFLUX_TOKEN "
                           "(a token allowed to manage buckets and tasks)")
    from shouwang.storage.readings_influx import set_up

    for line in set_up(url=storage.influx_url, token=storage.influx_token.get_secret_value(),
                       org=storage.influx_org, plan=plan):
        print(line)
    return 0
