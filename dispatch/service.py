"""Dispatch: escalate what nobody took, route each rung, deliver and retry from the store.

Everything it does starts from stored state, so after a crash or restart it simply carries on.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import UTC, tzinfo

from dispatch import policy
from dispatch.channels import Sender
from dispatch.delivery import Deliverer
from dispatch.family import FamilyNotifier, FamilyPoster, Poster, family_to_tell
from dispatch.ladders import Ladder, LadderPolicy, rung
from dispatch.reminding import Reminding
from shouwang.clock import Clock
from shouwang.domain.alerts import Alert, AlertState, Severity
from shouwang.domain.cover import Cover, FamilyContact
from shouwang.domain.delivery import Channel, DeliveryEvent
from shouwang.domain.model import Household, Role, Staff
from shouwang.health import Health
from shouwang.logs import RepeatedFailure
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.state import StateStore

log = logging.getLogger(__name__)
FAILING_AFTER_S = 600.0
"""A notification still failing after this long (real time) is a health problem of dispatch."""
FAILING_CHECK_S = 30.0
FAILING_SHOWN = 100
REROUTE_S = 30.0
"""How often (clock seconds) open alerts' current rungs are compared with who is on them now."""


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
        tz: tzinfo = UTC,
        ladders: LadderPolicy | None = None,
        family_poster: Poster | None = None,
        health: Health | None = None,
    ) -> None:
        self._settings = settings
        self._health = health or Health("dispatch", metrics)
        self._tz = tz
        self._ladders = ladders or LadderPolicy.of(settings)
        self._state = state
        self._clock = clock
        self._metrics = metrics
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._round_failures = RepeatedFailure(log, "dispatch.round_failed")
        self._failing_checked = -math.inf
        self._deliverer = Deliverer(settings=settings, state=state, clock=clock, metrics=metrics,
                                    senders=senders, api_url=api_url, on_done=self._wake.set,
                                    link_secret=link_secret)
        self._own_poster: FamilyPoster | None = None
        if family_poster is None:  # the family's webhooks and texts are signed like the staff's
            family_poster = self._own_poster = FamilyPoster(settings=settings, secret=link_secret)
        self._family = FamilyNotifier(settings=settings, state=state, clock=clock, poster=family_poster,
                                      api_url=api_url, link_secret=link_secret)
        self._reminding = Reminding(state=state, tz=tz, ladder=self.ladder)
        self._thread = threading.Thread(target=self._work, name="dispatch", daemon=True)
        self._failures_seen = -1
        self._rerouted_at = -math.inf

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(30)
        self._deliverer.close()
        self._family.close()
        if self._own_poster is not None:
            self._own_poster.close()

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
                self._health.clear("round_failed")
                self._round_failures.succeeded()
            except Exception as exc:
                self._round_failures.failed(exc)
                # found by an attacker: every round failed for a minute while /health said ok
                self._health.problem("round_failed", f"alerts cannot be routed, escalated or sent: "
                                     f"{exc!r:.200}; tried again every round")
            self._wake.wait(self._settings.poll_s)
            self._wake.clear()
            # Every finished attempt wakes a round; back to back, rounds over a long backlog would
            # take the CPU the sending workers need. A wake in the gap is kept for the next round.
            self._stop.wait(max(0.0, self._settings.min_round_gap_s - (time.monotonic() - began)))

    def run_once(self) -> None:
        """One round: escalate, route, remind, start the due deliveries (it does not wait for them)."""
        now = self._clock.now()
        alerts = self._state.alerts
        failures = self._deliverer.failures
        if failures != self._failures_seen:  # at the first round too, for failures stored before it
            self._failures_seen = failures
            self._move_on_from_unreachable(now)
        if now - self._rerouted_at >= REROUTE_S:
            self._reroute(now)
        for alert in alerts.due_for_escalation(now):
            try:
                self._escalate(alert, now)
            except Exception as exc:  # one alert's fault must not stop the others' notifications
                log.error("dispatch.escalate_failed alert=%s error=%r", alert.id, exc)
        pending = alerts.needing_routing()
        if pending:
            roster = self._state.registry.roster()
            cover = self._state.cover.cover(self._tz, now=now)
            for alert in pending:
                try:
                    self._route(alert, roster, cover, now)
                except Exception as exc:
                    log.error("dispatch.route_failed alert=%s error=%r", alert.id, exc)
        self._reminding.run(now)
        self._report_failing(now)
        self._deliverer.begin_round()
        self._deliverer.submit(alerts.due_deliveries(now, limit=200 + self._deliverer.held))
        self._family.submit(now)

    @property
    def health(self) -> Health:
        return self._health

    def _report_failing(self, now: float) -> None:
        """A health problem while notifications have been failing for a while (found by a tester:
        /health said ok with 21 being retried; only each alert's detail and the log said who)."""
        if time.monotonic() < self._failing_checked + FAILING_CHECK_S:
            return
        self._failing_checked = time.monotonic()
        since = [d.created_at for d in self._state.alerts.retrying(limit=FAILING_SHOWN)]
        since += [f.created_at for f in self._state.family.retrying(limit=FAILING_SHOWN)]  # relatives' too
        stuck = [at for at in since if (now - at) / self._clock.speed >= FAILING_AFTER_S][:FAILING_SHOWN]
        if stuck:
            self._health.problem("deliveries_failing", f"{len(stuck)}{'+' if len(stuck) == FAILING_SHOWN else ''} "
                                 "notification(s) failing for over 10 minutes, still tried; `shouwang dispatch "
                                 "failing` says to whom and why", level=logging.WARNING)
        else:
            self._health.clear("deliveries_failing")

    def ladder(self, household: Household, alert: Alert) -> Ladder:
        return self._ladders.ladder(household.tier, alert.kind)

    def _escalate(self, alert: Alert, now: float) -> None:
        household = self._state.registry.household(alert.household_id)
        escalated = self._state.alerts.escalate(alert, waits_s=self.ladder(household, alert).waits_s,
                                                now=now)
        if escalated:
            log.info("dispatch.escalated alert=%s level=%s", alert.id, escalated.escalation_level)

    def _move_on_from_unreachable(self, now: float) -> None:
        """A rung nobody on it can be reached on is climbed at once, not after its whole wait; from
        the top rung, the admins are asked (found by a tester: with every phone on the ladder
        broken, the alert stopped at the duty leader and nobody was ever told)."""
        stalled = self._state.alerts.unreachable_rungs(attempts=self._settings.move_on_after_attempts)
        if not stalled:
            return
        roster = self._state.registry.roster()
        cover = self._state.cover.cover(self._tz, now=now)
        for alert, reason in stalled:
            try:
                if alert.severity is Severity.NOTE:
                    continue  # a note is for the next visit: it climbs to nobody
                if self._top_up(alert, roster, cover, now):
                    continue  # someone now on the rung (a stand-in for a member gone on leave) is asked first
                if alert.next_escalation_at is None:
                    self._ask_admins(alert, reason, now)
                    continue
                household = self._state.registry.household(alert.household_id)
                escalated = self._state.alerts.escalate(
                    alert, waits_s=self.ladder(household, alert).waits_s, now=now, reason=reason)
            except Exception as exc:  # one alert's fault must not stop the others'
                log.error("dispatch.move_on_failed alert=%s error=%r", alert.id, exc)
                continue
            if escalated:
                log.warning("dispatch.moved_on alert=%s level=%s reason=%r", alert.id,
                            escalated.escalation_level, reason[:300])

    def _ask_admins(self, alert: Alert, reason: str, now: float) -> None:
        """The active admins not yet asked on `alert` (`AlertStore.add_recipients` drops those
        who were), asked at its rung."""
        admins = [(s.id, channel) for s in self._state.registry.roster() if s.active and s.role is Role.ADMIN
                  for channel in policy.channels(s)]
        if not admins or not self._state.alerts.add_recipients(alert, recipients=admins, now=now,
                                                                reason=f"{reason}; the admins are asked"):
            log.warning("dispatch.nobody_left alert=%s household=%s: %s; every admin was asked already "
                        "(or there is none)", alert.id, alert.household_id, reason[:300])
            return
        log.warning("dispatch.admins_asked alert=%s household=%s reason=%r", alert.id, alert.household_id,
                    reason[:300])

    def _reroute(self, now: float) -> None:
        """Open alerts are told to whoever is on their current rung now: found by a tester, a
        household moved to another grid, given a new caseworker or raised to red while its alert
        was open went on calling the people of before (the new grid member never heard of it),
        and a rung kept its old colour's wait. The same tells a stand-in for someone whose leave
        began after the rung was routed. The rung's wait is shortened to the household's ladder
        now, never lengthened."""
        self._rerouted_at = now
        open_alerts = [a for a in self._state.alerts.unresolved() if a.state is AlertState.OPEN
                       and 0 <= a.notified_level == a.escalation_level]
        if not open_alerts:
            return
        roster = self._state.registry.roster()
        cover = self._state.cover.cover(self._tz, now=now)
        for alert in open_alerts:
            try:
                self._top_up(alert, roster, cover, now)
            except Exception as exc:  # one alert's fault must not stop the others'
                log.error("dispatch.reroute_failed alert=%s error=%r", alert.id, exc)

    def _top_up(self, alert: Alert, roster: list[Staff], cover: Cover, now: float) -> bool:
        """Ask whoever is on `alert`'s rung now and was not asked yet (on any channel: a channel
        added meanwhile does not ask again); whether anyone was."""
        household = self._state.registry.household(alert.household_id)
        if household.retired_at is not None:
            return False
        ladder = self.ladder(household, alert)
        reached = rung(alert.escalation_level, ladder, household, roster, cover=cover, at=now,
                       contacts=family_to_tell(self._state, household.id))
        asked = {d.staff_id for d in self._state.alerts.deliveries(alert.id)
                 if d.event in (DeliveryEvent.OPENED, DeliveryEvent.ESCALATED)}
        new = [(c.staff.id, channel) for c in reached.staff if c.staff.id not in asked
               for channel in policy.channels(c.staff)]
        told = False
        if new:
            names = ", ".join(f"{c.staff.username} ({c.why})" for c in reached.staff
                              if any(s == c.staff.id for s, _ in new))
            told = self._state.alerts.add_recipients(alert, recipients=new, now=now,
                                                     reason=f"now on rung {alert.escalation_level}: {names}")
            if told:
                log.info("dispatch.rerouted alert=%s level=%s to=%s", alert.id, alert.escalation_level, names)
        waits = ladder.waits_s
        if alert.escalation_level == 0 and waits and alert.next_escalation_at is not None \
                and alert.severity is not Severity.NOTE:
            due = max(now, alert.opened_at + waits[0])  # (a later rung keeps the wait it was given)
            if due < alert.next_escalation_at and self._state.alerts.hasten(alert, at=due):
                log.info("dispatch.hastened alert=%s next_at=%.0f", alert.id, due)
        return told

    def _route(self, alert: Alert, roster: list[Staff], cover: Cover, now: float) -> None:
        household = self._state.registry.household(alert.household_id)
        ladder = self.ladder(household, alert)
        levels = range(alert.notified_level + 1, alert.escalation_level + 1)
        contacts = family_to_tell(self._state, household.id)
        plan: dict[int, list[tuple[int, Channel]]] = {}
        family: list[FamilyContact] = []
        # Someone already asked to go on this alert is not asked again by a later rung: found by a
        # tester, a family step with nobody on it fell through to the duty leader, who was then
        # told again at the next rung, two messages and two links for every alert.
        asked = {(d.staff_id, d.channel) for d in self._state.alerts.deliveries(alert.id)
                 if d.event in (DeliveryEvent.OPENED, DeliveryEvent.ESCALATED)} if alert.notified_level >= 0 else set()
        taken = alert.state is not AlertState.OPEN
        silent: list[str] = []
        for level in levels:
            if taken:
                # Found by a tester: a rung climbed a moment before someone acknowledged (or
                # before dispatch was killed) sent the grid head running to an alert already taken.
                plan[level] = []
                continue
            reached = rung(level, ladder, household, roster, cover=cover, at=now, contacts=contacts)
            plan[level] = [(c.staff.id, channel) for c in reached.staff for channel in policy.channels(c.staff)
                           if (c.staff.id, channel) not in asked]
            asked.update(plan[level])
            family += [c for c in reached.family if c not in family]
            silent = [c.staff.username for c in reached.staff if not policy.channels(c.staff)]
            if plan[level] or reached.family:
                silent = []
        waits = ladder.waits_s
        # A note is for the next visit: it is told to the grid, never climbs the ladder.
        note = alert.severity is Severity.NOTE
        first = alert.opened_at + waits[0] if waits and not note else None
        also = None if not family else (lambda db: self._state.family.queue(db, alert.id, family, now))
        self._state.alerts.route(alert, recipients=plan, first_escalation_at=first, now=now, also=also)
        if taken:
            log.info("dispatch.not_asked alert=%s levels=%s: already acknowledged", alert.id, list(levels))
            return
        if silent:  # people on the rung, none with a channel: nobody was told, so it climbs now
            reason = f"nobody on rung {alert.escalation_level} can be told: {', '.join(silent)} " \
                     "has no channel"
            if note:  # a note climbs to nobody: it waits for the next visit
                log.warning("dispatch.note_untold alert=%s household=%s: %s", alert.id, alert.household_id, reason)
            elif alert.escalation_level < len(waits):
                escalated = self._state.alerts.escalate(alert, waits_s=waits, now=now, reason=reason)
                log.warning("dispatch.moved_on alert=%s level=%s reason=%r", alert.id,
                            escalated.escalation_level if escalated else None, reason)
            else:
                self._ask_admins(alert, reason, now)
            return
        for level, people in plan.items():
            if people or family:
                log.info("dispatch.routed alert=%s level=%s recipients=%s", alert.id, level,
                         ",".join(f"{s}:{c.value}" for s, c in people))
            else:  # nobody active on the ladder, no admin either: say it where it is seen
                log.warning("dispatch.reached_nobody alert=%s household=%s level=%s: nobody active on its "
                            "ladder and no admin; `shouwang run` names the gap at start", alert.id,
                            alert.household_id, level)
