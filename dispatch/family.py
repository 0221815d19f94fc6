"""Calling a household's family: a short message with a one-time link whose answer ("reached her,
she is fine") can resolve the alert. A relative is texted through the community's SMS gateway (their
phone number) or sent the message's JSON at a webhook (a family app, or a gateway of their own).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import httpx

from dispatch import posting
from dispatch.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, DeliveryFailed, Undeliverable, sign
from dispatch.message import MAX_TEXT_CHARS, duration
from dispatch.senders import sms_sender
from shouwang.clock import Clock
from shouwang.domain import ack_links
from shouwang.domain.alerts import Alert
from shouwang.domain.cover import FamilyContact
from shouwang.domain.delivery import Channel, backoff_s
from shouwang.domain.errors import NotFound
from shouwang.domain.model import Household
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url, receiver_of
from shouwang.settings import DispatchSettings
from shouwang.storage.consent import SHARE_WITH_FAMILY
from shouwang.storage.family import FamilyDelivery
from shouwang.storage.state import StateStore

log = logging.getLogger(__name__)
ATTEMPTED_KEPT = 10_000

WHAT = {"inactivity": "家里很久没有动静", "no_water": "很久没有用水", "hub_offline": "家里的设备离线了",
        "water_running": "水一直在流", "gas_running": "燃气一直开着", "unusual_day": "今天和平常不太一样",
        "help": "按下了求助按钮"}


def family_to_tell(state: StateStore, household_id: str) -> list[FamilyContact]:
    """The household's family contacts, if its elder agreed that their alerts are shared with
    family (the consent's `share_with_family`); none otherwise. Found by a tester: the consent was
    recorded, shown, and never asked, so relatives were texted about an elder who had said no."""
    contacts = state.family.of(household_id)
    if contacts and not state.consent.has_consent(household_id, SHARE_WITH_FAMILY):
        log.info("dispatch.family_not_told household=%s contacts=%d: no consent to share with family",
                 household_id, len(contacts))
        return []
    return contacts


class Poster(Protocol):
    def post(self, channel: str, address: str, body: dict[str, Any]) -> None:
        """Deliver `body` to `address` on `channel`, or raise DeliveryFailed / Undeliverable."""
        ...


class FamilyPoster:
    """A relative's message on their channel: its text through the community's SMS gateway, or the
    whole message as a signed JSON POST to their webhook (a family app, or a gateway of their own)."""

    def __init__(self, *, settings: DispatchSettings, secret: str | None) -> None:
        timeout = httpx.Timeout(settings.webhook_timeout_s, connect=settings.webhook_connect_timeout_s)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._timeout_s = settings.webhook_timeout_s
        self._secret = secret
        self._sms = sms_sender(settings, secret=secret)

    def post(self, channel: str, address: str, body: dict[str, Any]) -> None:
        if channel == Channel.SMS.value:
            self._sms.send_text(address, body["text"], name=body["to"]["name"], alert_id=body["alert"]["id"])
        elif channel == Channel.WEBHOOK.value:
            self._post_json(address, body)
        else:
            raise Undeliverable(f"a family contact cannot be reached by {channel!r}")

    def _post_json(self, address: str, body: dict[str, Any]) -> None:
        try:
            url = check_webhook_url(address, allow_http=True).url
        except InvalidWebhook as exc:
            raise Undeliverable(str(exc)) from None
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"User-Agent": "shouwang-dispatch", "Content-Type": "application/json"}
        if self._secret is not None:
            stamp = str(int(time.time()))
            headers |= {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(self._secret, stamp, content)}
        try:
            response = posting.post(self._client, url, content=content, headers=headers,
                                    deadline_s=self._timeout_s)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"webhook {url}: {type(exc).__name__}: {exc}") from None
        if not response.is_success:  # as for staff: a redirect or a 4xx is not tried for a day
            raise posting.refusal(response, f"webhook {url}")

    def close(self) -> None:
        self._client.close()
        self._sms.close()


def family_text(alert: Alert, household: Household, contact: FamilyContact, *, now: float,
                link: str | None) -> str:
    """The few words a relative's phone shows (an SMS carries just these): whose home, what and
    for how long, that staff know, what to do; the link on a line of its own so phones make it one.
    The words stay within a staff text's MAX_TEXT_CHARS, the address giving way first."""
    who = household.alias or household.id
    what = WHAT.get(alert.kind.value, "需要关注")
    ask = "，然后点下面的链接告诉我们。" if link else "。"

    def compose(address: str | None) -> str:
        where = f"（{address}）" if address else ""
        return (f"【守望】{contact.name}您好：{who}{where}{what}，已{duration(now - alert.since, 'zh')}。"
                f"社区工作人员也已收到通知。请尽快打电话或上门看看{ask}")

    text = compose(household.address)
    if len(text) > MAX_TEXT_CHARS and household.address:
        text = compose(household.address[:19] + "…" if len(household.address) > 20 else household.address)
    if len(text) > MAX_TEXT_CHARS:
        text = compose(None)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS - 1] + "…"
    return f"{text}\n{link}" if link else text


def family_message(alert: Alert, household: Household, contact: FamilyContact, *, now: float,
                   link: str | None) -> dict[str, Any]:
    """What a relative is told: whose home, what is happening, what to do, and where to answer."""
    return {"event": "family_call", "text": family_text(alert, household, contact, now=now, link=link),
            "to": {"contact_id": contact.id, "name": contact.name, "relation": contact.relation},
            "household": {"id": household.id, "alias": household.alias, "address": household.address},
            "alert": {"id": alert.id, "kind": alert.kind.value, "explanation_zh": alert.explanations["zh"]},
            "answer_link": link}


class FamilyNotifier:
    """Sends what the family are owed, retrying with backoff like staff's. As for staff
    (`delivery.Deliverer`), at most `in_flight_per_receiver` attempts go to one receiver at once
    and the rest of that receiver's wait for a later round: found by a tester, twenty relatives on
    one family app that never answered held another family's SMS back 50 seconds, two at a time."""

    def __init__(self, *, settings: DispatchSettings, state: StateStore, clock: Clock, poster: Poster,
                 api_url: str | None, link_secret: str | None) -> None:
        self._settings, self._state, self._clock = settings, state, clock
        self._poster, self._api_url, self._secret = poster, api_url, link_secret
        self._workers = max(2, settings.delivery_workers)
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="family")
        self._lock = threading.Lock()
        self._in_flight: dict[int, str] = {}
        """delivery id → the receiver it is being sent to"""
        self._attempted: dict[int, int] = {}
        """delivery id → its attempts once this sender's last one was recorded: a round that read
        the store before that record is stale for it (found by CI: a 503 with an hour's
        Retry-After was asked again at once, its delivery read as due just before it was marked)."""

    def submit(self, now: float) -> None:
        due = self._state.family.due(now)
        if not due:
            return
        receivers = {d.id: self._receiver(d.contact_id) for d in due}
        for delivery in due:
            receiver = receivers[delivery.id]
            with self._lock:
                if self._attempted.get(delivery.id, -1) > delivery.attempts:
                    continue  # read before its last attempt was recorded
                self._attempted.pop(delivery.id, None)
                busy = Counter(self._in_flight.values())
                if (delivery.id in self._in_flight or len(self._in_flight) >= self._workers
                        or busy[receiver] >= self._settings.in_flight_per_receiver):
                    continue  # its turn comes in a later round
                self._in_flight[delivery.id] = receiver
            self._pool.submit(self._attempt, delivery)

    def _receiver(self, contact_id: int) -> str:
        """The unit a hanging receiver blocks: the SMS gateway, or a family webhook's host:port."""
        try:
            contact = self._state.family.get(contact_id)
        except NotFound:
            return "?"
        return "sms" if contact.channel == "sms" else f"webhook {receiver_of(contact.address)}"

    def idle(self) -> bool:
        with self._lock:
            return not self._in_flight

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _attempt(self, delivery: FamilyDelivery) -> None:
        recorded = False
        try:
            error, permanent, retry_after_s = self._send(delivery)
            now = self._clock.now()
            wait_s = max(backoff_s(delivery.attempts + 1, initial_s=self._settings.retry_initial_s,
                                   max_s=self._settings.retry_max_s), retry_after_s or 0.0)
            retry_at = None if error is None or permanent else now + self._clock.speed * wait_s
            self._state.family.mark(delivery, error=error, retry_at=retry_at, now=now)
            recorded = True
        except Exception as exc:  # the state store failed: it stays pending and is sent again
            log.error("dispatch.family_record_failed delivery=%s error=%r", delivery.id, exc)
        finally:
            with self._lock:
                self._in_flight.pop(delivery.id, None)
                if recorded:
                    if len(self._attempted) >= ATTEMPTED_KEPT:
                        self._attempted.clear()  # bounded; at worst a stale round sends one again
                    self._attempted[delivery.id] = delivery.attempts + 1

    def _send(self, delivery: FamilyDelivery) -> tuple[str | None, bool, float | None]:
        try:
            contact = self._state.family.get(delivery.contact_id)
            alert = self._state.alerts.get(delivery.alert_id)
            household = self._state.registry.household(alert.household_id)
            if alert.is_resolved:
                return "the alert was resolved before the family could be told", True, None
            # Found by a tester: checked only when the message was queued, so a retry still told a
            # relative removed from the ladder, or whose elder had since withdrawn sharing.
            if not contact.active or contact.household_id != household.id:
                return f"{contact.name} is no longer a family contact of {household.id}; not told", True, None
            if not household.is_active or not (self._state.consent.has_consent(household.id)
                                               and self._state.consent.has_consent(household.id,
                                                                                   SHARE_WITH_FAMILY)):
                return "the elder no longer agrees that alerts are shared with family; not told", True, None
            link = None
            if self._secret is not None and self._api_url:
                token = ack_links.make(self._secret, alert_id=alert.id, staff_id=contact.id,
                                       now=self._clock.now(), ttl_s=self._settings.ack_link_ttl_h * 3600,
                                       audience=ack_links.FAMILY)
                link = f"{self._api_url.rstrip('/')}/family/{token}"
            message = family_message(alert, household, contact, now=self._clock.now(), link=link)
            self._poster.post(contact.channel, contact.address, message)
        except (Undeliverable, NotFound) as exc:
            return str(exc), True, None
        except DeliveryFailed as exc:
            return str(exc), False, exc.retry_after_s
        except Exception as exc:  # one surprise fails this delivery, nobody else's
            return f"{type(exc).__name__}: {exc}", False, None
        return None, False, None
