"""Reminders owed to an open alert's current step, in the state store.

One row per alert: the step it reminds and when next. A reminder's deliveries are queued in the
same transaction that moves `next_at` on, and only if `next_at` is still what the dispatcher read,
so a restart (or a second dispatcher) never sends one twice and never loses one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from shouwang.domain.delivery import Channel, DeliveryEvent
from shouwang.storage import audit as trail
from shouwang.storage.alerts import DISPATCH, queue_delivery
from shouwang.storage.database import writing
from shouwang.storage.schema import alert_reminders


@dataclass(frozen=True, slots=True)
class Reminder:
    alert_id: int
    level: int
    next_at: float
    sent: int = 0


class ReminderStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
