"""Care notices (overdue visits, colour suggestions) and colour decisions in the state store.

A notice is stored before it is sent, once per (kind, household, staff, channel, key): the
unique index makes a second dispatch round (or a second dispatch process) owing the same
reminder a no-op. A colour change and the suggestion it answers are one transaction with their
audit entry, so the trail always says who changed a colour and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shouwang.domain.alerts import Alert
from shouwang.domain.delivery import Channel, DeliveryStatus
from shouwang.domain.errors import Conflict, NotFound
from shouwang.domain.model import Household, Tier
from shouwang.domain.notices import NewNotice, Notice, NoticeKind
from shouwang.domain.tier_advice import StoredSuggestion, TierSuggestion
from shouwang.storage import audit as trail
from shouwang.storage.alerts import _alert
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import alerts, care_notices, households, tier_suggestions, visits
from shouwang.storage.visits import IN_PERSON

DISPATCH = Actor("dispatch")


def _notice(r: Any) -> Notice:
    return Notice(r.id, NoticeKind(r.kind), r.household_id, r.staff_id, Channel(r.channel), r.key,
                  dict(r.body or {}), DeliveryStatus(r.status), r.attempts, r.created_at,
                  r.next_attempt_at, r.delivered_at, r.last_error)


def _suggestion(r: Any) -> StoredSuggestion:
    return StoredSuggestion(r.id, r.household_id, Tier(r.from_tier), Tier(r.to_tier),
                            tuple(r.alert_ids or ()), r.created_at, r.state, r.decided_at,
                            r.decided_by, r.reason)


class CareStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # notices ---------------------------------------------------------------
    def owe(self, notices: Sequence[NewNotice], *, now: float) -> int:
        """Store the notices not already owed; how many were new."""
        added = 0
        with writing(self._engine) as db:
            owed = _already_owed(db, notices)
            for notice in notices:
                if _identity(notice) not in owed:
                    added += _owe(db, notice, now)
        return added

    def due(self, now: float, *, limit: int = 100) -> list[Notice]:
        query = (select(care_notices)
                 .where(care_notices.c.status == DeliveryStatus.PENDING.value,
                        care_notices.c.next_attempt_at <= now)
                 .order_by(care_notices.c.next_attempt_at, care_notices.c.id).limit(limit))
        with self._engine.connect() as db:
            return [_notice(r) for r in db.execute(query)]

    def notices(self, *, household_id: str | None = None, staff_id: int | None = None) -> list[Notice]:
        query = select(care_notices).order_by(care_notices.c.id)
        if household_id is not None:
            query = query.where(care_notices.c.household_id == household_id)
        if staff_id is not None:
            query = query.where(care_notices.c.staff_id == staff_id)
        with self._engine.connect() as db:
            return [_notice(r) for r in db.execute(query)]

    def mark_delivered(self, notice_id: int, *, now: float) -> None:
        with writing(self._engine) as db:
            db.execute(update(care_notices).where(care_notices.c.id == notice_id).values(
                status=DeliveryStatus.DELIVERED.value, delivered_at=now,
                attempts=care_notices.c.attempts + 1, last_error=None))

    def mark_failed(self, notice_id: int, *, error: str, retry_at: float | None, now: float) -> None:
        """Failed once: try again at `retry_at`, or give up when it is None."""
        values: dict[str, Any] = {"attempts": care_notices.c.attempts + 1, "last_error": error[:2000]}
        if retry_at is None:
            values["status"] = DeliveryStatus.FAILED.value
        else:
            values["next_attempt_at"] = retry_at
        with writing(self._engine) as db:
            db.execute(update(care_notices).where(care_notices.c.id == notice_id).values(**values))

    # colour suggestions ----------------------------------------------------
    def suggest(self, suggestion: TierSuggestion, notices: Sequence[NewNotice], *,
                now: float) -> StoredSuggestion:
        """Record a suggestion, the notices telling its advisees, and its audit entry, at once."""
        with writing(self._engine) as db:
            suggestion_id = db.execute(insert(tier_suggestions).values(
                household_id=suggestion.household_id, from_tier=int(suggestion.from_tier),
                to_tier=int(suggestion.to_tier), alert_ids=list(suggestion.alert_ids),
                created_at=now, state="open")).inserted_primary_key[0]  # type: ignore[index]
            trail.record(db, at=now, actor=DISPATCH, action="tier_suggested", entity="household",
                         entity_id=suggestion.household_id,
                         details={"suggestion_id": suggestion_id, "from": suggestion.from_tier.colour,
                                  "to": suggestion.to_tier.colour,
                                  "alert_ids": list(suggestion.alert_ids)})
            for notice in notices:
                _owe(db, notice, now)
        return self.suggestion(int(suggestion_id))

    def suggestion(self, suggestion_id: int) -> StoredSuggestion:
        with self._engine.connect() as db:
            row = db.execute(select(tier_suggestions).where(tier_suggestions.c.id == suggestion_id)).first()
        if row is None:
            raise NotFound("colour suggestion", suggestion_id)
        return _suggestion(row)

    def open_suggestions(self, household_ids: Iterable[str] | None = None) -> dict[str, StoredSuggestion]:
        """Each household's open suggestion (the newest, should there be two)."""
        query = select(tier_suggestions).where(tier_suggestions.c.state == "open")
        if household_ids is not None:
            query = query.where(tier_suggestions.c.household_id.in_(sorted(set(household_ids))))
        with self._engine.connect() as db:
            return {r.household_id: _suggestion(r) for r in db.execute(query.order_by(tier_suggestions.c.id))}

    def last_suggested_at(self) -> dict[str, float]:
        """When each household was last suggested a colour (open or decided)."""
        query = (select(tier_suggestions.c.household_id, func.max(tier_suggestions.c.created_at))
                 .group_by(tier_suggestions.c.household_id))
        with self._engine.connect() as db:
            return {household_id: float(at) for household_id, at in db.execute(query)}

    def change_tier(self, household: Household, to: Tier, *, reason: str, actor: Actor,
                    now: float) -> list[int]:
        """A person changes the household's colour; open suggestions it meets are accepted, the
        others declined. Returns the suggestions it answered."""
        with writing(self._engine) as db:
            db.execute(update(households).where(households.c.id == household.id).values(tier=int(to)))
            answered = _decide(db, household.id, actor, reason, now,
                               accepted=tier_suggestions.c.to_tier >= int(to))
            trail.record(db, at=now, actor=actor, action="tier_changed", entity="household",
                         entity_id=household.id,
                         details={"from": household.tier.colour, "to": to.colour, "reason": reason,
                                  "suggestions": answered})
        return answered

    def close_overtaken(self, households: Iterable[Household], *, now: float) -> int:
        """Open suggestions whose colour the household already has (changed another way, e.g. by
        a leader's edit) are met: closed as accepted, so the next one can be made."""
        closed = 0
        with writing(self._engine) as db:
            for home in households:
                closed += db.execute(update(tier_suggestions).where(
                    tier_suggestions.c.household_id == home.id, tier_suggestions.c.state == "open",
                    tier_suggestions.c.to_tier >= int(home.tier)).values(
                        state="accepted", decided_at=now,
                        reason="the colour was changed another way")).rowcount
        return closed

    def decline(self, household_id: str, *, reason: str, actor: Actor, now: float) -> list[int]:
        """Keep the colour: the open suggestion is declined, with why."""
        with writing(self._engine) as db:
            answered = _decide(db, household_id, actor, reason, now, accepted=None)
            if not answered:
                raise Conflict(f"household {household_id} has no open colour suggestion to decline")
            trail.record(db, at=now, actor=actor, action="tier_suggestion_declined",
                         entity="household", entity_id=household_id,
                         details={"reason": reason, "suggestions": answered})
        return answered


class CareRows:
    """What the visit and 369 figures are computed from: visits, and a month's alerts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def alerts_opened_between(self, start: float, end: float) -> list[Alert]:
        query = (select(alerts).where(alerts.c.opened_at >= start, alerts.c.opened_at < end)
                 .order_by(alerts.c.id))
        with self._engine.connect() as db:
            return [_alert(r) for r in db.execute(query)]

    def last_visits(self, household_ids: Iterable[str]) -> dict[str, float]:
        """When each of these households was last visited (a page of cards, not the whole table)."""
        query = (select(visits.c.household_id, func.max(visits.c.at))
                 .where(visits.c.household_id.in_(sorted(set(household_ids))), IN_PERSON)
                 .group_by(visits.c.household_id))
        with self._engine.connect() as db:
            return {household_id: float(at) for household_id, at in db.execute(query)}

    def visit_times(self, household_ids: Iterable[str], *, start: float) -> dict[str, list[float]]:
        """Each household's visits and calls from `start` on, sorted: the contacts 369 counts."""
        query = (select(visits.c.household_id, visits.c.at)
                 .where(visits.c.household_id.in_(sorted(set(household_ids))), visits.c.at >= start)
                 .order_by(visits.c.at))
        found: dict[str, list[float]] = {}
        with self._engine.connect() as db:
            for household_id, at in db.execute(query):
                found.setdefault(household_id, []).append(float(at))
        return found


def _identity(notice: NewNotice) -> tuple[str, str, int, str, str]:
    return (notice.kind.value, notice.household_id, notice.staff_id, notice.channel.value, notice.key)


def _already_owed(db: Connection, notices: Sequence[NewNotice]) -> set[tuple[str, str, int, str, str]]:
    """Which of `notices` are stored already, in a few queries (a round owes thousands at once)."""
    found: set[tuple[str, str, int, str, str]] = set()
    keys = sorted({n.key for n in notices})
    c = care_notices.c
    for start in range(0, len(keys), 500):
        query = select(c.kind, c.household_id, c.staff_id, c.channel, c.key).where(
            c.key.in_(keys[start:start + 500]))
        found |= {(r.kind, r.household_id, r.staff_id, r.channel, r.key) for r in db.execute(query)}
    return found


def _owe(db: Connection, notice: NewNotice, now: float) -> int:
    try:
        with db.begin_nested():  # another process may have owed it a moment ago
            db.execute(insert(care_notices).values(
                kind=notice.kind.value, household_id=notice.household_id, staff_id=notice.staff_id,
                channel=notice.channel.value, key=notice.key, body=notice.body,
                status=DeliveryStatus.PENDING.value, attempts=0, created_at=now, next_attempt_at=now))
    except IntegrityError:
        return 0
    return 1


def _decide(db: Connection, household_id: str, actor: Actor, reason: str, now: float,
            accepted: Any) -> list[int]:
    """Close the household's open suggestions; `accepted`: which of them the decision met."""
    mine = and_(tier_suggestions.c.household_id == household_id, tier_suggestions.c.state == "open")
    ids = [int(i) for i in db.execute(select(tier_suggestions.c.id).where(mine)).scalars()]
    values = {"decided_at": now, "decided_by": actor.staff_id, "reason": reason}
    if accepted is not None:
        db.execute(update(tier_suggestions).where(mine, accepted).values(state="accepted", **values))
    db.execute(update(tier_suggestions).where(mine).values(state="declined", **values))
    return ids
