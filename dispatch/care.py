"""Dispatch's care rounds: remind whoever claimed an overdue visit, suggest hotter colours.

Every `check_every_s` it looks at every household: a visit overdue in a new period owes its
claimants one reminder on each of their channels; a household whose genuine alerts piled up gets
one colour suggestion for its caseworker. Both are stored before anything is sent (so a crash
loses nothing and a restart repeats nothing) and then delivered with the same senders, backoff
and give-up as alert notifications. It runs in its own thread, apart from the alert rounds, so a
slow receiver of a reminder never holds up an alert.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

from dispatch import care_message, policy
from dispatch.channels import DeliveryFailed, Sender, Undeliverable
from dispatch.delivery import receiver_key
from shouwang.clock import Clock
from shouwang.domain import tier_advice
from shouwang.domain.alerts import Alert
from shouwang.domain.delivery import Channel, backoff_s
from shouwang.domain.errors import NotFound
from shouwang.domain.model import Household, Staff, Tier
from shouwang.domain.notices import NewNotice, Notice, NoticeKind
from shouwang.domain.visits_due import VisitDue, visits_due
from shouwang.logs import RepeatedFailure
from shouwang.settings import CareSettings, DispatchSettings
from shouwang.storage.state import StateStore

log = logging.getLogger(__name__)


class CareRounds:
    def __init__(self, *, settings: CareSettings, dispatch: DispatchSettings, state: StateStore,
                 clock: Clock, senders: dict[Channel, Sender], tz: ZoneInfo,
                 api_url: str | None = None) -> None:
        self._settings = settings
        self._dispatch = dispatch
        self._state = state
        self._clock = clock
        self._senders = senders
        self._tz = tz
        self._api_url = api_url
        self._stop = threading.Event()
        self._failures = RepeatedFailure(log, "dispatch.care_round_failed")
        self._thread = threading.Thread(target=self._work, name="dispatch-care", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _work(self) -> None:
        next_look = 0.0
        while not self._stop.is_set():
            try:
                if self._clock.now() >= next_look:
                    self.look(self._clock.now())
                    next_look = self._clock.now() + self._settings.check_every_s * self._clock.speed
                self.send_due()
                self._failures.succeeded()
            except Exception as exc:
                self._failures.failed(exc)
            self._stop.wait(max(self._dispatch.poll_s, 0.2))

    # owing ------------------------------------------------------------------
    def look(self, now: float) -> int:
        """Owe the reminders and suggestions due at `now`; how many notices were new."""
        roster = self._state.registry.roster()
        homes = self._state.registry.households()
        return self.remind_overdue(homes, roster, now) + self.suggest_colours(homes, roster, now)

    def remind_overdue(self, homes: list[Household], roster: list[Staff], now: float) -> int:
        every = {t: self._settings.visit_every_s(t) for t in Tier}
        dues = visits_due(homes, self._state.visits.last_by_household(), roster, every, now=now)
        by_id = {s.id: s for s in roster}
        homes_by_id = {h.id: h for h in homes}
        owed = [notice for due in dues if due.overdue
                for notice in self._reminders(due, homes_by_id[due.household_id], by_id)]
        added = self._state.care.owe(owed, now=now)
        if added:
            log.info("dispatch.visit_reminders_owed count=%s", added)
        return added

    def _reminders(self, due: VisitDue, home: Household, staff: dict[int, Staff]) -> list[NewNotice]:
        # The period's start in the key: a visit recorded and missed again is a new reminder.
        key = f"{due.due_at:.0f}/{due.period}"
        return [NewNotice(NoticeKind.VISIT_OVERDUE, home.id, person.id, channel, key,
                          care_message.visit_overdue(due, home, person, tz=self._tz,
                                                     api_url=self._api_url))
                for person in (staff[i] for i in due.claimed_by) for channel in policy.channels(person)]

    def suggest_colours(self, homes: list[Household], roster: list[Staff], now: float) -> int:
        window_s = self._settings.suggest_window_days * 86400
        alerts: dict[str, list[Alert]] = {}
        for alert in self._state.alert_list.unresolved_or_opened_since(now - window_s):
            if tier_advice.genuine(alert):
                alerts.setdefault(alert.household_id, []).append(alert)
        waiting = self._state.care.open_suggestions()
        overtaken = [h for h in homes if h.id in waiting and h.tier <= waiting[h.id].to_tier]
        if overtaken and self._state.care.close_overtaken(overtaken, now=now):
            waiting = self._state.care.open_suggestions()
        threshold = self._settings.suggest_after_alerts
        homes = [h for h in homes if len(alerts.get(h.id, ())) >= threshold]
        if not homes:
            return 0
        last = self._state.care.last_suggested_at()
        added = 0
        for home in homes:
            if home.id in waiting:
                continue
            found = tier_advice.suggest(home, alerts[home.id], threshold=threshold, window_s=window_s,
                                        after=last.get(home.id), now=now)
            if found is None:
                continue
            people = tier_advice.advisees(home, roster)
            notices = [NewNotice(NoticeKind.TIER_SUGGESTED, home.id, person.id, channel,
                                 f"suggestion@{now:.0f}",
                                 care_message.tier_suggested(
                                     found, home, person, window_days=self._settings.suggest_window_days,
                                     api_url=self._api_url))
                       for person in people for channel in policy.channels(person)]
            self._state.care.suggest(found, notices, now=now)
            log.info("dispatch.colour_suggested household=%s to=%s alerts=%s", home.id,
                     found.to_tier.colour, len(found.alert_ids))
            added += len(notices)
        return added

    # sending ----------------------------------------------------------------
    def send_due(self) -> int:
        """Send every notice due now; how many got through. Each receiver's go one after another,
        a few receivers at once, and a receiver that failed gets no more this round (they wait
        for the next): found by a tester, one hanging receiver spaced everyone else's reminders
        by its timeout, 37 of them over three minutes."""
        due = self._state.care.due(self._clock.now())
        if not due:
            return 0
        people = {s.id: s for s in self._state.registry.all_staff()}
        by_receiver: dict[str, list[Notice]] = {}
        for notice in due:
            key = receiver_key(notice.channel, people.get(notice.staff_id), self._senders)
            by_receiver.setdefault(key, []).append(notice)
        with ThreadPoolExecutor(max_workers=min(len(by_receiver), self._dispatch.delivery_workers),
                                thread_name_prefix="care") as pool:
            return sum(pool.map(self._send_to, by_receiver.values()))

    def _send_to(self, notices: list[Notice]) -> int:
        sent = 0
        for notice in notices:
            if self._stop.is_set():
                break
            got_through = self._send(notice)
            if got_through is None:
                break  # this receiver is failing: its other notices would only wait as long
            sent += got_through
        return sent

    def _send(self, notice: Notice) -> int | None:
        """1 if it got through, 0 if it never can (given up), None if it failed for now."""
        error, permanent = None, False
        try:
            staff = self._state.registry.staff(notice.staff_id)
            sender = self._senders.get(notice.channel)
            if sender is None:
                raise Undeliverable(f"no sender for channel {notice.channel.value}")
            sender.send(staff, {**notice.body, "notice_id": notice.id})
        except (Undeliverable, NotFound) as exc:
            error, permanent = str(exc), True
        except DeliveryFailed as exc:
            error = str(exc)
        except Exception as exc:  # a surprise in one sender fails this notice, nobody else's
            error = f"{type(exc).__name__}: {exc}"
        now = self._clock.now()
        if error is None:
            self._state.care.mark_delivered(notice.id, now=now)
            return 1
        d = self._dispatch
        waited_wall_s = (now - notice.created_at) / self._clock.speed
        give_up = permanent or waited_wall_s > d.give_up_after_h * 3600
        retry_at = None if give_up else now + self._clock.speed * backoff_s(
            notice.attempts + 1, initial_s=d.retry_initial_s, max_s=d.retry_max_s)
        self._state.care.mark_failed(notice.id, error=error, retry_at=retry_at, now=now)
        log.warning("dispatch.notice_failed notice=%s kind=%s staff=%s channel=%s give_up=%s error=%r",
                    notice.id, notice.kind.value, notice.staff_id, notice.channel.value, give_up,
                    error[:300])
        return 0 if permanent else None
