"""The duty roster and staff leave in the state store, each change with its audit entry."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from shouwang.domain.cover import Cover, DutySlot, Leave
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import Role
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import duty_roster, staff, staff_leave


def _slot(r: Any) -> DutySlot:
    return DutySlot(r.staff_id, r.weekday, r.start_h, r.end_h, id=r.id)


def _leave(r: Any) -> Leave:
    return Leave(r.staff_id, r.starts_at, r.ends_at, r.deputy_id, r.reason, id=r.id)


class CoverStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # the weekly roster --------------------------------------------------------
    def slots(self) -> list[DutySlot]:
        query = select(duty_roster).order_by(duty_roster.c.weekday, duty_roster.c.start_h, duty_roster.c.id)
        with self._engine.connect() as db:
            return [_slot(r) for r in db.execute(query)]

    def add_slot(self, slot: DutySlot, *, actor: Actor, now: float) -> DutySlot:
        if not (0 <= slot.weekday <= 6 and 0 <= slot.start_h <= 23 and 0 <= slot.end_h <= 24):
            raise InvalidInput("a duty slot is a weekday (mon–sun) and hours 0–24, e.g. mon 8-18 or mon 18-8")
        with writing(self._engine) as db:
            member = db.execute(select(staff.c.username, staff.c.role, staff.c.active)
                                .where(staff.c.id == slot.staff_id)).first()
            if member is None or not member.active:
                raise NotFound("staff member", slot.staff_id)
            if member.role != Role.DUTY_LEADER.value:  # the roster says which duty leader is called when
                raise InvalidInput(f"{member.username} is a {member.role}, not a duty leader: the roster "
                                   "only says which duty leader is on duty when")
            slot_id = db.execute(insert(duty_roster).values(
                staff_id=slot.staff_id, weekday=slot.weekday, start_h=slot.start_h, end_h=slot.end_h,
                created_at=now)).inserted_primary_key[0]  # type: ignore[index]
            trail.record(db, at=now, actor=actor, action="rostered", entity="staff",
                         entity_id=slot.staff_id, details={"slot_id": slot_id, "weekday": slot.weekday,
                                                           "start_h": slot.start_h, "end_h": slot.end_h})
        return DutySlot(slot.staff_id, slot.weekday, slot.start_h, slot.end_h, id=int(slot_id))

    def remove_slot(self, slot_id: int, *, actor: Actor, now: float) -> DutySlot:
        with writing(self._engine) as db:
            row = db.execute(select(duty_roster).where(duty_roster.c.id == slot_id)).first()
            if row is None:
                raise NotFound("duty slot", slot_id)
            db.execute(delete(duty_roster).where(duty_roster.c.id == slot_id))
            trail.record(db, at=now, actor=actor, action="unrostered", entity="staff",
                         entity_id=row.staff_id, details={"slot_id": slot_id})
        return _slot(row)

    # leave --------------------------------------------------------------------
    def leaves(self, *, ending_after: float) -> list[Leave]:
        """Leave not cancelled that has not ended by `ending_after`."""
        query = (select(staff_leave)
                 .where(staff_leave.c.cancelled_at.is_(None), staff_leave.c.ends_at > ending_after)
                 .order_by(staff_leave.c.starts_at, staff_leave.c.id))
        with self._engine.connect() as db:
            return [_leave(r) for r in db.execute(query)]

    def add_leave(self, leave: Leave, *, actor: Actor, now: float) -> Leave:
        if leave.ends_at <= leave.starts_at:
            raise InvalidInput("leave must end after it starts")
        if leave.deputy_id == leave.staff_id:
            raise InvalidInput("a deputy stands in for someone else: choose another staff member")
        with writing(self._engine) as db:
            # Found by a tester: a volunteer made deputy was then the only one told of a help
            # press, and could not open the alert; a second leave over the same days was ignored.
            if leave.deputy_id is not None:
                deputy = db.execute(select(staff.c.username, staff.c.role, staff.c.active)
                                    .where(staff.c.id == leave.deputy_id)).first()
                if deputy is None or not deputy.active:
                    raise InvalidInput("the deputy is not an active member of staff")
                if not Role(deputy.role).sees_readings:
                    raise InvalidInput(f"{deputy.username} is a {deputy.role}, who sees no alerts and "
                                       "cannot act on them: choose a deputy who can")
            overlapping = db.execute(select(staff_leave.c.id).where(
                staff_leave.c.staff_id == leave.staff_id, staff_leave.c.cancelled_at.is_(None),
                staff_leave.c.starts_at < leave.ends_at, staff_leave.c.ends_at > leave.starts_at)).first()
            if overlapping is not None:
                raise InvalidInput(f"this leave overlaps leave {overlapping.id} already recorded; cancel "
                                   "that one first (only one deputy stands in at a time)")
            leave_id = db.execute(insert(staff_leave).values(
                staff_id=leave.staff_id, starts_at=leave.starts_at, ends_at=leave.ends_at,
                deputy_id=leave.deputy_id, reason=leave.reason, created_by=actor.staff_id,
                created_at=now)).inserted_primary_key[0]  # type: ignore[index]
            trail.record(db, at=now, actor=actor, action="leave", entity="staff", entity_id=leave.staff_id,
                         details={"leave_id": leave_id, "from": leave.starts_at, "to": leave.ends_at,
                                  "deputy_id": leave.deputy_id, "reason": leave.reason})
        return Leave(leave.staff_id, leave.starts_at, leave.ends_at, leave.deputy_id, leave.reason,
                     id=int(leave_id))

    def cancel_leave(self, leave_id: int, *, actor: Actor, now: float) -> None:
        with writing(self._engine) as db:
            row = db.execute(select(staff_leave).where(staff_leave.c.id == leave_id,
                                                       staff_leave.c.cancelled_at.is_(None))).first()
            if row is None:
                raise NotFound("leave", leave_id)
            db.execute(update(staff_leave).where(staff_leave.c.id == leave_id).values(cancelled_at=now))
            trail.record(db, at=now, actor=actor, action="leave_cancelled", entity="staff",
                         entity_id=row.staff_id, details={"leave_id": leave_id})

    def cover(self, tz: tzinfo, *, now: float) -> Cover:
        """The roster and every leave not yet over, to read in the community's time zone."""
        return Cover(tuple(self.slots()), tuple(self.leaves(ending_after=now)), tz)
