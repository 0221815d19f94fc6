"""Care commands: the 369 report, overdue visits, and a household's colour decided by a person."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cli.commands.common import load_settings, open_state, pad
from shouwang import response_report
from shouwang.domain import tier_advice
from shouwang.domain.model import Tier
from shouwang.domain.responses import STEPS, ResponseRow, StepFigures
from shouwang.domain.visits_due import visits_due
from shouwang.storage.audit import Actor
from shouwang.storage.state import StateStore


def add_parser(commands: Any) -> None:
    report = commands.add_parser("report", help="reports: the 369 response limits, overdue visits",
                                 description="Reports a community hands on: how fast alerts were "
                                 "answered (369) and which visits (五色五访) are overdue.")
    kinds = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    p = kinds.add_parser("responses", help="per grid and colour, the share of a month's alerts "
                         "acknowledged, visited and resolved within the limits (default 3 h / 6 h / 9 h)",
                         description="Per grid and per colour: of the month's alerts, the share "
                         "acknowledged within care.respond_within_h, visited (or resolved) within "
                         "care.handle_within_h and resolved within care.settle_within_h.")
    p.add_argument("--month", help="YYYY-MM (default this month, in the community's time zone)")
    p.add_argument("--csv", action="store_true", help="print CSV (UTF-8) instead of a table")
    p.add_argument("--alerts", action="store_true", help="also list every alert's times")
    p.set_defaults(handler=responses)
    p = kinds.add_parser("visits", help="overdue visits, most overdue first, and who claimed each")
    p.set_defaults(handler=overdue_visits)


def add_household_parsers(homes: Any) -> None:
    p = homes.add_parser("colour", help="change a household's colour: a person's decision, with why",
                         description="Change a household's colour (red, orange, yellow, blue, green or "
                         "红/橙/黄/蓝/绿). The audit trail keeps who decided and why; an open colour "
                         "suggestion is answered by it.")
    p.add_argument("household_id")
    p.add_argument("colour", type=_colour)
    p.add_argument("--reason", required=True, help="why the colour changes")
    p.add_argument("--by", required=True, metavar="USERNAME", help="the staff member who decided")
    p.set_defaults(handler=change_colour)


def _open(args: argparse.Namespace) -> tuple[StateStore, ZoneInfo, Any]:
    settings = load_settings(args)
    return open_state(args, settings), ZoneInfo(settings.timezone), settings


def responses(args: argparse.Namespace) -> int:
    state, tz, settings = _open(args)
    now = time.time()
    month = args.month or response_report.this_month(now, tz)
    found = response_report.report(state, state.registry.households(include_retired=True), month=month,
                                   tz=tz, care=settings.care, now=now)
    if args.csv:
        sys.stdout.write(response_report.csv_text(found))
        return 0
    names = {g.id: g.name for g in state.registry.grids(include_retired=True)}
    limits = found.limits
    print(f"369 response limits, {month}: acknowledged within {limits.respond_s / 3600:g} h, visited "
          f"within {limits.handle_s / 3600:g} h, resolved within {limits.settle_s / 3600:g} h")
    print(f"{pad('', 16)} {'alerts':>6}   " + " ".join(f"{step:<17}" for step in STEPS).rstrip())
    for row in found.rows:
        print(_line(row, names))
    if args.alerts:
        _alert_lines(found, tz)
    return 0


def _line(row: ResponseRow, names: dict[str, str]) -> str:
    label = {"grid": f"{row.key} {names.get(row.key, '')}".strip(), "colour": row.key,
             "all": "all"}[row.by]
    return (f"{pad(label, 16)} {row.alerts:>6}   " + " ".join(f"{_share(row.steps[s]):<17}" for s in STEPS)).rstrip()


def _share(figures: StepFigures) -> str:
    """"17/19  89%   81m": within the limit of those judged, the share, the median time."""
    if not figures.measured:
        return f"{'-':>3}{'':14}"
    median = "" if figures.median_s is None else f"{figures.median_s / 60:.0f}m"
    return f"{figures.within:>3}/{figures.measured:<3} {100 * (figures.share or 0):3.0f}% {median:>5}"


def _alert_lines(found: response_report.ResponseReport, tz: ZoneInfo) -> None:
    print()
    print(f"{'alert':>6} {'household':<14} {'grid':<8} {'colour':<7} {'opened':<12} respond  handle  settle")
    for t in found.alerts:
        mins = ["-" if v is None else f"{v / 60:.0f}m" for v in (t.respond_s, t.handle_s, t.settle_s)]
        opened = datetime.fromtimestamp(t.opened_at, tz).strftime("%m-%d %H:%M")
        print(f"{t.alert_id:>6} {t.household_id:<14} {t.grid_id:<8} {t.colour:<7} {opened:<12} "
              f"{mins[0]:>7} {mins[1]:>7} {mins[2]:>7}")


def overdue_visits(args: argparse.Namespace) -> int:
    state, tz, settings = _open(args)
    now = time.time()
    roster = state.registry.roster()
    who = {s.id: s.username for s in roster}
    homes = {h.id: h for h in state.registry.households()}
    dues = [d for d in visits_due(homes.values(), state.visits.last_by_household(), roster,
                                  {t: settings.care.visit_every_s(t) for t in Tier}, now=now) if d.overdue]
    if not dues:
        print("no visit is overdue")
        return 0
    print(f"{'household':<14} {'colour':<7} {'grid':<8} {'last visit':<12} {'overdue':>8}  claimed by")
    for d in dues:
        last = datetime.fromtimestamp(d.last_visit_at, tz).strftime("%m-%d %H:%M") if d.last_visit_at else "never"
        late = f"{d.overdue_s / 86400:.1f} d" if d.overdue_s >= 86400 else f"{d.overdue_s / 3600:.0f} h"
        print(f"{d.household_id:<14} {d.tier.colour:<7} {homes[d.household_id].grid_id:<8} {last:<12} "
              f"{late:>8}  {', '.join(who[i] for i in d.claimed_by) or 'nobody'}")
    return 0


def _colour(text: str) -> Tier:
    try:
        return Tier.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def change_colour(args: argparse.Namespace) -> int:
    state, _, _ = _open(args)
    household = state.registry.household(args.household_id)
    to: Tier = args.colour
    staff = state.registry.staff_by_username(args.by)
    tier_advice.check_tier_change(household, to, args.reason)
    state.care.change_tier(household, to, reason=args.reason.strip(), actor=Actor(staff.username, staff.id),
                           now=time.time())
    print(f"{household.id} is now {to.colour} (was {household.tier.colour}); decided by {staff.username}: "
          f"{args.reason.strip()}")
    return 0
