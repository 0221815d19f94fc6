"""Reminders: the current step of an unacknowledged alert is told again every `remind_every_s` of
its ladder. What is owed lives in the state store (`ReminderStore`), so a restart resumes it; this
only decides, each round, which are due, touching the store only for those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import tzinfo

from dispatch import policy
from dispatch.ladders import Ladder
from shouwang.domain.alerts import Alert
from shouwang.domain.cover import Cover
from shouwang.domain.model import Household, Staff
from shouwang.storage.reminders import Reminder, Waiting
from shouwang.storage.state import StateStore

log = logging.getLogger(__name__)

FORGET_S = 60.0
"""How long (clock seconds) an alert whose ladder does not remind is left unlooked-at; a
household's colour changed meanwhile is seen after this."""


class Reminding:
    def __init__(self, *, state: StateStore, tz: tzinfo,
                 ladder: Callable[[Household, Alert], Ladder]) -> None:
        self._state, self._tz, self._ladder = state, tz, ladder
        self._silent: dict[tuple[int, int], float] = {}
        """(alert id, level) whose ladder has no reminders → when that was looked up"""

    def run(self, now: float) -> None:
        """Arm the reminders of newly reached steps, send those due, drop those answered."""
        self._state.reminders.drop_answered()
        self._silent = {k: at for k, at in self._silent.items() if now - at < FORGET_S}
        context: tuple[list[Staff], Cover] | None = None
        for waiting in self._state.reminders.waiting():
            if not self._may_be_due(waiting, now):
                continue
            try:
                alert = self._state.alerts.get(waiting.alert_id)
                household = self._state.registry.household(alert.household_id)
                every = self._ladder(household, alert).remind_every_s
                reminder = waiting.reminder
                if every is None:
                    self._silent[(alert.id, alert.escalation_level)] = now
                elif reminder is None or reminder.level != alert.escalation_level:
                    self._state.reminders.arm(alert.id, level=alert.escalation_level, next_at=now + every)
                else:
                    context = context or (self._state.registry.roster(),
                                          self._state.cover.cover(self._tz, now=now))
                    self._send(alert, household, reminder, every, context, now)
            except Exception as exc:  # one alert's fault must not stop the others' reminders
                log.error("dispatch.remind_failed alert=%s error=%r", waiting.alert_id, exc)

    def _may_be_due(self, waiting: Waiting, now: float) -> bool:
        reminder = waiting.reminder
        if reminder is not None and reminder.level == waiting.level:
            return reminder.next_at <= now
        return (waiting.alert_id, waiting.level) not in self._silent

    def _send(self, alert: Alert, household: Household, reminder: Reminder, every: float,
              context: tuple[list[Staff], Cover], now: float) -> None:
        roster, cover = context
        people = policy.addresses(alert.escalation_level, household, roster,
                                  ladder=self._ladder(household, alert), cover=cover, at=now)
        # After a long stop one reminder is due, not every one missed.
        if self._state.reminders.send(reminder, recipients=people, next_at=now + every, now=now):
            log.info("dispatch.reminded alert=%s level=%s reminder=%s", alert.id, reminder.level,
                     reminder.sent + 1)
