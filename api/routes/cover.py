"""Who answers, for duty leaders and admins: the duty roster, leave with deputies, maintenance
windows, and the gaps in cover (`shouwang roster list` and `shouwang run` name the same)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Context, Now, RegistryManager, StateDep
from api.routes.cockpit import Leader
from api.schemas.common import AUTHED, CHANGES, RequestBody, seconds, when
from api.trail import actor
from dispatch import gaps as cover_gaps
from dispatch.ladders import LadderPolicy
from shouwang.domain.cover import WEEKDAYS, DutySlot, Leave
from shouwang.domain.errors import InvalidInput

router = APIRouter(prefix="/cover", tags=["cover"])


class SlotOut(BaseModel):
    id: int
    username: str
    weekday: str
    start_h: int
    end_h: int = Field(description="not after start_h: the slot runs into the next day (night duty)")


class LeaveOut(BaseModel):
    id: int
    username: str
    starts_at: datetime | None
    ends_at: datetime | None
    deputy: str | None
    reason: str | None


class MaintenanceOut(BaseModel):
    id: int
    hub_id: str | None
    grid_id: str | None
    until: datetime | None
    reason: str
    by: str | None


class CoverOut(BaseModel):
    roster: list[SlotOut]
    leaves: list[LeaveOut]
    maintenance: list[MaintenanceOut]
    gaps: list[str] = Field(description="what would leave an alert without its proper recipient")
    gaps_zh: list[str] = Field(description="the same gaps in Chinese, in the same order")


class SlotIn(RequestBody):
    username: str = Field(min_length=1, max_length=100)
    weekday: str = Field(description="mon … sun", examples=["mon"])
    start_h: int = Field(ge=0, le=23)
    end_h: int = Field(ge=0, le=24, description="not after start_h: runs into the next day (night duty)")


class LeaveIn(RequestBody):
    username: str = Field(min_length=1, max_length=100)
    starts_at: datetime
    ends_at: datetime
    deputy: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=500)


@router.get("", response_model=CoverOut, responses=AUTHED, summary="Roster, leave, maintenance and gaps in cover")
def cover(context: Context, state: StateDep, staff: Leader) -> CoverOut:
    now, tz = context.clock.now(), context.tz
    roster = state.registry.roster()
    names = {s.id: s.username for s in roster}
    covering = state.cover.cover(tz, now=now)
    gaps = cover_gaps.coverage_gaps(state.registry.households(), roster) + cover_gaps.cover_gaps(
        LadderPolicy.of(context.settings.dispatch), state.registry.households(), roster, covering, now=now,
        date=lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M"))
    return CoverOut(
        roster=[SlotOut(id=s.id or 0, username=names.get(s.staff_id, "?"), weekday=WEEKDAYS[s.weekday],
                        start_h=s.start_h, end_h=s.end_h) for s in covering.slots],
        leaves=[LeaveOut(id=lv.id or 0, username=names.get(lv.staff_id, "?"), starts_at=when(lv.starts_at),
                         ends_at=when(lv.ends_at), deputy=names.get(lv.deputy_id) if lv.deputy_id else None,
                         reason=lv.reason) for lv in covering.leaves],
        maintenance=[MaintenanceOut(id=w.id, hub_id=w.hub_id, grid_id=w.grid_id, until=when(w.until),
                                    reason=w.reason, by=names.get(w.created_by) if w.created_by else None)
                     for w in state.maintenance.live(now)],
        gaps=[g.en for g in gaps], gaps_zh=[g.zh for g in gaps])


@router.post("/leave", response_model=LeaveOut, status_code=201, responses=CHANGES,
             summary="Record leave, with the deputy who receives what the absent person would")
def add_leave(body: LeaveIn, staff: RegistryManager, state: StateDep, now: Now) -> LeaveOut:
    member = state.registry.staff_by_username(body.username)
    deputy = state.registry.staff_by_username(body.deputy) if body.deputy else None
    leave = state.cover.add_leave(Leave(member.id, seconds(body.starts_at), seconds(body.ends_at),
                                        deputy.id if deputy else None, body.reason), actor=actor(staff), now=now)
    return LeaveOut(id=leave.id or 0, username=member.username, starts_at=when(leave.starts_at),
                    ends_at=when(leave.ends_at), deputy=deputy.username if deputy else None, reason=leave.reason)


@router.post("/roster", response_model=SlotOut, status_code=201, responses=CHANGES,
             summary="Put someone on the weekly duty roster")
def add_slot(body: SlotIn, staff: RegistryManager, state: StateDep, now: Now) -> SlotOut:
    if body.weekday.lower()[:3] not in WEEKDAYS:
        raise InvalidInput(f"unknown weekday {body.weekday!r}; use one of {', '.join(WEEKDAYS)}")
    member = state.registry.staff_by_username(body.username)
    slot = state.cover.add_slot(DutySlot(member.id, WEEKDAYS.index(body.weekday.lower()[:3]), body.start_h,
                                         body.end_h), actor=actor(staff), now=now)
    return SlotOut(id=slot.id or 0, username=member.username, weekday=WEEKDAYS[slot.weekday],
                   start_h=slot.start_h, end_h=slot.end_h)
