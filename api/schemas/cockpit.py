"""The cockpit's shapes: per grid figures, and the rows behind them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import at, when
from shouwang.domain import cockpit as figures


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


class CockpitGrid(BaseModel):
    grid_id: str
    name: str
    households: int
    open_by_colour: dict[str, int] = Field(description="unresolved alerts per colour")
    open_alerts: list[int] = Field(description="ids of the unresolved alerts")
    past_limit: list[int] = Field(description="open alerts nobody acknowledged within their colour's limit")
    oldest_open_min: float | None = Field(description="age of the oldest alert nobody has acknowledged")
    hubs_offline: list[str] = Field(description="households whose hub is offline or silent")
    unwatched: list[str] = Field(description="households not watched: no consent, no hub or hub silent")
    visits_overdue: list[str] = Field(description="households whose colour's visit is overdue")
    acknowledged: int = Field(description="alerts opened in the last 30 days and acknowledged")
    median_ack_min: float | None = Field(description="their median time to acknowledgement")
    within_limit_share: float | None = Field(description="share of them acknowledged within the limit")

    @classmethod
    def of(cls, g: figures.GridRow) -> CockpitGrid:
        return cls(grid_id=g.grid_id, name=g.name, households=g.households, open_by_colour=g.open_by_colour,
                   open_alerts=g.open_alerts, past_limit=g.past_limit, oldest_open_min=_minutes(g.oldest_open_s),
                   hubs_offline=g.hubs_offline, unwatched=g.unwatched, visits_overdue=g.visits_overdue,
                   acknowledged=g.acknowledged, median_ack_min=_minutes(g.median_ack_s),
                   within_limit_share=g.within_limit_share)


class CockpitAlert(BaseModel):
    id: int
    household_id: str
    household_alias: str | None
    grid_id: str
    colour: str
    kind: str
    state: str
    opened_at: datetime
    age_min: float
    limit_min: float | None = Field(description="the wait before its ladder climbs (the ladder in force for "
                                    "its colour and kind); null where it never climbs (a note)")
    past_limit: bool

    @classmethod
    def of(cls, a: figures.AlertRow, alias: str | None) -> CockpitAlert:
        return cls(id=a.id, household_id=a.household_id, household_alias=alias, grid_id=a.grid_id,
                   colour=a.colour, kind=a.kind, state=a.state, opened_at=at(a.opened_at),
                   age_min=round(a.age_s / 60, 1),
                   limit_min=None if a.limit_s is None else round(a.limit_s / 60, 1), past_limit=a.past_limit)


class CockpitHousehold(BaseModel):
    household_id: str
    alias: str | None
    grid_id: str
    colour: str
    watch: str = Field(description="watched, or why not: no_consent, no_hub, hub_silent")
    hub_offline: bool
    last_visit_at: datetime | None
    visit_due_at: datetime
    visit_overdue: bool

    @classmethod
    def of(cls, h: figures.HouseholdRow) -> CockpitHousehold:
        return cls(household_id=h.household_id, alias=h.alias, grid_id=h.grid_id, colour=h.colour,
                   watch=h.watch, hub_offline=h.hub_offline, last_visit_at=when(h.last_visit_at),
                   visit_due_at=at(h.visit_due_at), visit_overdue=h.visit_overdue)


class CockpitDay(BaseModel):
    day: str
    opened: int
    false_alarms: int


class CockpitOut(BaseModel):
    at: datetime
    grids: list[CockpitGrid]
    alerts: list[CockpitAlert] = Field(description="every unresolved alert, those past their limit first")
    households: list[CockpitHousehold] = Field(
        description="households that need something: not watched, hub offline or a visit overdue")
    trend: list[CockpitDay] = Field(description="alerts opened per day over the last 30 days")
    median_ack_min: float | None = Field(
        default=None, description="the median time to acknowledgement over every grid shown (the total "
        "row's: not a median of the grids' medians)")
