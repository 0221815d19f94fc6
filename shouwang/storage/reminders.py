"""Reminders owed to an open alert's current step, in the state store.

One row per alert: the step it reminds and when next. A reminder's deliveries are queued in the
same transaction that moves `next_at` on, and only if `next_at` is still what the dispatcher read,
so a restart (or a second dispatcher) never sends one twice and never loses one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from shouwang.domain.alerts import AlertState, Severity
from shouwang.domain.delivery import Channel, DeliveryEvent
from shouwang.storage import audit as trail
from shouwang.storage.alerts import DISPATCH, queue_delivery
from shouwang.storage.database import writing
from shouwang.storage.schema import alert_reminders, alerts


@dataclass(frozen=True, slots=True)
class Reminder:
    alert_id: int
    level: int
    next_at: float
    sent: int = 0


@dataclass(frozen=True, slots=True)
class Waiting:
    """An open alert whose current step has been told, and the reminder armed for it, if any."""

    alert_id: int
    level: int
    reminder: Reminder | None


class ReminderStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def waiting(self) -> list[Waiting]:
        """Open alerts (not notes) whose current step was told, with their reminders: one light
        query, since a dispatch round asks every half second."""
        query = (
            select(alerts.c.id, alerts.c.escalation_level, alert_reminders.c.level,
                   alert_reminders.c.next_at, alert_reminders.c.sent)
            .select_from(alerts.outerjoin(alert_reminders, alert_reminders.c.alert_id == alerts.c.id))
            .where(alerts.c.state == AlertState.OPEN.value, alerts.c.severity != Severity.NOTE.value,
                   alerts.c.notified_level == alerts.c.escalation_level, alerts.c.notified_level >= 0)
            .order_by(alerts.c.id)
        )
        with self._engine.connect() as db:
            return [Waiting(r[0], r[1], None if r[2] is None else Reminder(r[0], r[2], r[3], r[4]))
                    for r in db.execute(query)]

    def drop_answered(self) -> int:
        """Forget the reminders of alerts acknowledged or resolved since; how many."""
        answered = (select(alert_reminders.c.alert_id)
                    .join(alerts, alerts.c.id == alert_reminders.c.alert_id)
                    .where(alerts.c.state != AlertState.OPEN.value))
        with self._engine.connect() as db:
            ids = [r[0] for r in db.execute(answered)]
        if ids:
            with writing(self._engine) as db:
                db.execute(delete(alert_reminders).where(alert_reminders.c.alert_id.in_(ids)))
        return len(ids)

    def all(self) -> dict[int, Reminder]:
        with self._engine.connect() as db:
            return {r.alert_id: Reminder(r.alert_id, r.level, r.next_at, r.sent)
                    for r in db.execute(select(alert_reminders))}

    def arm(self, alert_id: int, *, level: int, next_at: float) -> None:
        """Remind step `level` of the alert from `next_at` on (a new step starts its own count)."""
        with writing(self._engine) as db:
            db.execute(delete(alert_reminders).where(alert_reminders.c.alert_id == alert_id))
            db.execute(insert(alert_reminders).values(alert_id=alert_id, level=level, next_at=next_at, sent=0))

    def disarm(self, alert_id: int) -> None:
        with writing(self._engine) as db:
            db.execute(delete(alert_reminders).where(alert_reminders.c.alert_id == alert_id))

    def send(self, reminder: Reminder, *, recipients: Sequence[tuple[int, Channel]], next_at: float,
             now: float) -> bool:
        """Queue this reminder's deliveries and schedule the next; False if it was sent already."""
        with writing(self._engine) as db:
            moved = db.execute(
                update(alert_reminders)
                .where(alert_reminders.c.alert_id == reminder.alert_id,
                       alert_reminders.c.level == reminder.level,
                       alert_reminders.c.next_at == reminder.next_at)
                .values(next_at=next_at, sent=reminder.sent + 1)
            ).rowcount
            if moved == 0:
                return False
            for staff_id, channel in recipients:
                queue_delivery(db, reminder.alert_id, staff_id, channel, DeliveryEvent.REMINDER, now)
            trail.record(db, at=now, actor=DISPATCH, action="reminded", entity="alert",
                         entity_id=reminder.alert_id,
                         details={"level": reminder.level, "reminder": reminder.sent + 1,
                                  "recipients": [[s, c.value] for s, c in recipients]})
        return True
