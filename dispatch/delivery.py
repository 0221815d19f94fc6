"""Sending notifications behind bulkheads: one receiver's fault is one delivery's failed attempt.

Each due delivery is one attempt in a bounded pool of workers; the dispatch round hands them over
and goes on, never waiting for a send. At most `in_flight_per_receiver` attempts go to one webhook
host:port (or to the MQTT broker) at once, so a receiver that hangs until the read timeout holds a
few workers, never the pool, and everyone else's notification still leaves at once. Those held
back for a busy receiver start as soon as one of its attempts finishes, without waiting for the
next round. Whatever a
sender raises is recorded on that delivery alone: retried with backoff, or given up at once when
no attempt could ever get through (an address that is not a URL).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dispatch.channels import DeliveryFailed, Sender, Undeliverable
from dispatch.message import ASKS_FOR_SOMEONE, notification
from shouwang.clock import Clock
from shouwang.domain import access, ack_links
from shouwang.domain.alerts import AlertState
from shouwang.domain.channels import ROBOTS, find
from shouwang.domain.delivery import Channel, Delivery, backoff_s
from shouwang.domain.errors import NotFound
from shouwang.domain.model import Staff
from shouwang.domain.webhooks import receiver_of
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.state import StateStore

log = logging.getLogger(__name__)
CLAIM_MIN_S = 60.0
CLAIM_TIMEOUTS = 4
"""A delivery taken to be sent is due again, should its process die sending it, after this many of
the webhook timeout (every channel's exchange ends within one), and never sooner than CLAIM_MIN_S."""


def receiver_key(channel: Channel, staff: Staff | None, senders: dict[Channel, Sender]) -> str:
    """The unit one hanging receiver blocks: host:port for HTTP channels, the SMS gateway, the
    MQTT broker."""
    if channel is Channel.MQTT:
        return channel.value
    if channel is Channel.SMS:
        url = getattr(senders.get(channel), "url", None) or ""
    else:
        found = None if staff is None else find(staff.reached_by, channel)
        url = found.address if found else ""
    return f"{channel.value} {receiver_of(url)}"


@dataclass(frozen=True, slots=True)
class Attempt:
    error: str | None = None
    permanent: bool = False
    """No later attempt could succeed: give up now."""
    retry_after_s: float | None = None
    """The receiver asked to be tried again no sooner (Retry-After)."""


class Deliverer:
    def __init__(self, *, settings: DispatchSettings, state: StateStore, clock: Clock,
                 metrics: Metrics, senders: dict[Channel, Sender], api_url: str | None,
                 on_done: Callable[[], None], link_secret: str | None = None) -> None:
        self._settings = settings
        self._state = state
        self._clock = clock
        self._metrics = metrics
        self._senders = senders
        self._api_url = api_url
        self._link_secret = link_secret
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=settings.delivery_workers,
                                        thread_name_prefix="deliver")
        self._lock = threading.Condition()
        self._in_flight: dict[int, str] = {}
        """delivery id → the receiver it is being sent to"""
        self._finished: set[int] = set()
        """finished since the round began: their stored state may be older than the attempt"""
        self._waiting: dict[str, deque[Delivery]] = {}
        """receiver → due deliveries held back for its slot, started as its attempts finish"""
        self._held = 0
        self._closing = False
        self._failures = 0

    @property
    def held(self) -> int:
        """Deliveries due but held back (in flight, or waiting for their receiver's slot)."""
        return self._held

    @property
    def failures(self) -> int:
        """Failed attempts recorded so far: only a failure can leave a rung with nobody reached."""
        return self._failures

    def begin_round(self) -> None:
        """Call before reading the due deliveries, so one that finishes meanwhile is not resent."""
        with self._lock:
            self._finished.clear()

    def submit(self, due: list[Delivery]) -> int:
        """Start each due delivery whose receiver has a free slot; the rest wait (not an attempt)."""
        fresh = [d for d in due if d.id not in self._in_flight]
        receivers = self._receivers(fresh)
        started = 0
        waiting: dict[str, deque[Delivery]] = {}
        with self._lock:
            busy = Counter(self._in_flight.values())
            for delivery in fresh:
                receiver = receivers[delivery.id]
                if delivery.id in self._in_flight or delivery.id in self._finished:
                    continue
                if (len(self._in_flight) >= self._settings.delivery_workers
                        or busy[receiver] >= self._settings.in_flight_per_receiver):
                    waiting.setdefault(receiver, deque()).append(delivery)
                    continue
                self._start(delivery, receiver)
                busy[receiver] += 1
                started += 1
            # Held ones start as their receiver's attempts finish, not at the next round: a round
            # over a long backlog (a receiver hanging for hours) must not pace everyone else.
            self._waiting = waiting
            self._held = len(due) - started
        return started

    def _start(self, delivery: Delivery, receiver: str) -> None:
        self._in_flight[delivery.id] = receiver
        try:
            self._pool.submit(self._attempt, delivery, receiver)
        except RuntimeError:  # shutting down: it stays pending in the store and goes next time
            self._in_flight.pop(delivery.id, None)

    def _start_waiting(self, receiver: str) -> None:
        """A slot came free: start the next held delivery of this receiver, or of any with room."""
        if self._closing or len(self._in_flight) >= self._settings.delivery_workers:
            return
        busy = Counter(self._in_flight.values())
        for candidate in [receiver, *(r for r in self._waiting if r != receiver)]:
            queue = self._waiting.get(candidate)
            while queue and busy[candidate] < self._settings.in_flight_per_receiver:
                delivery = queue.popleft()
                if delivery.id not in self._in_flight and delivery.id not in self._finished:
                    self._start(delivery, candidate)
                    return

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no attempt is in flight; False if some still are after `timeout_s`."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._in_flight, timeout_s)

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._waiting.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _receivers(self, due: list[Delivery]) -> dict[int, str]:
        """The unit a hanging receiver blocks: host:port for HTTP channels, the broker for MQTT."""
        people: dict[int, Staff] = {}
        if any(d.channel is not Channel.MQTT for d in due):
            people = {s.id: s for s in self._state.registry.all_staff()}  # one read, not one each
        return {d.id: self._receiver(d.channel, people.get(d.staff_id)) for d in due}

    def _receiver(self, channel: Channel, staff: Staff | None) -> str:
        return receiver_key(channel, staff, self._senders)

    def _attempt(self, delivery: Delivery, receiver: str) -> None:
        try:
            lease_s = max(CLAIM_MIN_S, CLAIM_TIMEOUTS * self._settings.webhook_timeout_s) * self._clock.speed
            if not self._state.alerts.claim_delivery(delivery, until=self._clock.now() + lease_s):
                log.info("dispatch.delivery_taken delivery=%s: another dispatch process is sending it",
                         delivery.id)
                return
            self._record(delivery, self._send(delivery))
        except Exception as exc:  # the state store failed: it stays pending and is sent again
            log.error("dispatch.record_failed delivery=%s error=%r", delivery.id, exc)
        finally:
            with self._lock:
                self._in_flight.pop(delivery.id, None)
                self._finished.add(delivery.id)
                self._start_waiting(receiver)
                self._lock.notify_all()
            self._on_done()

    def _send(self, delivery: Delivery) -> Attempt:
        try:
            alert = self._state.alerts.get(delivery.alert_id)
            staff = self._state.registry.staff(delivery.staff_id)
            household = self._state.registry.household(alert.household_id)
            now = self._clock.now()
            if not access.looks_after(staff, household, leaves=lambda: self._state.cover.leaves(ending_after=now),
                                      staff_of=self._state.registry.staff, now=now):
                # Found by a tester: a member retired ("no more alerts") or moved to another grid
                # went on receiving the household's alerts, names and addresses, for a day of retries.
                why = "was retired" if not staff.active else f"no longer looks after household {household.id}"
                return Attempt(f"{staff.username} {why}; not told", permanent=True)
            if delivery.event in ASKS_FOR_SOMEONE and any(
                    leave.staff_id == staff.id and leave.covers(now)
                    for leave in self._state.cover.leaves(ending_after=now)):
                # Found by a tester: a notification still being retried when her sick leave was
                # recorded reached her at home; her deputy is asked instead (`Dispatcher._reroute`).
                return Attempt(f"{staff.username} is on leave; whoever stands in is asked instead",
                               permanent=True)
            if alert.state is AlertState.RESOLVED and delivery.event in ASKS_FOR_SOMEONE:
                # found by a tester: a retry after the alert was resolved still said "urgent, please look"
                return Attempt(f"alert {alert.id} was resolved before this got through; not sent",
                               permanent=True)
            if find(staff.reached_by, delivery.channel) is None:
                now_on = [c.kind for c in staff.reached_by if c.kind in self._senders]
                if now_on:
                    self._state.alerts.move_delivery(delivery, now_on, now=now)
                    return Attempt(f"{staff.username} is no longer reached by {delivery.channel.value}; "
                                   f"sent on {', '.join(c.value for c in now_on)} instead", permanent=True)
            sender = self._senders.get(delivery.channel)
            if sender is None:
                return Attempt(f"no sender for channel {delivery.channel.value}")
            token = None if self._link_secret is None else ack_links.make(
                self._link_secret, alert_id=alert.id, staff_id=staff.id, now=self._clock.now(),
                ttl_s=self._settings.ack_link_ttl_h * 3600)
            channel = find(staff.reached_by, delivery.channel)
            group = delivery.channel in ROBOTS  # a group chat: no link that acts as the recipient
            sender.send(staff, notification(delivery, alert, household, staff,
                                            api_url=self._api_url, ack_token=None if group else token,
                                            told=self._others_told(delivery),
                                            lang=channel.lang if channel else "zh",
                                            now=self._clock.now(), group=group))
        except (Undeliverable, NotFound) as exc:
            return Attempt(str(exc), permanent=True)
        except DeliveryFailed as exc:
            return Attempt(str(exc), retry_after_s=exc.retry_after_s)
        except Exception as exc:  # a surprise in one sender fails this delivery, nobody else's
            log.debug("dispatch.sender_raised delivery=%s", delivery.id, exc_info=True)
            return Attempt(f"{type(exc).__name__}: {exc}")
        return Attempt()

    def _others_told(self, delivery: Delivery) -> list[str]:
        """The names of everyone else asked to act on this alert so far, first told first."""
        asked = [d.staff_id for d in self._state.alerts.deliveries(delivery.alert_id)
                 if d.event in ASKS_FOR_SOMEONE and d.staff_id != delivery.staff_id]
        if not asked:
            return []
        names = {s.id: s.name for s in self._state.registry.all_staff()}
        return [names[i] for i in dict.fromkeys(asked) if i in names]

    def _record(self, delivery: Delivery, attempt: Attempt) -> None:
        now = self._clock.now()
        self._metrics.deliveries.labels(
            channel=delivery.channel.value, result="ok" if attempt.error is None else "error"
        ).inc()
        alerts = self._state.alerts
        if attempt.error is None:
            alerts.mark_delivered(delivery, now=now)
            return
        self._failures += 1
        waited_wall_s = (now - delivery.created_at) / self._clock.speed
        give_up = attempt.permanent or waited_wall_s > self._settings.give_up_after_h * 3600
        # a receiver that said when to come back (Retry-After) is not asked sooner: found by a
        # tester, a throttled receiver was asked again after 2 and 4 seconds, as if it had not said
        wait_s = max(backoff_s(delivery.attempts + 1, initial_s=self._settings.retry_initial_s,
                               max_s=self._settings.retry_max_s), attempt.retry_after_s or 0.0)
        retry_at = None if give_up else now + self._clock.speed * wait_s
        alerts.mark_failed(delivery, error=attempt.error, retry_at=retry_at, now=now)
        event = "dispatch.delivery_undeliverable" if attempt.permanent else "dispatch.delivery_failed"
        log.warning("%s delivery=%s alert=%s staff=%s channel=%s attempt=%s give_up=%s error=%r",
                    event, delivery.id, delivery.alert_id, delivery.staff_id,
                    delivery.channel.value, delivery.attempts + 1, give_up, attempt.error[:300])
