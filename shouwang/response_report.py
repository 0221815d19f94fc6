"""The 369 report for a month: the pure figures (`domain.responses`) over the state store's rows.

Shared by `shouwang report responses` and the cockpit's `/cockpit/responses`; whoever asks hands
in the households they may see, so a grid member's report covers their grids only.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shouwang.domain import responses
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Household
from shouwang.domain.responses import AlertTimes, ResponseLimits, ResponseRow
from shouwang.registry_csv import cell
from shouwang.settings import CareSettings
from shouwang.storage.state import StateStore

MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class ResponseReport:
    month: str
    limits: ResponseLimits
    rows: list[ResponseRow]
    alerts: list[AlertTimes]


def limits_of(care: CareSettings) -> ResponseLimits:
    return ResponseLimits(care.respond_within_h * 3600, care.handle_within_h * 3600,
                          care.settle_within_h * 3600)


def month_bounds(month: str, tz: ZoneInfo) -> tuple[float, float]:
    """The first moment of `month` ("2026-11") and of the month after, in the community's zone."""
    found = MONTH.fullmatch(month.strip())
    if found is None or not 1 <= int(found[2]) <= 12:
        raise InvalidInput(f"month {month!r} is not a month; write it as YYYY-MM, e.g. 2026-11")
    year, number = int(found[1]), int(found[2])
    if not 2000 <= year <= 2999:  # found by a tester: 9999-12 and 0000-01 were a 500
        raise InvalidInput(f"month {month!r} is not a month this report can cover (2000-01 to 2999-12)")
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def this_month(now: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(now, tz).strftime("%Y-%m")


def report(state: StateStore, households: list[Household], *, month: str, tz: ZoneInfo,
           care: CareSettings, now: float) -> ResponseReport:
    """Every alert opened in `month` at one of `households`, timed and summed per grid and colour."""
    start, end = month_bounds(month, tz)
    homes = {h.id: h for h in households}
    opened = [a for a in state.care_rows.alerts_opened_between(start, end) if a.household_id in homes]
    visits = state.care_rows.visit_times({a.household_id for a in opened}, start=start)
    times = responses.all_times(opened, homes, visits)
    limits = limits_of(care)
    grids = {h.grid_id for h in households}
    return ResponseReport(month, limits, responses.summary(times, limits, now=now, grids=grids), times)


def csv_text(found: ResponseReport) -> str:
    """The summary as CSV, one row per grid, per colour and for all."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["month", *responses.CSV_FIELDS], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: cell(value) for key, value in {"month": found.month, **row}.items()}
                     for row in responses.csv_rows(found.rows))
    return out.getvalue()
