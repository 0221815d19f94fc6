"""Registry commands: grids, staff, households, hubs — what a community keeps in spreadsheets."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from shouwang import registry_csv
from shouwang.commands.common import load_settings
from shouwang.domain.model import Grid, Hub, Role
from shouwang.registration import import_households
from shouwang.storage.state import StateStore


def _state(args: argparse.Namespace) -> StateStore:
    settings = load_settings(args)
    return StateStore.open(settings.storage.state_database_url())


def add_parsers(commands: Any) -> None:
    grids = commands.add_parser("grids", help="grids (网格) of the community").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = grids.add_parser("add", help="add or rename a grid")
    p.add_argument("grid_id")
    p.add_argument("name")
    p.set_defaults(handler=grid_add)

    staff = commands.add_parser("staff", help="staff and their API tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = staff.add_parser("add", help="add a staff member and print their API token once")
    p.add_argument("username")
    p.add_argument("--name", required=True, help="full name, e.g. 王芳")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--grid", action="append", default=[], help="a grid they work in (repeatable)")
    p.add_argument("--phone")
    p.add_argument("--webhook", help="URL that receives alerts as JSON POSTs")
    p.add_argument("--no-mqtt", action="store_true", help="do not publish their alerts over MQTT")
    p.set_defaults(handler=staff_add)
    p = staff.add_parser("token", help="issue another API token for a staff member")
    p.add_argument("username")
    p.add_argument("--label", default="cli")
    p.set_defaults(handler=staff_token)
    p = staff.add_parser("list", help="list staff")
    p.set_defaults(handler=staff_list)

    homes = commands.add_parser("households", help="households under watch").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = homes.add_parser("import", help="add or update households (and their hubs) from a CSV file")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=households_import)
    p = homes.add_parser("list", help="list households")
    p.set_defaults(handler=households_list)

    hubs = commands.add_parser("hubs", help="sensor hubs").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = hubs.add_parser("add", help="register a hub for a household")
    p.add_argument("hub_id")
    p.add_argument("--household", required=True)
    p.add_argument("--report-interval", type=float, default=900.0, help="seconds (default 900)")
    p.set_defaults(handler=hub_add)

    p = commands.add_parser("dead-letters", help="show messages the gateway refused, and why")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler=dead_letters)


def grid_add(args: argparse.Namespace) -> int:
    _state(args).registry.add_grid(Grid(args.grid_id, args.name))
    print(f"grid {args.grid_id} ({args.name}) saved")
    return 0


def staff_add(args: argparse.Namespace) -> int:
    state = _state(args)
    now = time.time()
    member = state.registry.add_staff(
        username=args.username, name=args.name, role=Role(args.role), grid_ids=args.grid,
        phone=args.phone, webhook_url=args.webhook, notify_mqtt=not args.no_mqtt, now=now,
    )
    token = state.registry.issue_token(member.id, name="cli", now=now)
    print(f"staff {member.username} added with id {member.id} ({member.role.value})")
    print(f"API token (shown once, keep it safe): {token}")
    return 0


def staff_token(args: argparse.Namespace) -> int:
    state = _state(args)
    member = state.registry.staff_by_username(args.username)
    token = state.registry.issue_token(member.id, name=args.label, now=time.time())
    print(f"API token for {member.username} (shown once): {token}")
    return 0


def staff_list(args: argparse.Namespace) -> int:
    for m in _state(args).registry.roster():
        print(f"{m.id:>4}  {m.username:<16} {m.role.value:<12} {','.join(sorted(m.grid_ids)):<12} {m.name}")
    return 0


def households_import(args: argparse.Namespace) -> int:
    state = _state(args)
    rows = registry_csv.parse(args.file.read_text(encoding="utf-8-sig"))
    report = import_households(state, rows, now=time.time())
    print(f"{report.added} households added, {report.updated} updated, "
          f"{report.hubs_added} hubs added, {report.grids_added} grids added")
    return 0


def households_list(args: argparse.Namespace) -> int:
    state = _state(args)
    statuses = state.status.all()
    for h in state.registry.households():
        status = statuses.get(h.id)
        last = time.strftime("%Y-%m-%d %H:%M", time.localtime(status.last_sign_at)) if (
            status and status.last_sign_at) else "-"
        print(f"{h.id:<12} {h.tier.colour:<7} {h.grid_id:<8} last sign of life {last}  {h.alias or ''}")
    return 0


def hub_add(args: argparse.Namespace) -> int:
    _state(args).registry.add_hub(Hub(args.hub_id, args.household, args.report_interval),
                                  now=time.time())
    print(f"hub {args.hub_id} registered to household {args.household}")
    return 0


def dead_letters(args: argparse.Namespace) -> int:
    state = _state(args)
    print(f"{state.dead_letters.count()} dead letters in all; newest first:")
    for d in state.dead_letters.recent(args.limit):
        when = time.strftime("%m-%d %H:%M:%S", time.localtime(d.received_at))
        print(f"{when}  {d.topic}\n    reason: {d.reason}\n    payload: {d.payload[:160]}")
    return 0
