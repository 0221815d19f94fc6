"""Households, hubs and grids as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Page, RequestBody, at, when
from shouwang.domain.alerts import Alert, AlertKind
from shouwang.domain.model import Grid, Household, Hub
from shouwang.domain.tier_advice import StoredSuggestion
from shouwang.domain.visits_due import VisitDue
from shouwang.storage.status import HouseholdStatus

Colour = str
COLOUR_PATTERN = "^(red|orange|yellow|blue|green)$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class OpenAlertBrief(BaseModel):
    id: int
    kind: str
    state: str
    severity: str
    explanation: str
    explanations: dict[str, str] = Field(description='by language: "en" and "zh"')
    opened_at: datetime


SILENCE_KINDS = frozenset({AlertKind.INACTIVITY, AlertKind.NO_WATER})
"""Alerts about a silence: closing one while the silence goes on is worth saying on the card."""


class UsualNow(BaseModel):
    silent_min: int = Field(description="minutes since the last sign of life")
    expected: float = Field(description="uses a usual week of this household brings in as long, at these hours")


class ClosedAlertBrief(BaseModel):
    id: int
    kind: str
    outcome: str | None
    resolved_at: datetime


class VisitBrief(BaseModel):
    last_visit_at: datetime | None
    due_at: datetime = Field(description="五色五访: a cadence after the last visit")
    overdue: bool


class SuggestionBrief(BaseModel):
    id: int
    to_colour: str
    alerts: int = Field(description="genuine alerts that led to it")


class HouseholdOut(BaseModel):
    id: str
    alias: str | None = Field(description="how staff call the household, e.g. 王秀英")
    address: str | None
    building: str | None
    colour: Colour
    tier: int
    grid_id: str
    caseworker_id: int | None
    away_until: datetime | None
    monitoring: bool = Field(description="sensing consent is recorded and the household is active")
    retired_at: datetime | None
    last_sign_of_life_at: datetime | None = Field(description="hidden from volunteers")
    last_sign_of_life_kind: str | None
    hub_last_seen_at: datetime | None
    open_alert: OpenAlertBrief | None = Field(description="the most urgent unresolved alert")
    usual_now: UsualNow | None = Field(
        default=None, description="the silence now beside what is usual for it (once the detector has learned "
        "the home's rhythm)")
    closed_while_silent: ClosedAlertBrief | None = Field(
        default=None,
        description="the last silence alert, if it was closed but no sign of life has come since its silence began")
    visit: VisitBrief | None = Field(default=None, description="when its colour's visit is due (五色五访)")
    colour_suggestion: SuggestionBrief | None = Field(
        default=None, description="an open suggestion to make its colour hotter (a person decides)")

    model_config = {"json_schema_extra": {"examples": [{
        "id": "sim-0001", "alias": "王秀英", "address": "1号楼 1单元 101", "building": "1号楼",
        "colour": "red", "tier": 1, "grid_id": "g-01", "caseworker_id": 7, "away_until": None,
        "monitoring": True, "retired_at": None,
        "last_sign_of_life_at": "2025-11-22T07:40:00Z", "last_sign_of_life_kind": "water",
        "hub_last_seen_at": "2025-11-22T09:55:00Z", "open_alert": None}]}}

    @classmethod
    def of(cls, h: Household, status: HouseholdStatus | None, *, monitoring: bool,
           alert: Alert | None, sees_readings: bool, closed: Alert | None = None,
           usual_now: UsualNow | None = None, visit: VisitDue | None = None,
           suggestion: StoredSuggestion | None = None) -> HouseholdOut:
        seen = status if sees_readings else None
        silent_since_closed = None
        if (closed is not None and closed.resolved_at is not None and alert is None and sees_readings
                and closed.kind in SILENCE_KINDS
                and (seen is None or seen.last_sign_at is None or seen.last_sign_at <= closed.since)):
            # No sign of life since the silence the alert was about began: closing it changed nothing.
            silent_since_closed = ClosedAlertBrief(
                id=closed.id, kind=closed.kind.value, outcome=closed.outcome.value if closed.outcome else None,
                resolved_at=at(closed.resolved_at))
        brief = None
        if alert is not None and sees_readings:
            brief = OpenAlertBrief(id=alert.id, kind=alert.kind.value, state=alert.state.value,
                                   severity=alert.severity.value, explanation=alert.explanation,
                                   explanations=alert.explanations,
                                   opened_at=when(alert.opened_at))  # type: ignore[arg-type]
        return cls(
            id=h.id, alias=h.alias, address=h.address, building=h.building, colour=h.tier.colour,
            tier=int(h.tier), grid_id=h.grid_id, caseworker_id=h.caseworker_id,
            away_until=when(h.away_until), monitoring=monitoring and h.is_active,
            retired_at=when(h.retired_at),
            last_sign_of_life_at=when(seen.last_sign_at) if seen else None,
            last_sign_of_life_kind=seen.last_sign_kind if seen else None,
            hub_last_seen_at=when(seen.hub_last_seen_at) if seen else None,
            open_alert=brief, closed_while_silent=silent_since_closed,
            usual_now=usual_now if sees_readings else None,
            visit=None if visit is None else VisitBrief(
                last_visit_at=when(visit.last_visit_at), due_at=at(visit.due_at), overdue=visit.overdue),
            colour_suggestion=None if suggestion is None else SuggestionBrief(
                id=suggestion.id, to_colour=suggestion.to_tier.colour, alerts=len(suggestion.alert_ids)),
        )


class HouseholdPage(Page):
    items: list[HouseholdOut]


class HouseholdIn(RequestBody):
    id: str = Field(pattern=ID_PATTERN)
    colour: Colour = Field(pattern=COLOUR_PATTERN)
    grid_id: str = Field(min_length=1, max_length=64)
    alias: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    building: str | None = Field(default=None, max_length=200)
    caseworker_id: int | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "h-zhang-0301", "colour": "orange", "grid_id": "g-01", "alias": "张桂英",
        "address": "3号楼 2单元 301", "building": "3号楼"}]})


class HouseholdPatch(RequestBody):
    """Only the fields sent are changed. Colour, grid and caseworker: admins and leaders only."""

    colour: Colour | None = Field(default=None, pattern=COLOUR_PATTERN)
    grid_id: str | None = Field(default=None, min_length=1, max_length=64)
    caseworker_id: int | None = None
    alias: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    building: str | None = Field(default=None, max_length=200)

    model_config = ConfigDict(json_schema_extra={"examples": [{"colour": "red"},
                                                       {"address": "3号楼 2单元 302"}]})


class HubOut(BaseModel):
    id: str
    household_id: str
    report_interval_s: float

    @classmethod
    def of(cls, hub: Hub) -> HubOut:
        return cls(id=hub.id, household_id=hub.household_id,
                   report_interval_s=hub.report_interval_s)


class HubIn(RequestBody):
    id: str = Field(pattern=ID_PATTERN)
    household_id: str = Field(min_length=1, max_length=64)
    report_interval_s: float = Field(default=900.0, ge=10, le=3600)

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "h-0042", "household_id": "h-zhang-0301", "report_interval_s": 900}]})


class HubPatch(RequestBody):
    report_interval_s: float = Field(ge=10, le=3600)


class GridOut(BaseModel):
    id: str
    name: str

    @classmethod
    def of(cls, grid: Grid) -> GridOut:
        return cls(id=grid.id, name=grid.name)


class GridIn(RequestBody):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "g-03", "name": "南苑网格"}]})


class GridPatch(RequestBody):
    name: str = Field(min_length=1, max_length=200)


class ImportReportOut(BaseModel):
    added: int
    updated: int
    hubs_added: int = 0
    grids_added: int = 0
    consents_recorded: int = 0
    changed: list[str] = Field(default_factory=list, description="what it changed of households already "
                               "registered, one line each (\"hh-001: grid g-01 → g-02\")")
