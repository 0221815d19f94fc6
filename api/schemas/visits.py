"""The five visits, colour suggestions and decisions, and the 369 response figures."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import RequestBody, at, when
from api.schemas.households import COLOUR_PATTERN
from shouwang.domain.model import Household
from shouwang.domain.responses import ResponseRow, StepFigures
from shouwang.domain.tier_advice import StoredSuggestion
from shouwang.domain.visits_due import VisitDue


class VisitDueOut(BaseModel):
    household_id: str
    alias: str | None
    colour: str
    grid_id: str
    last_visit_at: datetime | None
    due_at: datetime = Field(description="a cadence after the last visit (五色五访: red daily … green quarterly)")
    overdue: bool
    overdue_h: float
    claimed_by: list[int] = Field(description="the staff who claimed the visits (and are reminded)")

    @classmethod
    def of(cls, due: VisitDue, home: Household) -> VisitDueOut:
        return cls(household_id=home.id, alias=home.alias, colour=home.tier.colour, grid_id=home.grid_id,
                   last_visit_at=when(due.last_visit_at), due_at=at(due.due_at), overdue=due.overdue,
                   overdue_h=round(due.overdue_s / 3600, 1), claimed_by=list(due.claimed_by))


class SuggestionOut(BaseModel):
    id: int
    household_id: str
    from_colour: str
    to_colour: str
    alert_ids: list[int] = Field(description="the genuine alerts that led to it")
    created_at: datetime
    state: str = Field(description="open, accepted (the colour was raised) or declined")

    @classmethod
    def of(cls, s: StoredSuggestion) -> SuggestionOut:
        return cls(id=s.id, household_id=s.household_id, from_colour=s.from_tier.colour,
                   to_colour=s.to_tier.colour, alert_ids=list(s.alert_ids), created_at=at(s.created_at),
                   state=s.state)


class ColourChangeIn(RequestBody):
    colour: str = Field(pattern=COLOUR_PATTERN, description="the new colour (red … green, or 1-5)")
    reason: str = Field(min_length=1, max_length=2000, description="why; kept in the audit trail")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"colour": "orange", "reason": "两次送医，需要每周走访"}]})


class SuggestionDeclineIn(RequestBody):
    reason: str = Field(min_length=1, max_length=2000, description="why the colour stays; kept in the audit trail")


class StepOut(BaseModel):
    measured: int = Field(description="alerts judged on this step: done, or past the limit without it")
    within: int
    share: float | None
    median_min: float | None

    @classmethod
    def of(cls, f: StepFigures) -> StepOut:
        return cls(measured=f.measured, within=f.within, share=f.share,
                   median_min=None if f.median_s is None else round(f.median_s / 60, 1))


class ResponseRowOut(BaseModel):
    by: str = Field(description="grid, colour or all")
    group: str
    alerts: int
    respond: StepOut
    handle: StepOut
    settle: StepOut

    @classmethod
    def of(cls, r: ResponseRow) -> ResponseRowOut:
        return cls(by=r.by, group=r.key, alerts=r.alerts, **{s: StepOut.of(f) for s, f in r.steps.items()})


class ResponsesOut(BaseModel):
    month: str
    limits_h: dict[str, float] = Field(description="369: respond, handle, settle within these hours")
    rows: list[ResponseRowOut]
