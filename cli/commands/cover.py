"""Who answers: the duty roster, leave and deputies, family contacts, maintenance windows, and
`dispatch explain` (the effective ladder of a household)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cli.commands.common import CLI, checked_webhook, gap_lines, load_settings, open_state
from dispatch.explain import explain
from dispatch.family import family_to_tell
from dispatch.gaps import cover_gaps
from dispatch.ladders import LadderPolicy
from shouwang.domain.alerts import AlertKind
from shouwang.domain.cover import WEEKDAYS, DutySlot, FamilyContact, Leave, hour_name
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import still_watched
from shouwang.settings import Settings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import SHARE_WITH_FAMILY
from shouwang.storage.state import StateStore


def _open(args: argparse.Namespace) -> tuple[Settings, StateStore, ZoneInfo]:
    settings = load_settings(args)
    return settings, open_state(args, settings), ZoneInfo(settings.timezone)


def when(text: str, tz: ZoneInfo, *, option: str, through: bool = False) -> float:
    """A date or a date and time in the community's zone (2026-12-01, 2026-12-01T08:00). With
    `through`, a bare date is the end of that day: `--to 2026-12-05` is read as through the 5th
    (found by a tester: it ended at 00:00 on the 5th, a day early as an operator reads it)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a date or time (2026-12-01 or 2026-12-01T08:00)") from None
    if through and len(text.strip()) == 10:  # a date alone
        moment += timedelta(days=1)
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).timestamp()


def _days(text: str) -> list[int]:
    if text in ("daily", "every"):
        return list(range(7))
    if text == "weekdays":
        return list(range(5))
    days = []
    for day in text.lower().split(","):
        if day[:3] not in WEEKDAYS:
            raise InvalidInput(f"unknown weekday {day!r}; use mon…sun, a list (mon,wed), weekdays or daily")
        days.append(WEEKDAYS.index(day[:3]))
    return days


def _hours(text: str) -> tuple[int, int]:
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError:
        raise InvalidInput(f"hours {text!r}: give FROM-TO in whole hours, e.g. 8-18, or 18-8 for night duty"
                           ) from None
    return start, end


def add_parsers(commands: Any, staff: Any) -> None:
    roster = commands.add_parser("roster", help="the weekly duty roster: who is duty leader when",
                                 description="the weekly duty roster: who is duty leader when").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    roster.add_parser("list", help="show the roster and the hours nobody is on duty").set_defaults(
        handler=roster_list)
    p = roster.add_parser("add", help="put someone on duty on weekdays between hours (local time)")
    p.add_argument("username", help="who is on duty (see `staff list`)")
    p.add_argument("days", help="mon…sun, a list (mon,wed), weekdays or daily")
    p.add_argument("hours", help="FROM-TO in whole hours: 8-18, or 18-8 for night duty into the next day")
    p.set_defaults(handler=roster_add)
    p = roster.add_parser("remove", help="take a slot off the roster (its id from `roster list`)")
    p.add_argument("slot_id", type=int)
    p.set_defaults(handler=roster_remove)

    p = staff.add_parser("leave", help="someone is off from–to; their deputy receives what they would")
    p.add_argument("username", help="who is off (see `staff list`)")
    p.add_argument("--from", dest="starts", required=True, help="2026-12-01 or 2026-12-01T08:00, local time")
    p.add_argument("--to", dest="ends", required=True,
                   help="their last day (2026-12-05: through that day) or when they are back (2026-12-05T08:00)")
    p.add_argument("--deputy", help="who stands in (without one: the duty leader on duty, reported as a gap)")
    p.add_argument("--reason", help="e.g. 年假 (annual leave)")
    p.set_defaults(handler=leave_add)
    staff.add_parser("leaves", help="list leave not yet over, with deputies").set_defaults(handler=leave_list)
    p = staff.add_parser("leave-cancel", help="cancel a leave (its id from `staff leaves`)")
    p.add_argument("leave_id", type=int)
    p.set_defaults(handler=leave_cancel)

    family = commands.add_parser("family", help="a household's emergency contacts on its ladder",
                                 description="a household's emergency contacts on its ladder").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = family.add_parser("add", help="add a relative who agreed to be called about the household's alerts")
    p.add_argument("household_id")
    p.add_argument("--name", required=True, help="e.g. 王小红")
    p.add_argument("--relation", required=True, help="e.g. daughter (女儿)")
    reached = p.add_mutually_exclusive_group(required=True)
    reached.add_argument("--sms", metavar="PHONE", help="their phone number, texted through the community's "
                         "SMS gateway (dispatch.sms_gateway_url), e.g. +8613800000000")
    reached.add_argument("--webhook", help="an https URL their messages are POSTed to (a family app, or a "
                         "gateway of their own)")
    p.add_argument("--allow-http", action="store_true",
                   help="accept a plain http webhook (their messages then cross the network unencrypted)")
    p.add_argument("--consent-by", required=True, help="who agreed (usually the relative)")
    p.add_argument("--consent-date", help="when (YYYY-MM-DD; default now)")
    p.add_argument("--step", type=int, help="the ladder step they stand at (0 first); default: wherever the "
                   "ladder names `family`")
    p.set_defaults(handler=family_add)
    p = family.add_parser("list", help="a household's emergency contacts")
    p.add_argument("household_id")
    p.set_defaults(handler=family_list)
    p = family.add_parser("remove", help="take a contact off the ladder (its id from `family list`)")
    p.add_argument("contact_id", type=int)
    p.set_defaults(handler=family_remove)

    maintenance = commands.add_parser(
        "maintenance", help="maintenance windows: a hub or grid being worked on stays silent",
        description="maintenance windows: a hub or grid being worked on raises no hub-offline alert").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = maintenance.add_parser("add", help="put a hub or a grid under maintenance until a time")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--hub", help="a hub id")
    which.add_argument("--grid", help="a grid id: every hub of its households")
    p.add_argument("--until", required=True, help="2026-12-01T18:00, local time")
    p.add_argument("--reason", required=True, help="why, e.g. 更换电表")
    p.add_argument("--by", required=True, help="who (a staff username)")
    p.set_defaults(handler=maintenance_add)
    maintenance.add_parser("list", help="maintenance windows in force").set_defaults(handler=maintenance_list)
    p = maintenance.add_parser("end", help="end a maintenance window now (its id from `maintenance list`)")
    p.add_argument("window_id", type=int)
    p.add_argument("--by", required=True, help="who (a staff username)")
    p.set_defaults(handler=maintenance_end)

    # `shouwang dispatch` alone runs the dispatch role (roles.py); `dispatch explain` asks it a question.
    dispatch = commands.choices["dispatch"].add_subparsers(dest="action", required=False, metavar="[ACTION]")
    p = dispatch.add_parser("explain", help="the effective ladder of a household: who is called, how, when")
    p.add_argument("household_id")
    p.add_argument("--kind", default="inactivity", choices=[k.value for k in AlertKind],
                   help="the alert kind (default inactivity)")
    p.add_argument("--at", help="when the alert opens (local time, default now), e.g. 2026-12-01T03:00")
    p.set_defaults(handler=dispatch_explain)
    p = dispatch.add_parser("failing", help="the receivers whose notifications keep failing: to whom, how, why")
    p.set_defaults(handler=dispatch_failing)


def roster_list(args: argparse.Namespace) -> int:
    settings, state, tz = _open(args)
    names = {s.id: s.username for s in state.registry.roster()}
    slots = state.cover.slots()
    if not slots:
        print("no duty roster: every duty leader is called at any hour (`shouwang roster add USER DAYS FROM-TO`)")
    for slot in slots:
        print(f"{slot.id:>4}  {WEEKDAYS[slot.weekday]} {slot.start_h:02d}:00–{slot.end_h:02d}:00"
              f"{' (to the next day)' if slot.end_h <= slot.start_h else ''}  {names.get(slot.staff_id, '?')}")
    cover = state.cover.cover(tz, now=time.time())
    gaps = cover_gaps(LadderPolicy.of(settings.dispatch), state.registry.households(),
                      state.registry.roster(), cover, now=time.time(), date=lambda ts: _date(ts, tz))
    for gap in gaps:
        print("\n".join(gap_lines(gap, "gap: ")))
    return 0


def roster_add(args: argparse.Namespace) -> int:
    _, state, _ = _open(args)
    member = state.registry.staff_by_username(args.username)
    start, end = _hours(args.hours)
    for day in _days(args.days):
        slot = state.cover.add_slot(DutySlot(member.id, day, start, end), actor=CLI, now=time.time())
        print(f"slot {slot.id}: {member.username} on duty from {hour_name(day * 24 + start)} to "
              f"{end:02d}:00{' the next day' if end <= start else ''}")
    return 0


def roster_remove(args: argparse.Namespace) -> int:
    _, state, _ = _open(args)
    slot = state.cover.remove_slot(args.slot_id, actor=CLI, now=time.time())
    print(f"slot {args.slot_id} removed ({WEEKDAYS[slot.weekday]} {slot.start_h}-{slot.end_h})")
    return 0


def _date(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def leave_add(args: argparse.Namespace) -> int:
    _, state, tz = _open(args)
    member = state.registry.staff_by_username(args.username)
    deputy = state.registry.staff_by_username(args.deputy) if args.deputy else None
    leave = state.cover.add_leave(Leave(member.id, when(args.starts, tz, option="--from"),
                                        when(args.ends, tz, option="--to", through=True),
                                        deputy.id if deputy else None, args.reason), actor=CLI, now=time.time())
    stand_in = f"{deputy.username} receives what they would" if deputy else (
        "NO deputy: the duty leader on duty receives what they would")
    print(f"leave {leave.id}: {member.username} off {_date(leave.starts_at, tz)} to {_date(leave.ends_at, tz)}; "
          f"{stand_in}")
    return 0


def leave_list(args: argparse.Namespace) -> int:
    _, state, tz = _open(args)
    names = {s.id: s.username for s in state.registry.roster()}
    leaves = state.cover.leaves(ending_after=time.time())
    if not leaves:
        print("nobody is on leave")
    for lv in leaves:
        deputy = names.get(lv.deputy_id, "?") if lv.deputy_id is not None else "-- none: the duty leader on duty"
        print(f"{lv.id:>4}  {names.get(lv.staff_id, '?'):<14} {_date(lv.starts_at, tz)} → {_date(lv.ends_at, tz)}  "
              f"deputy {deputy}{f'  ({lv.reason})' if lv.reason else ''}")
    return 0


def leave_cancel(args: argparse.Namespace) -> int:
    _, state, _ = _open(args)
    state.cover.cancel_leave(args.leave_id, actor=CLI, now=time.time())
    print(f"leave {args.leave_id} cancelled")
    return 0


def family_add(args: argparse.Namespace) -> int:
    settings, state, tz = _open(args)
    household = still_watched(state.registry.household(args.household_id))
    now = time.time()
    channel, address = (("sms", args.sms) if args.sms is not None
                        else ("webhook", checked_webhook(args.webhook, allow_http=args.allow_http)))
    ladders = [LadderPolicy.of(settings.dispatch).ladder(household.tier, kind) for kind in AlertKind]
    top = max(ladder.top for ladder in ladders)
    if args.step is not None and not 0 <= args.step <= top:
        raise InvalidInput(f"--step {args.step}: the ladders of a {household.tier.colour} household have "
                           f"steps 0-{top}, so this contact would never be called")
    consent_at = when(args.consent_date, tz, option="--consent-date") if args.consent_date else now
    contact = state.family.add(FamilyContact(0, household.id, args.name, args.relation, channel, address,
                                             args.consent_by, consent_at, args.step), actor=CLI, now=now)
    where = f"at step {contact.step}" if contact.step is not None else "where the ladder names family"
    print(f"family contact {contact.id}: {contact.name} ({contact.relation}) of {household.id}, "
          f"{contact.channel} {contact.address}, {where}")
    if contact.step is None and not any("family" in step.who for ladder in ladders for step in ladder.steps):
        print(f"note: no ladder of a {household.tier.colour} household names `family`, so "
              f"{contact.name} is never called: give --step N (0-{top}), or add `family` to a step of "
              f"dispatch.ladders.{household.tier.colour}", file=sys.stderr)
    if not state.consent.has_consent(household.id, SHARE_WITH_FAMILY):
        print(f"note: {household.id} has not consented to sharing alerts with family, so {contact.name} is "
              "not called until it does: record it with `shouwang households consent "
              f"{household.id} --by NAME --relationship self --share-with-family`", file=sys.stderr)
    if contact.channel == "sms" and not settings.dispatch.sms_gateway_url:
        print("note: no SMS gateway is configured, so their texts fail until it is: set "
              "dispatch.sms_gateway_url (SHOUWANG_DISPATCH__SMS_GATEWAY_URL)", file=sys.stderr)
    return 0


def family_list(args: argparse.Namespace) -> int:
    _, state, tz = _open(args)
    contacts = state.family.of(args.household_id)
    if not contacts:
        print(f"{args.household_id} has no family contacts")
    for c in contacts:
        step = f"step {c.step}" if c.step is not None else "where the ladder names family"
        print(f"{c.id:>4}  {c.name} ({c.relation})  {c.channel} {c.address}  {step}  "
              f"consent: {c.consent_by}, {_date(c.consent_at, tz)}")
    return 0


def family_remove(args: argparse.Namespace) -> int:
    _, state, _ = _open(args)
    contact = state.family.remove(args.contact_id, actor=CLI, now=time.time())
    print(f"family contact {contact.id} ({contact.name}) is no longer on {contact.household_id}'s ladder")
    return 0


def maintenance_add(args: argparse.Namespace) -> int:
    _, state, tz = _open(args)
    who = state.registry.staff_by_username(args.by)
    if args.hub:
        state.registry.hub(args.hub)
    if args.grid:
        state.registry.grid(args.grid)  # found by a tester: an unknown grid ended in a database traceback
    window = state.maintenance.add(hub_id=args.hub, grid_id=args.grid, until=when(args.until, tz, option="--until"),
                                   reason=args.reason, actor=Actor(who.username, who.id), now=time.time())
    print(f"maintenance {window.id}: {'hub ' + args.hub if args.hub else 'grid ' + args.grid} until "
          f"{_date(window.until, tz)} ({window.reason}); its hub-offline alerts are silenced")
    return 0


def maintenance_list(args: argparse.Namespace) -> int:
    _, state, tz = _open(args)
    names = {s.id: s.username for s in state.registry.roster()}
    windows = state.maintenance.live(time.time())
    if not windows:
        print("no maintenance in force")
    for w in windows:
        what = f"hub {w.hub_id}" if w.hub_id else f"grid {w.grid_id}"
        print(f"{w.id:>4}  {what:<16} until {_date(w.until, tz)}  by {names.get(w.created_by or -1, '?')}: {w.reason}")
    return 0


def maintenance_end(args: argparse.Namespace) -> int:
    _, state, _ = _open(args)
    who = state.registry.staff_by_username(args.by)
    state.maintenance.end(args.window_id, actor=Actor(who.username, who.id), now=time.time())
    print(f"maintenance {args.window_id} ended: alerts are raised again")
    return 0


def dispatch_explain(args: argparse.Namespace) -> int:
    settings, state, tz = _open(args)
    household = state.registry.household(args.household_id)
    at = when(args.at, tz, option="--at") if args.at else time.time()
    kind = AlertKind(args.kind)
    source, ladder = LadderPolicy.of(settings.dispatch).chosen(household.tier, kind)
    lines = explain(household, kind, source=source, ladder=ladder, roster=state.registry.roster(),
                    cover=state.cover.cover(tz, now=at), contacts=family_to_tell(state, household.id), at=at, tz=tz)
    if state.family.of(household.id) and not state.consent.has_consent(household.id, SHARE_WITH_FAMILY):
        lines.append("family: none told — the household has not consented to sharing alerts with family "
                     "(shouwang households consent ... --share-with-family)")
    print("\n".join(lines))
    return 0


def dispatch_failing(args: argparse.Namespace) -> int:
    """Every receiver whose notifications are failing and still tried, staff's and relatives':
    found by a tester, only each alert's detail and the log named them."""
    _, state, tz = _open(args)
    staff = {s.id: s.username for s in state.registry.all_staff()}
    rows: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    for d in state.alerts.retrying():
        rows.setdefault((staff.get(d.staff_id, f"staff {d.staff_id}"), d.channel.value), []).append(
            (d.created_at, d.attempts, d.last_error or ""))
    for f in state.family.retrying():
        try:
            contact = state.family.get(f.contact_id)
            who, how = f"family {contact.name} ({contact.household_id})", contact.channel
        except NotFound:
            who, how = f"family contact {f.contact_id}", "?"
        rows.setdefault((who, how), []).append((f.created_at, f.attempts, f.last_error or ""))
    if not rows:
        print("no notification is failing")
        return 0
    for (who, how), failing in sorted(rows.items(), key=lambda item: min(r[0] for r in item[1])):
        since = min(r[0] for r in failing)
        newest = max(failing)
        print(f"{who} by {how}: {len(failing)} notification(s) failing since "
              f"{datetime.fromtimestamp(since, tz):%Y-%m-%d %H:%M}, {sum(r[1] for r in failing)} attempt(s); "
              f"last: {newest[2][:200]}")
    return 0
