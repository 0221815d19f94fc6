"""Dispatch: escalate what nobody took, route each rung, deliver and retry from the store.

Everything it does starts from stored state, so after a crash or restart it simply carries on.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from dispatch import policy
from dispatch.channels import DeliveryFailed, Sender
from dispatch.message import notification
from shouwang.clock import Clock
from shouwang.domain.alerts import Alert, Severity
from shouwang.domain.delivery import Channel, Delivery, backoff_s
from shouwang.domain.errors import NotFound
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
    ) -> None:
        self._settings = settings
        self._state = state
        self._clock = clock
        self._metrics = metrics
        self._senders = senders
        self._api_url = api_url
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="deliver")
        self._thread = threading.Thread(target=self._work, name="dispatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(30)
        self._pool.shutdown(wait=True)

    def wake(self, _alert: Alert | None = None) -> None:
        """Something changed: run a round now instead of at the next poll."""
        self._wake.set()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("dispatch.round_failed")
            self._wake.wait(self._settings.poll_s)
            self._wake.clear()

    def run_once(self) -> None:
        """One round: escalate, route, deliver. Safe to call from tests."""
        now = self._clock.now()
        alerts = self._state.alerts
        for alert in alerts.due_for_escalation(now):
            household = self._state.registry.household(alert.household_id)
            escalated = alerts.escalate(alert, waits_s=self._settings.waits_s(household.tier), now=now)
            if escalated:
                log.info("dispatch.escalated alert=%s level=%s", alert.id, escalated.escalation_level)
        pending = alerts.needing_routing()
        if pending:
            roster = self._state.registry.roster()
            for alert in pending:
                self._route(alert, roster, now)
        self._deliver(alerts.due_deliveries(now), now)

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

    def _deliver(self, due: list[Delivery], now: float) -> None:
        if not due:
            return
        for delivery, error in zip(due, self._pool.map(self._send, due), strict=True):
            self._metrics.deliveries.labels(
                channel=delivery.channel.value, result="ok" if error is None else "error"
            ).inc()
            if error is None:
                self._state.alerts.mark_delivered(delivery, now=now)
                continue
            waited_wall_s = (now - delivery.created_at) / self._clock.speed
            give_up = waited_wall_s > self._settings.give_up_after_h * 3600
            retry_at = None if give_up else now + self._clock.speed * backoff_s(
                delivery.attempts + 1, initial_s=self._settings.retry_initial_s,
                max_s=self._settings.retry_max_s)
            self._state.alerts.mark_failed(delivery, error=error, retry_at=retry_at, now=now)
            log.warning("dispatch.delivery_failed delivery=%s alert=%s staff=%s channel=%s "
                        "attempt=%s give_up=%s error=%r", delivery.id, delivery.alert_id,
                        delivery.staff_id, delivery.channel.value, delivery.attempts + 1,
                        give_up, error)

    def _send(self, delivery: Delivery) -> str | None:
        """Deliver one notification; the error text if it failed."""
        try:
            alert = self._state.alerts.get(delivery.alert_id)
            staff = self._state.registry.staff(delivery.staff_id)
            household = self._state.registry.household(alert.household_id)
            sender = self._senders.get(delivery.channel)
            if sender is None:
                return f"no sender for channel {delivery.channel.value}"
            sender.send(staff, notification(delivery, alert, household, staff,
                                            api_url=self._api_url))
        except (DeliveryFailed, NotFound) as exc:
            return str(exc)
        return None
