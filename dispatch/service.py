"""Dispatch: escalate what nobody took, route each rung, deliver and retry from the store.

Everything it does starts from stored state, so after a crash or restart it simply carries on.
"""

from __future__ import annotations

import logging
import threading
import time

from dispatch import policy
from dispatch.channels import Sender
from dispatch.delivery import Deliverer
from shouwang.clock import Clock
from shouwang.domain.alerts import Alert, Severity
from shouwang.domain.delivery import Channel
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.state import StateStore

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        *,
        settings: DispatchSettings,
        state: StateStore,
        clock: Clock,
        metrics: Metrics,
        senders: dict[Channel, Sender],
        api_url: str | None = None,
        link_secret: str | None = None,
    ) -> None:
        self._settings = settings
        self._state = state
        self._clock = clock
        self._metrics = metrics
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._deliverer = Deliverer(settings=settings, state=state, clock=clock, metrics=metrics,
                                    senders=senders, api_url=api_url, on_done=self._wake.set,
                                    link_secret=link_secret)
        self._thread = threading.Thread(target=self._work, name="dispatch", daemon=True)
        self._failures_seen = -1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(30)
        self._deliverer.close()

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until no notification is being sent; False if some still are after `timeout_s`."""
        return self._deliverer.wait_idle(timeout_s)

    def wake(self, _alert: Alert | None = None) -> None:
        """Something changed: run a round now instead of at the next poll."""
        self._wake.set()

    def _work(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self.run_once()
            except Exception:
                log.exception("dispatch.round_failed")
            self._wake.wait(self._settings.poll_s)
            self._wake.clear()
            # Every finished attempt wakes a round; back to back, rounds over a long backlog would
            # take the CPU the sending workers need. A wake in the gap is kept for the next round.
            self._stop.wait(max(0.0, self._settings.min_round_gap_s - (time.monotonic() - began)))

    def run_once(self) -> None:
        """One round: escalate, route, start the due deliveries (it does not wait for them)."""
        now = self._clock.now()
        alerts = self._state.alerts
        failures = self._deliverer.failures
        if failures != self._failures_seen:  # at the first round too, for failures stored before it
            self._failures_seen = failures
            self._move_on_from_unreachable(now)
        for alert in alerts.due_for_escalation(now):
            try:
                self._escalate(alert, now)
            except Exception as exc:  # one alert's fault must not stop the others' notifications
                log.error("dispatch.escalate_failed alert=%s error=%r", alert.id, exc)
        pending = alerts.needing_routing()
        if pending:
            roster = self._state.registry.roster()
            for alert in pending:
                try:
                    self._route(alert, roster, now)
                except Exception as exc:
                    log.error("dispatch.route_failed alert=%s error=%r", alert.id, exc)
        self._deliverer.begin_round()
        self._deliverer.submit(alerts.due_deliveries(now, limit=200 + self._deliverer.held))

    def _escalate(self, alert: Alert, now: float) -> None:
        household = self._state.registry.household(alert.household_id)
        escalated = self._state.alerts.escalate(alert, waits_s=self._settings.waits_s(household.tier),
                                                now=now)
        if escalated:
            log.info("dispatch.escalated alert=%s level=%s", alert.id, escalated.escalation_level)

    def _move_on_from_unreachable(self, now: float) -> None:
        """A rung nobody on it can be reached on is climbed at once, not after its whole wait."""
        for alert, reason in self._state.alerts.unreachable_rungs(
                attempts=self._settings.move_on_after_attempts):
            try:
                household = self._state.registry.household(alert.household_id)
                escalated = self._state.alerts.escalate(
                    alert, waits_s=self._settings.waits_s(household.tier), now=now, reason=reason)
            except Exception as exc:  # one alert's fault must not stop the others'
                log.error("dispatch.move_on_failed alert=%s error=%r", alert.id, exc)
                continue
            if escalated:
                log.warning("dispatch.moved_on alert=%s level=%s reason=%r", alert.id,
                            escalated.escalation_level, reason[:300])

    def _route(self, alert: Alert, roster: list, now: float) -> None:  # type: ignore[type-arg]
        household = self._state.registry.household(alert.household_id)
        levels = range(alert.notified_level + 1, alert.escalation_level + 1)
        plan = {level: policy.addresses(level, household, roster) for level in levels}
        waits = self._settings.waits_s(household.tier)
        # A note is for the next visit: it is told to the grid, never climbs the ladder.
        note = alert.severity is Severity.NOTE
        first = alert.opened_at + waits[0] if waits and not note else None
        self._state.alerts.route(alert, recipients=plan, first_escalation_at=first, now=now)
        for level, people in plan.items():
            log.info("dispatch.routed alert=%s level=%s recipients=%s", alert.id, level,
                     ",".join(f"{s}:{c.value}" for s, c in people) or "nobody")
