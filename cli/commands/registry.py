"""Registry commands: grids, staff, households, hubs — what a community keeps in spreadsheets."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cli.commands import care, cover, devices, notify, provision
from cli.commands.common import DEMO_DIR, checked_webhook, gap_lines, load_settings, noted, open_state, pad
from dispatch import policy
from dispatch.gaps import coverage_gaps
from shouwang.domain.channels import LANGUAGES, StaffChannel
from shouwang.domain.delivery import Channel
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import GRID_ROLES, Grid, Hub, Role, Staff, grids_problem, still_watched
from shouwang.domain.webhooks import check_channels, parse_channel
from shouwang.registration import import_households
from shouwang.registry_csv import OPTIONAL, REQUIRED, spreadsheet_text
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.state import StateStore


def _state(args: argparse.Namespace) -> StateStore:
    settings = load_settings(args)
    return open_state(args, settings)


def _state_and_tz(args: argparse.Namespace) -> tuple[StateStore, ZoneInfo]:
    settings = load_settings(args)
    return open_state(args, settings), ZoneInfo(settings.timezone)


class _Actions:
    """A command's actions, each of which says what it does under its own --help as well."""

    def __init__(self, actions: Any) -> None:
        self._actions = actions

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser:
        options.setdefault("description", options.get("help"))
        parser: argparse.ArgumentParser = self._actions.add_parser(name, **options)
        return parser


def _actions(commands: Any, name: str, help_text: str) -> Any:
    return _Actions(commands.add_parser(name, help=help_text, description=help_text).add_subparsers(
        dest="action", required=True, metavar="ACTION"))


def add_parsers(commands: Any) -> None:
    grids = _actions(commands, "grids", "grids (网格) of the community")
    p = grids.add_parser("add", help="add or rename a grid")
    p.add_argument("grid_id", type=str.strip, help="a short id, e.g. g-01")
    p.add_argument("name", help="the grid's name, e.g. 东园网格")
    p.set_defaults(handler=grid_add)
    grids.add_parser("list", help="list grids and who works in each").set_defaults(handler=grid_list)

    staff = _actions(commands, "staff", "staff, how they are told about alerts, and their API tokens")
    p = staff.add_parser("add", help="add a staff member and print their API token once")
    p.add_argument("username", type=str.strip, help="what they sign in with, e.g. wang.fang")
    p.add_argument("--name", required=True, help="full name, e.g. 王芳")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    _contact_options(p)
    p.set_defaults(handler=staff_add)
    p = staff.add_parser("update", help="change a staff member's grids, channels, phone or name")
    p.add_argument("username", help="a staff member's username (see `staff list`)")
    p.add_argument("--name", help="their full name")
    _contact_options(p)
    p.add_argument("--mqtt", action="store_true", help="publish their alerts over MQTT again")
    p.set_defaults(handler=staff_update)
    p = staff.add_parser("retire", help="stop routing alerts to a staff member; their tokens stop working")
    p.add_argument("username", help="a staff member's username (see `staff list`)")
    p.set_defaults(handler=staff_retire)
    p = staff.add_parser("token", help="issue another API token for a staff member")
    p.add_argument("username", help="a staff member's username (see `staff list`)")
    p.add_argument("--label", default="cli", help="what the token is for")
    p.set_defaults(handler=staff_token)
    staff.add_parser("list", help="list staff").set_defaults(handler=staff_list)
    p = staff.add_parser("password", help="set a staff member's password for the web page")
    p.add_argument("username", help="a staff member's username (see `staff list`)")
    p.add_argument("--stdin", action="store_true",
                   help="read the password from standard input (also what happens when it is piped in)")
    p.set_defaults(handler=staff_password)
    notify.add_parser(staff)
    cover.add_parsers(commands, staff)

    homes = _actions(commands, "households", "households under watch")
    p = homes.add_parser(
        "import", help="add or update households (and their hubs) from a CSV file",
        description=f"Columns (header row): {', '.join(REQUIRED)} required; {', '.join(OPTIONAL)} optional. "
        "colour is red/orange/yellow/blue/green, 1-5 or 红/橙/黄/蓝/绿. Every problem is reported with "
        "its line number, and nothing is imported until all rows are right.")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=households_import)
    homes.add_parser("list", help="list households and their last sign of life").set_defaults(
        handler=households_list)
    p = homes.add_parser("consent", help="record (or withdraw) a household's consent to sensing",
                         description="Monitoring starts only with consent (who agreed, when, to what).")
    p.add_argument("household_id", help="the household's id (see `households list`)")
    p.add_argument("--by", required=True, help="who agreed: the elder's name, or a relative's")
    p.add_argument("--relationship", default="self",
                   help="how the person who agreed is related to the elder, e.g. son, daughter (default self)")
    p.add_argument("--date", help="when they agreed, YYYY-MM-DD (default now)")
    p.add_argument("--share-with-family", action="store_true", help="they also agreed to share with family")
    p.add_argument("--withdraw", action="store_true", help="record that consent is withdrawn")
    p.add_argument("--note", help="anything worth keeping with the record, e.g. where the signed form is")
    p.set_defaults(handler=households_consent)
    care.add_household_parsers(homes)

    hubs = _actions(commands, "hubs", "sensor hubs")
    p = hubs.add_parser("add", help="register a hub for a household")
    p.add_argument("hub_id", type=str.strip, help="the id the hub publishes under: shouwang/v1/hubs/HUB_ID/...")
    p.add_argument("--household", required=True, help="the household it watches (an id from `households list`)")
    p.add_argument("--report-interval", type=float, default=900.0,
                   help="seconds between a hub's reports when nothing happens (default 900)")
    p.set_defaults(handler=hub_add)
    hubs.add_parser("list", help="list hubs: their household, whether they say they are online, when "
                                 "last heard").set_defaults(handler=hub_list)
    provision.add_parser(hubs)
    devices.add_parser(hubs)

    p = commands.add_parser("dead-letters", help="show messages the gateway refused, and why",
                            description="Show messages the gateway refused (newest first), why, and how many "
                            "were dropped to keep the table within its caps.")
    p.add_argument("--limit", type=int, default=20, help="how many of the newest to show (default 20)")
    p.set_defaults(handler=dead_letters)


def _contact_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grid", action="append",
                   help="a grid they work in; repeat for several (with `update`, the grids given replace theirs)")
    p.add_argument("--phone", help="their phone number, shown to colleagues ('' removes it)")
    p.add_argument("--webhook", help="an https URL that receives their alerts as JSON POSTs ('' removes it)")
    p.add_argument("--allow-http", action="store_true",
                   help="accept a plain http webhook (alerts then cross the network unencrypted)")
    p.add_argument("--no-mqtt", action="store_true", help="do not publish their alerts over MQTT")
    p.add_argument("--channel", action="append", metavar="KIND:ADDRESS[#OPTIONS]",
                   help="a channel, in the order they are told; repeat for several (with `update`, the "
                   "channels given replace theirs). KIND is webhook, wecom, dingtalk, feishu, sms or mqtt; "
                   "OPTIONS a robot's signing secret or secret=S&lang=en&msgtype=markdown. e.g. "
                   "--channel 'dingtalk:https://oapi.dingtalk.com/robot/send?access_token=T#SEC...' "
                   "--channel sms:+8613800000000 --channel mqtt")
    p.add_argument("--lang", choices=LANGUAGES,
                   help="the language of the messages on the channels given (default zh)")


def _channels(args: argparse.Namespace) -> tuple[StaffChannel, ...] | None:
    """The --channel list, checked; None when none was given."""
    if not args.channel:
        if args.lang:
            raise InvalidInput("--lang applies to the channels given with --channel; give them too")
        return None
    if args.webhook is not None or args.no_mqtt or getattr(args, "mqtt", False):
        raise InvalidInput("give either --channel (the whole list) or --webhook/--mqtt/--no-mqtt, not both")
    listed = check_channels(parse_channel(spec, allow_http=args.allow_http, lang=args.lang)
                            for spec in args.channel)
    for channel in listed:
        if channel.address.startswith("http://"):
            print(f"warning: {channel.kind.value} {channel.shown_address} is plain http: alerts (names, "
                  "addresses) cross the network unencrypted; use https where the receiver can",
                  file=sys.stderr)
    return listed


def _told_by(member: Staff) -> str:
    return ", ".join(c.describe() for c in member.reached_by) or "NOTHING"


def _webhook(args: argparse.Namespace) -> str | None:
    return checked_webhook(args.webhook, allow_http=args.allow_http) if args.webhook else None


def grid_add(args: argparse.Namespace) -> int:
    state = _state(args)
    before = next((g for g in state.registry.grids(include_retired=True) if g.id == args.grid_id), None)
    state.registry.add_grid(Grid(args.grid_id, args.name))
    if before is None:
        noted(state, "grid_added", "grid", args.grid_id, {"name": args.name})
        print(f"grid {args.grid_id} ({args.name}) saved")
    elif before.name != args.name:  # found by a tester: a second `grids add` renamed it without a word
        noted(state, "grid_renamed", "grid", args.grid_id, {"from": before.name, "to": args.name})
        print(f"grid {args.grid_id} renamed from {before.name} to {args.name}")
    else:
        print(f"grid {args.grid_id} ({args.name}) is already saved")
    return 0


def grid_list(args: argparse.Namespace) -> int:
    registry = _state(args).registry
    roster = registry.roster()
    print(f"{'grid':<10} {'name':<16} staff")
    for grid in registry.grids():
        people = ", ".join(f"{s.username} ({s.role.value})" for s in roster if grid.id in s.grid_ids)
        print(f"{grid.id:<10} {pad(grid.name, 16)} {people or '-- nobody: alerts fall up the ladder'}")
    return 0


def staff_add(args: argparse.Namespace) -> int:
    role = Role(args.role)
    problem = grids_problem(role, args.grid or [])
    if problem is not None:
        raise InvalidInput(f"{problem}; " + ("give it with --grid GRID_ID" if role in GRID_ROLES
                                              else "leave out --grid"))
    state = _state(args)
    now = time.time()
    member = state.registry.add_staff(
        username=args.username, name=args.name, role=role, grid_ids=args.grid or [],
        phone=args.phone, webhook_url=_webhook(args), notify_mqtt=not args.no_mqtt,
        channels=_channels(args), now=now,
    )
    token = state.registry.issue_token(member.id, name="cli", now=now)
    noted(state, "staff_added", "staff", member.id, {"username": member.username, "role": member.role.value})
    print(f"staff {member.username} added with id {member.id} ({member.role.value}), told by "
          f"{_told_by(member)}")
    print(f"API token (shown once, keep it safe): {token}")
    return 0


def staff_update(args: argparse.Namespace) -> int:
    state = _state(args)
    registry = state.registry
    member = registry.staff_by_username(args.username)
    changes: dict[str, Any] = {}
    if args.name:
        changes["name"] = args.name
    if args.phone is not None:
        changes["phone"] = args.phone or None
    if args.webhook is not None:
        changes["webhook_url"] = _webhook(args)
    if args.no_mqtt or args.mqtt:
        changes["notify_mqtt"] = bool(args.mqtt)
    listed = _channels(args)
    if listed is not None:
        changes["channels"] = listed
    updated = registry.update_staff(member.id, grid_ids=args.grid, **changes)
    noted(state, "staff_changed", "staff", member.id,
          {"fields": sorted(changes) + (["grid_ids"] if args.grid is not None else [])})
    print(f"staff {updated.username} updated: grids {','.join(sorted(updated.grid_ids)) or '-'}, "
          f"webhook {updated.webhook_url or '-'}, mqtt {'on' if updated.notify_mqtt else 'off'}, "
          f"told by {_told_by(updated)}")
    return 0


def staff_retire(args: argparse.Namespace) -> int:
    """Retire someone, saying what it leaves without its proper recipient (found by a tester: the
    last duty leader, the only admin, a red household's caseworker each went without a word, and
    an alert was then routed to nobody)."""
    state = _state(args)
    registry = state.registry
    member = registry.staff_by_username(args.username)
    homes = registry.households()
    before = {g.en for g in coverage_gaps(homes, registry.roster())}
    registry.retire_staff(member.id, now=time.time())
    noted(state, "staff_retired", "staff", member.id)
    print(f"staff {member.username} retired: no more alerts, and their tokens no longer work")
    for gap in coverage_gaps(homes, registry.roster()):
        if gap.en not in before:
            print("\n".join(gap_lines(gap, "note: ")), file=sys.stderr)
    return 0


def staff_token(args: argparse.Namespace) -> int:
    state = _state(args)
    member = state.registry.staff_by_username(args.username)
    token = state.registry.issue_token(member.id, name=args.label, now=time.time())
    print(f"API token for {member.username} (shown once): {token}")
    return 0


def staff_password(args: argparse.Namespace) -> int:
    import getpass

    state = _state(args)
    member = state.registry.staff_by_username(args.username)
    if args.stdin or not sys.stdin.isatty():  # piped in: read it, rather than warn that it echoes
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"new password for {member.username}: ")
        if getpass.getpass("again: ") != password:
            raise InvalidInput("the two passwords differ; nothing changed")
    state.credentials.set_password(member.id, password, actor=Actor("cli"), now=time.time())
    print(f"password set for {member.username}; they sign in on the web page with it")
    return 0


def staff_list(args: argparse.Namespace) -> int:
    print(f"{'id':>4}  {'username':<16} {'role':<12} {'grids':<12} {'told by':<14} name")
    for m in _state(args).registry.roster():
        told = "+".join(c.value for c in policy.channels(m)) or "NOTHING"
        addresses = [c.describe() for c in m.reached_by if c.kind is not Channel.MQTT]
        print(f"{m.id:>4}  {m.username:<16} {m.role.value:<12} {','.join(sorted(m.grid_ids)) or '-':<12} "
              f"{told:<14} {m.name}" + (f"  {'; '.join(addresses)}" if addresses else ""))
    return 0


def households_import(args: argparse.Namespace) -> int:
    state, tz = _state_and_tz(args)
    text = spreadsheet_text(args.file.read_bytes(), source=str(args.file))
    try:
        report = import_households(state, text, now=time.time(), tz=tz)
    except KeyboardInterrupt:  # found by a tester: Ctrl-C left part of a file in, and said nothing
        print("shouwang: interrupted: part of the file may have been imported; run the same import "
              "again (it adds what is missing and changes nothing twice)", file=sys.stderr)
        return 130
    noted(state, "imported", "registry", "households", {"added": report.added, "updated": report.updated,
                                                       "changed": list(report.changed), "file": str(args.file)})
    print(f"{report.added} households added, {report.updated} updated, "
          f"{report.hubs_added} hubs added, {report.grids_added} grids added, "
          f"{report.consents_recorded} consents recorded")
    for line in report.changed:
        print(f"  changed {line}")
    unmonitored = len(state.registry.households()) - len(state.consent.consenting())
    if unmonitored > 0:
        print(f"{unmonitored} household(s) have no consent to sensing and are not monitored; record it "
              "with `shouwang households consent ID --by NAME` or a consent_by column")
    return 0


def households_consent(args: argparse.Namespace) -> int:
    state, tz = _state_and_tz(args)
    try:
        given = (datetime.combine(date.fromisoformat(args.date), datetime.min.time(), tz).timestamp()
                 if args.date else time.time())
    except ValueError as exc:
        raise InvalidInput(f"--date {args.date!r} is not a date (YYYY-MM-DD): {exc}") from None
    household = state.registry.household(args.household_id)
    if not args.withdraw:
        still_watched(household)
    consent = Consent(household.id, args.by, args.relationship, sensing=not args.withdraw,
                      share_with_family=args.share_with_family and not args.withdraw,
                      given_at=given, note=args.note)
    state.consent.record(consent, actor=Actor("cli"), now=time.time())
    if args.withdraw:
        print(f"consent withdrawn for {household.id}: it is no longer monitored")
    else:
        print(f"consent to sensing recorded for {household.id} (by {args.by}, {args.relationship}); "
              "monitoring starts now")
    return 0


def households_list(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    state = open_state(args, settings)
    tz = ZoneInfo(settings.timezone)
    statuses = state.status.all()
    homes = state.registry.households()
    consenting = state.consent.consenting()
    print(f"{'household':<12} {'colour':<7} {'grid':<8} {'monitored':<10} {'last sign of life':<18} alias")
    for h in homes:
        status = statuses.get(h.id)
        last = datetime.fromtimestamp(status.last_sign_at, tz).strftime("%Y-%m-%d %H:%M") if (
            status and status.last_sign_at) else "-"
        monitored = "yes" if h.id in consenting else "no consent"
        print(f"{h.id:<12} {h.tier.colour:<7} {h.grid_id:<8} {monitored:<10} {last:<18} {h.alias or ''}")
    demo = Path(DEMO_DIR)
    if not homes and settings.storage.state_url is None and (demo / "state.db").is_file() \
            and settings.storage.data_dir.resolve() != demo.resolve():
        print(f"(no households in {settings.storage.data_dir}/; `shouwang run --demo` keeps its "
              f"own in {DEMO_DIR}/: SHOUWANG_STORAGE__DATA_DIR={DEMO_DIR} shouwang households list)")
    return 0


def hub_add(args: argparse.Namespace) -> int:
    state = _state(args)
    state.registry.add_hub(Hub(args.hub_id, args.household, args.report_interval), now=time.time())
    noted(state, "hub_added", "hub", args.hub_id, {"household_id": args.household})
    print(f"hub {args.hub_id} registered to household {args.household}")
    return 0


def hub_list(args: argparse.Namespace) -> int:
    state, tz = _state_and_tz(args)
    presence = state.registry.presence()
    heard = {h: s.hub_last_seen_at for h, s in state.status.all().items()}
    print(f"{'hub':<16} {'household':<16} {'every':>6}  {'says':<8} last heard")
    for hub in state.registry.hubs():
        said = presence.get(hub.id)
        last = heard.get(hub.household_id)
        when = datetime.fromtimestamp(last, tz).strftime("%m-%d %H:%M") if last else "never"
        print(f"{hub.id:<16} {hub.household_id:<16} {hub.report_interval_s:>5.0f}s  "
              f"{said.state if said else '-':<8} {when}")
    return 0


def dead_letters(args: argparse.Namespace) -> int:
    state, tz = _state_and_tz(args)  # times in the community's zone, as everywhere else
    counts = ", ".join(f"{k} {n}" for k, n in sorted(state.dead_letters.count_by_category().items()))
    print(f"{state.dead_letters.count()} dead letters in all ({counts or 'none'}); newest first:")
    drops = state.dead_letters.drops()
    if drops:
        floods = ", ".join(f"{hub or 'any hub'} {n}" for hub, n in sorted(drops.items(), key=lambda d: -d[1])[:10])
        print(f"{sum(drops.values())} older dead letters were dropped to stay within the caps "
              f"(gateway.dead_letters_per_hub / _total): {floods}")
    for d in state.dead_letters.recent(args.limit):
        when = datetime.fromtimestamp(d.received_at, tz).strftime("%m-%d %H:%M:%S")
        print(f"{when}  {d.topic}\n    reason: {d.reason}\n    payload: {d.payload[:160]}")
    return 0
