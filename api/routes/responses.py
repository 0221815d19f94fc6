"""The 369 limits, measured, for the month: per grid and colour, as JSON and as CSV.

Anyone who acts on alerts may see it, for the households they look after: a grid member their
grids, a caseworker their claimed households, duty leaders and admins the whole community.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import Context, CurrentStaff, Now, StateDep, require
from api.schemas.common import AUTHED
from api.schemas.visits import ResponseRowOut, ResponsesOut
from shouwang import response_report
from shouwang.response_report import ResponseReport

router = APIRouter(prefix="/cockpit", tags=["cockpit"])

Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default this month",
                                    examples=["2026-11"])]


def build(staff: CurrentStaff, state: StateDep, context: Context, now: Now, month: Month = None) -> ResponseReport:
    require(staff.role.sees_readings, "volunteers do not see alerts; the grid member does")
    homes = state.registry.households(viewer=staff, include_retired=True)
    return response_report.report(state, homes, month=month or response_report.this_month(now, context.tz),
                                  tz=context.tz, care=context.settings.care, now=now)


Report = Annotated[ResponseReport, Depends(build)]


@router.get("/responses", response_model=ResponsesOut, responses=AUTHED,
            summary="369: the share of the month's alerts acknowledged, visited and resolved within "
                    "the limits (3 h / 6 h / 9 h), per grid and colour, for the households you look after")
def responses(found: Report) -> ResponsesOut:
    limits = found.limits
    return ResponsesOut(month=found.month, limits_h={"respond": limits.respond_s / 3600,
                                                     "handle": limits.handle_s / 3600,
                                                     "settle": limits.settle_s / 3600},
                        rows=[ResponseRowOut.of(r) for r in found.rows])


@router.get("/responses.csv", responses=AUTHED, response_class=Response,
            summary="The 369 figures as CSV (UTF-8 with BOM, so Excel opens it)")
def responses_csv(found: Report) -> Response:
    return Response("\ufeff" + response_report.csv_text(found), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="responses-{found.month}.csv"'})
