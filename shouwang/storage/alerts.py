"""Alerts, their deliveries and their trail in the state store.

Every transition runs in one transaction with its audit entry and the deliveries it owes,
so a crash can never leave an alert changed but unannounced.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shouwang.domain import alerts as lifecycle
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Finding, Outcome, Severity
from shouwang.domain.delivery import Channel, Delivery, DeliveryEvent, DeliveryStatus
from shouwang.domain.errors import Conflict, NotFound
from shouwang.domain.model import Staff, Tier
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.registry import visible_households
from shouwang.storage.schema import alerts, deliveries, households

log = logging.getLogger(__name__)
SAVE_ATTEMPTS = 3
"""A staff member's acknowledgement or resolution that met a change made a moment before (dispatch
escalating the alert) is judged again on the alert as it is now, this many times in all (found by
an attacker: it answered 409 "changed meanwhile", and the worker had to press again)."""

Alerts = list[Alert]
Deliveries = list[Delivery]
Unreachable = list[tuple[Alert, str]]
"""Alerts whose current rung nobody can be reached on, and why."""
DETECTOR = Actor("detector")
DISPATCH = Actor("dispatch")
_ALERT_FIELDS = [f.name for f in dataclasses.fields(Alert)]


def _alert(row: Any) -> Alert:
    values = {name: getattr(row, name) for name in _ALERT_FIELDS}
    values["kind"] = AlertKind(values["kind"])
    values["state"] = AlertState(values["state"])
    values["severity"] = Severity(values["severity"])
    values["outcome"] = Outcome(values["outcome"]) if values["outcome"] else None
    values["details"] = dict(values["details"] or {})
    return Alert(**values)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        alert_id=row.alert_id,
        staff_id=row.staff_id,
        channel=Channel(row.channel),
        event=DeliveryEvent(row.event),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
    )


@dataclass(frozen=True, slots=True)
class AlertFilter:
    state: AlertState | None = None
    kind: AlertKind | None = None
    tier: Tier | None = None
    grid_id: str | None = None
    household_id: str | None = None
    limit: int = 100
    offset: int = 0


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # reading ----------------------------------------------------------------
    def get(self, alert_id: int, *, viewer: Staff | None = None) -> Alert:
        query = select(alerts).where(alerts.c.id == alert_id)
        if viewer is not None:
            query = query.join(households, households.c.id == alerts.c.household_id).where(
                visible_households(viewer)
            )
        with self._engine.connect() as db:
            row = db.execute(query).first()
        if row is None:
            raise NotFound("alert", alert_id)
        return _alert(row)

    def list(self, filters: AlertFilter = AlertFilter(), *, viewer: Staff | None = None) -> Alerts:
        query = select(alerts).join(households, households.c.id == alerts.c.household_id)
        if viewer is not None:
            query = query.where(visible_households(viewer))
        if filters.state is not None:
            query = query.where(alerts.c.state == filters.state.value)
        if filters.kind is not None:
            query = query.where(alerts.c.kind == filters.kind.value)
        if filters.tier is not None:
            query = query.where(households.c.tier == int(filters.tier))
        if filters.grid_id is not None:
            query = query.where(households.c.grid_id == filters.grid_id)
        if filters.household_id is not None:
            query = query.where(alerts.c.household_id == filters.household_id)
        query = query.order_by(alerts.c.id.desc()).limit(filters.limit).offset(filters.offset)
        with self._engine.connect() as db:
            return [_alert(r) for r in db.execute(query)]

    def unresolved(self) -> Alerts:
        query = select(alerts).where(alerts.c.state != AlertState.RESOLVED.value)
        with self._engine.connect() as db:
            return [_alert(r) for r in db.execute(query.order_by(alerts.c.id))]

    def last_closed_by_staff(self) -> dict[tuple[str, AlertKind], float]:
        """When staff last resolved an alert, per household and kind (they checked then)."""
        query = (
            select(alerts.c.household_id, alerts.c.kind, func.max(alerts.c.resolved_at))
            .where(alerts.c.state == AlertState.RESOLVED.value, alerts.c.resolved_by.is_not(None))
            .group_by(alerts.c.household_id, alerts.c.kind)
        )
        with self._engine.connect() as db:
            return {(h, AlertKind(k)): float(at) for h, k, at in db.execute(query)}

    def count_unresolved_by_tier(self) -> dict[Tier, int]:
        query = (
            select(households.c.tier, func.count())
            .select_from(alerts.join(households, households.c.id == alerts.c.household_id))
            .where(alerts.c.state != AlertState.RESOLVED.value)
            .group_by(households.c.tier)
        )
        with self._engine.connect() as db:
            return {Tier(t): n for t, n in db.execute(query)}

    # transitions ------------------------------------------------------------
    def open(self, finding: Finding, *, now: float) -> Alert | None:
        """Store a new alert; None if this household already has one of this kind unresolved."""
        try:
            with writing(self._engine) as db:
                alert_id = db.execute(
                    insert(alerts).values(
                        household_id=finding.household_id,
                        kind=finding.kind.value,
                        state=AlertState.OPEN.value,
                        severity=finding.severity.value,
                        opened_at=now,
                        since=finding.since,
                        explanation=finding.explanation,
                        escalation_level=0,
                        notified_level=-1,
                        details=finding.stored_details(),
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                trail.record(
                    db, at=now, actor=DETECTOR, action="opened", entity="alert",
                    entity_id=alert_id,
                    details={"kind": finding.kind.value, "explanation": finding.explanation},
                )
        except IntegrityError:
            return None
        return self.get(int(alert_id))

    def acknowledge(self, alert_id: int, *, staff: Staff, now: float) -> Alert:
        for attempt in range(SAVE_ATTEMPTS):
            current = self.get(alert_id)
            changed = lifecycle.acknowledge(current, staff_id=staff.id, now=now)
            if changed is current:
                return current
            actor = Actor(staff.username, staff.id)
            try:
                with writing(self._engine) as db:
                    self._save(db, current, changed)
                    trail.record(db, at=now, actor=actor, action="acknowledged", entity="alert",
                                 entity_id=alert_id)
                    self._tell_recipients(db, changed, DeliveryEvent.ACKNOWLEDGED, now, skip=staff.id)
            except Conflict:
                if attempt + 1 == SAVE_ATTEMPTS:
                    raise
                continue  # escalated a moment before: judged again as it is now
            log.info("alert.acknowledged id=%s household=%s by=%s", changed.id, changed.household_id,
                     staff.username)
            return changed
        raise AssertionError("unreachable")

    def resolve(
        self, alert_id: int, *, staff: Staff, outcome: Outcome, note: str | None, now: float
    ) -> Alert:
        for attempt in range(SAVE_ATTEMPTS):
            current = self.get(alert_id)
            changed = lifecycle.resolve(current, staff_id=staff.id, outcome=outcome, note=note, now=now)
            try:
                with writing(self._engine) as db:
                    self._save(db, current, changed)
                    trail.record(db, at=now, actor=Actor(staff.username, staff.id), action="resolved",
                                 entity="alert", entity_id=alert_id,
                                 details={"outcome": outcome.value, "note": note})
                    self._tell_recipients(db, changed, DeliveryEvent.RESOLVED, now, skip=staff.id)
            except Conflict:
                if attempt + 1 == SAVE_ATTEMPTS:
                    raise
                continue  # escalated a moment before: judged again as it is now
            break
        log.info("alert.resolved id=%s household=%s by=%s outcome=%s", changed.id,
                 changed.household_id, staff.username, outcome.value)
        return changed

    def resolve_by_family(self, alert_id: int, *, actor: Actor, contact_id: int, outcome: Outcome,
                          note: str | None, now: float) -> Alert:
        """A family member on the ladder answered through their link: the trail names them."""
        current = self.get(alert_id)
        changed = lifecycle.resolve(current, staff_id=None, outcome=outcome, note=note, now=now)
        with writing(self._engine) as db:
            self._save(db, current, changed)
            trail.record(db, at=now, actor=actor, action="resolved", entity="alert", entity_id=alert_id,
                         details={"outcome": outcome.value, "note": note, "family_contact_id": contact_id})
            self._tell_recipients(db, changed, DeliveryEvent.RESOLVED, now)
        log.info("alert.resolved id=%s household=%s by=%s outcome=%s", changed.id, changed.household_id,
                 actor.name, outcome.value)
        return changed

    def clear(self, household_id: str, kind: AlertKind, *, reason: str, now: float) -> Alert | None:
        """The condition ended: an alert nobody has taken yet resolves itself."""
        query = select(alerts).where(
            alerts.c.household_id == household_id,
            alerts.c.kind == kind.value,
            alerts.c.state == AlertState.OPEN.value,
        )
        with self._engine.connect() as db:
            row = db.execute(query).first()
        if row is None:
            return None
        current = _alert(row)
        changed = lifecycle.resolve(
            current, staff_id=None, outcome=Outcome.CLEARED_ITSELF, note=reason, now=now
        )
        try:
            with writing(self._engine) as db:
                self._save(db, current, changed)
                trail.record(db, at=now, actor=DETECTOR, action="cleared", entity="alert",
                             entity_id=current.id, details={"reason": reason})
                self._tell_recipients(db, changed, DeliveryEvent.CLEARED, now)
        except Conflict:
            return None  # someone acknowledged it meanwhile: now it is theirs to close
        return changed

    def due_for_escalation(self, now: float) -> Alerts:
        query = select(alerts).where(
            alerts.c.state == AlertState.OPEN.value, alerts.c.next_escalation_at <= now
        )
        with self._engine.connect() as db:
            return [_alert(r) for r in db.execute(query.order_by(alerts.c.id))]

    def escalate(self, alert: Alert, *, waits_s: tuple[float, ...], now: float,
                 reason: str | None = None) -> Alert | None:
        """Climb one rung; `reason` (kept in the trail) when it is not the rung's wait running out."""
        changed = lifecycle.escalate(alert, waits_s=waits_s, now=now)
        details: dict[str, Any] = {"level": changed.escalation_level}
        if reason:
            details["reason"] = reason[:1000]
        try:
            with writing(self._engine) as db:
                self._save(db, alert, changed)
                trail.record(db, at=now, actor=DISPATCH, action="escalated", entity="alert",
                             entity_id=alert.id, details=details)
        except Conflict:
            return None
        return changed

    def unreachable_rungs(self, *, attempts: int) -> Unreachable:
        """Open alerts whose current rung nobody can be reached on (each of its deliveries given up,
        or failed at least `attempts` times), with the reason; the top rung's too (`next_escalation_at`
        None: dispatch then tells the admins)."""
        asks = [DeliveryEvent.OPENED.value, DeliveryEvent.ESCALATED.value]
        on_rung = (deliveries.c.alert_id == alerts.c.id) & (
            deliveries.c.level == alerts.c.escalation_level) & deliveries.c.event.in_(asks)
        stuck = (deliveries.c.status == DeliveryStatus.FAILED.value) | (
            (deliveries.c.status == DeliveryStatus.PENDING.value) & (deliveries.c.attempts >= attempts))
        stalled = (
            select(alerts.c.id)
            .join(deliveries, on_rung)
            .where(alerts.c.state == AlertState.OPEN.value,
                   alerts.c.notified_level == alerts.c.escalation_level)
            .group_by(alerts.c.id)  # by the key alone: PostgreSQL cannot group a JSON column
            .having(func.count() == func.sum(case((stuck, 1), else_=0)))
        )
        query = select(alerts).where(alerts.c.id.in_(stalled)).order_by(alerts.c.id)
        with self._engine.connect() as db:
            found = [_alert(r) for r in db.execute(query)]
            result: Unreachable = []
            for alert in found:
                failures = db.execute(
                    select(deliveries.c.staff_id, deliveries.c.channel, deliveries.c.last_error)
                    .where(deliveries.c.alert_id == alert.id,
                           deliveries.c.level == alert.escalation_level,
                           deliveries.c.event.in_(asks))
                    .order_by(deliveries.c.id)
                ).all()
                reason = "; ".join(f"staff {s} {c}: {(e or 'failed')[:120]}" for s, c, e in failures)
                result.append((alert, f"every channel of rung {alert.escalation_level} failed: {reason}"))
        return result

    def needing_routing(self) -> Alerts:
        query = select(alerts).where(
            alerts.c.state != AlertState.RESOLVED.value,
            alerts.c.notified_level < alerts.c.escalation_level,
        )
        with self._engine.connect() as db:
            return [_alert(r) for r in db.execute(query.order_by(alerts.c.id))]

    def route(
        self,
        alert: Alert,
        *,
        recipients: Mapping[int, Sequence[tuple[int, Channel]]],
        first_escalation_at: float | None,
        now: float,
        also: Callable[[Connection], None] | None = None,
    ) -> None:
        """Queue deliveries for each newly reached rung (level → recipients) in one step; `also`
        queues more (the family's) in the same transaction."""
        with writing(self._engine) as db:
            values: dict[str, Any] = {"notified_level": alert.escalation_level}
            if alert.notified_level < 0 and alert.state is AlertState.OPEN:
                values["next_escalation_at"] = first_escalation_at
            result = db.execute(
                update(alerts)
                .where(alerts.c.id == alert.id, alerts.c.notified_level == alert.notified_level)
                .values(**values)
            )
            if result.rowcount == 0:
                return  # another dispatcher routed it first
            for level in sorted(recipients):
                event = DeliveryEvent.OPENED if level == 0 else DeliveryEvent.ESCALATED
                for staff_id, channel in recipients[level]:
                    queue_delivery(db, alert.id, staff_id, channel, event, now, level=level)
                trail.record(db, at=now, actor=DISPATCH, action="routed", entity="alert",
                             entity_id=alert.id,
                             details={"level": level,
                                      "recipients": [[s, c.value] for s, c in recipients[level]]})
            if also is not None:
                also(db)

    def add_recipients(self, alert: Alert, *, recipients: Sequence[tuple[int, Channel]], reason: str,
                       now: float) -> bool:
        """Ask more people to act on `alert` at its current rung (people newly on it, or the admins
        when nobody on the top rung could be reached), with why in the trail; nobody already asked
        on it, on whatever channel. Whether anyone was."""
        level = alert.escalation_level
        event = DeliveryEvent.OPENED if level == 0 else DeliveryEvent.ESCALATED
        with writing(self._engine) as db:
            # Read after taking the write lock (a write to the alert's row: SQLite's whole file,
            # PostgreSQL's row): found by testers, two dispatch processes both asked the new grid
            # member (a SELECT ... FOR UPDATE locks nothing on SQLite, which begins at the first write).
            db.execute(update(alerts).where(alerts.c.id == alert.id).values(id=alerts.c.id))
            asked = set(db.execute(select(deliveries.c.staff_id).where(
                deliveries.c.alert_id == alert.id,
                deliveries.c.event.in_([DeliveryEvent.OPENED.value, DeliveryEvent.ESCALATED.value]))).scalars())
            recipients = [(staff_id, channel) for staff_id, channel in recipients if staff_id not in asked]
            if not recipients:
                return False
            for staff_id, channel in recipients:
                queue_delivery(db, alert.id, staff_id, channel, event, now, level=level)
            trail.record(db, at=now, actor=DISPATCH, action="routed", entity="alert", entity_id=alert.id,
                         details={"level": level, "reason": reason[:1000],
                                  "recipients": [[s, c.value] for s, c in recipients]})
        return True

    def hasten(self, alert: Alert, *, at: float) -> bool:
        """Bring the next rung forward to `at` (its ladder became a hotter colour's); False if the
        alert changed meanwhile."""
        with writing(self._engine) as db:
            result = db.execute(update(alerts).where(
                alerts.c.id == alert.id, alerts.c.state == AlertState.OPEN.value,
                alerts.c.escalation_level == alert.escalation_level,
                alerts.c.next_escalation_at > at).values(next_escalation_at=at))
            if result.rowcount:
                trail.record(db, at=at, actor=DISPATCH, action="rescheduled", entity="alert",
                             entity_id=alert.id, details={"next_escalation_at": at})
        return bool(result.rowcount)

    def move_delivery(self, delivery: Delivery, channels: Sequence[Channel], *, now: float) -> None:
        """Queue `delivery` again on `channels` (the recipient's channels now), at its rung, once
        per channel: the recipient changed theirs while it waited (found by a tester: given up
        as "has no webhook url", and she never heard of the alert)."""
        with writing(self._engine) as db:
            level = db.execute(select(deliveries.c.level).where(deliveries.c.id == delivery.id)).scalar()
            queued = set(db.execute(
                select(deliveries.c.channel).where(
                    deliveries.c.alert_id == delivery.alert_id, deliveries.c.staff_id == delivery.staff_id,
                    deliveries.c.event == delivery.event.value, deliveries.c.level.is_(None) if level is None
                    else deliveries.c.level == level)).scalars())
            for channel in channels:
                if channel.value not in queued:
                    queue_delivery(db, delivery.alert_id, delivery.staff_id, channel, delivery.event, now,
                                   level=level)

    def _save(self, db: Connection, before: Alert, after: Alert) -> None:
        values = {
            name: getattr(after, name)
            for name in ("state", "escalation_level", "next_escalation_at", "acknowledged_at",
                         "acknowledged_by", "resolved_at", "resolved_by", "outcome", "note")
        }
        values["state"] = after.state.value
        values["outcome"] = after.outcome.value if after.outcome else None
        result = db.execute(
            update(alerts)
            .where(
                alerts.c.id == before.id,
                alerts.c.state == before.state.value,
                alerts.c.escalation_level == before.escalation_level,
            )
            .values(**values)
        )
        if result.rowcount == 0:
            raise Conflict(f"alert {before.id} changed meanwhile; reload it and try again")

    def _tell_recipients(
        self, db: Connection, alert: Alert, event: DeliveryEvent, now: float, skip: int | None = None
    ) -> None:
        told = db.execute(
            select(deliveries.c.staff_id, deliveries.c.channel)
            .where(
                deliveries.c.alert_id == alert.id,
                deliveries.c.event.in_([DeliveryEvent.OPENED.value, DeliveryEvent.ESCALATED.value]),
            )
            .distinct()
        ).all()
        for staff_id, channel in told:
            if staff_id != skip:
                queue_delivery(db, alert.id, staff_id, Channel(channel), event, now)

    # deliveries -------------------------------------------------------------
    def due_deliveries(self, now: float, *, limit: int = 200) -> Deliveries:
        query = (
            select(deliveries)
            .where(
                deliveries.c.status == DeliveryStatus.PENDING.value,
                deliveries.c.next_attempt_at <= now,
            )
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        with self._engine.connect() as db:
            return [_delivery(r) for r in db.execute(query)]

    def claim_delivery(self, delivery: Delivery, *, until: float) -> bool:
        """Take a due delivery to send it, until `until` (then it is due again, should this
        process die sending it); False if another process took it first. Found by an attacker:
        two dispatch processes (one started by mistake, or a rolling update) each read the same
        pending deliveries and sent every notification twice; an SMS or a robot cannot tell."""
        with writing(self._engine) as db:
            taken = db.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id,
                       deliveries.c.status == DeliveryStatus.PENDING.value,
                       deliveries.c.next_attempt_at == delivery.next_attempt_at)
                .values(next_attempt_at=until)
            ).rowcount
        return bool(taken)

    def deliveries(self, alert_id: int) -> Deliveries:
        query = select(deliveries).where(deliveries.c.alert_id == alert_id)
        with self._engine.connect() as db:
            return [_delivery(r) for r in db.execute(query.order_by(deliveries.c.id))]

    def mark_delivered(self, delivery: Delivery, *, now: float) -> None:
        with writing(self._engine) as db:
            done = db.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id, deliveries.c.status == DeliveryStatus.PENDING.value)
                .values(status=DeliveryStatus.DELIVERED.value, attempts=delivery.attempts + 1,
                        delivered_at=now, last_error=None)
            ).rowcount
            if not done:
                return  # recorded already (its claim had run out, and another process sent it too)
            trail.record(db, at=now, actor=DISPATCH, action="delivered", entity="alert",
                         entity_id=delivery.alert_id,
                         details={"staff_id": delivery.staff_id, "channel": delivery.channel.value,
                                  "event": delivery.event.value})

    def mark_failed(
        self, delivery: Delivery, *, error: str, retry_at: float | None, now: float
    ) -> None:
        """Record a failed attempt; `retry_at` None means give up."""
        status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
        with writing(self._engine) as db:
            db.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id)
                .values(status=status.value, attempts=delivery.attempts + 1,
                        next_attempt_at=retry_at if retry_at is not None else now,
                        last_error=error[:1000])
            )
            if retry_at is None:
                trail.record(db, at=now, actor=DISPATCH, action="delivery_failed", entity="alert",
                             entity_id=delivery.alert_id,
                             details={"staff_id": delivery.staff_id,
                                      "channel": delivery.channel.value, "error": error[:300]})

    def count_failed_deliveries(self) -> int:
        """Notifications given up on after every retry."""
        query = select(func.count()).where(deliveries.c.status == DeliveryStatus.FAILED.value)
        with self._engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def retrying(self, *, limit: int = 500) -> Deliveries:
        """Notifications whose attempts have failed so far and that are still tried, oldest first."""
        query = (select(deliveries).where(deliveries.c.status == DeliveryStatus.PENDING.value,
                                          deliveries.c.attempts > 0)
                 .order_by(deliveries.c.created_at, deliveries.c.id).limit(limit))
        with self._engine.connect() as db:
            return [_delivery(r) for r in db.execute(query)]

    def count_retrying_deliveries(self) -> int:
        """Notifications whose attempts have failed so far and that are being retried: a bad
        address or a dead receiver shows here at once, not only once it is given up on."""
        query = select(func.count()).where(deliveries.c.status == DeliveryStatus.PENDING.value,
                                           deliveries.c.attempts > 0)
        with self._engine.connect() as db:
            return int(db.execute(query).scalar_one())


def queue_delivery(
    db: Connection, alert_id: int, staff_id: int, channel: Channel, event: DeliveryEvent, now: float,
    *, level: int | None = None,
) -> None:
    db.execute(
        insert(deliveries).values(
            alert_id=alert_id,
            staff_id=staff_id,
            channel=channel.value,
            event=event.value,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            level=level,
        )
    )
