"""Ladders, rosters, reminders and family, delivered for real: webhooks to receivers served here,
MQTT through a real broker, the state store a SQLite file, time on a fast clock."""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import ApiContext
from dispatch.channels import MqttSender, Sender, WebhookSender, verify
from dispatch.service import Dispatcher
from shouwang.broker import free_port
from shouwang.clock import FastClock
from shouwang.contract.topics import staff_topic
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Finding, Outcome, Severity
from shouwang.domain.channels import StaffChannel
from shouwang.domain.cover import DutySlot, FamilyContact, Leave
from shouwang.domain.delivery import Channel, Delivery, DeliveryStatus
from shouwang.domain.model import Grid, Household, Role, Staff, Tier
from shouwang.metrics import Metrics
from shouwang.mqtt import Message, MqttClient
from shouwang.settings import DispatchSettings, MqttSettings, Settings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.support import ServiceReceiver, Silent, WebhookReceiver, wait_for

pytestmark = pytest.mark.broker
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI).timestamp()  # a Monday, 10:00
SECRET = "this community's own secret, long enough"
ADMIN = Actor("test")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield store
    store.close()


def staff(state: StateStore, receiver: WebhookReceiver) -> dict[str, Staff]:
    """Grid g-a: member wang, deputy li, head zhao; duty leaders sun (day) and zhou (night)."""
    state.registry.add_grid(Grid("g-a", "A"))
    people = {}
    for username, role in (("wang", Role.GRID_MEMBER), ("li", Role.GRID_MEMBER), ("zhao", Role.GRID_HEAD),
                           ("sun", Role.DUTY_LEADER), ("zhou", Role.DUTY_LEADER)):
        grids = ["g-a"] if role in (Role.GRID_MEMBER, Role.GRID_HEAD) and username != "li" else []
        people[username] = state.registry.add_staff(username=username, name=username, role=role, grid_ids=grids,
                                                     webhook_url=receiver.url(username), notify_mqtt=False,
                                                     now=START)
    state.registry.add_household(Household("hh-1", Tier.GREEN, "g-a"), now=START)
    state.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=True, given_at=START),
                         actor=ADMIN, now=START)
    return people


def dispatcher(state: StateStore, clock: FastClock, senders: dict[Channel, Sender],
               **settings: Any) -> Dispatcher:
    values: dict[str, Any] = {"poll_s": 0.05, "retry_initial_s": 0.05, "retry_max_s": 0.2, **settings}
    return Dispatcher(settings=DispatchSettings.model_validate(values), state=state, clock=clock,
                      metrics=Metrics(), senders=senders, tz=SHANGHAI, link_secret=SECRET,
                      api_url="http://shouwang.test")


def open_alert(state: StateStore, clock: FastClock, kind: AlertKind = AlertKind.INACTIVITY) -> Alert:
    alert = state.alerts.open(Finding("hh-1", kind, Severity.URGENT, clock.now() - 3600, "quiet"),
                              now=clock.now())
    assert alert is not None
    return alert


@contextlib.contextmanager
def links_page(state: StateStore, clock: FastClock, tmp_path: Path) -> Iterator[TestClient]:
    """The API that one-time links open, over the same store."""
    readings = SqliteReadingStore(tmp_path / "readings.db")
    client = TestClient(create_app(ApiContext(settings=Settings(), state=state, readings=readings, clock=clock,
                                              metrics=Metrics(), secret=SECRET)))
    try:
        yield client
    finally:
        client.close()
        readings.close()


def first_told(state: StateStore, receiver: WebhookReceiver, path: str = "daughter",
               **settings: Any) -> tuple[Alert, dict[str, Any], FastClock]:
    """A new alert and the first message it sends to `path` (by default the daughter, on the
    ladder's first step): the alert, the message, the clock."""
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, **settings)
    alert = open_alert(state, clock)
    service.start()
    try:
        told = wait_for(lambda: receiver.to(path), what=f"the message to {path}")[0]
    finally:
        service.stop()
        webhooks.close()
    return alert, told, clock


def events(receiver: WebhookReceiver, who: str) -> list[str]:
    return [r["event"] for r in receiver.to(who)]


def test_the_deputy_and_the_rostered_duty_leader_receive_what_the_absent_person_would(
        state: StateStore, receiver: WebhookReceiver, tmp_path: Path) -> None:
    people = staff(state, receiver)
    state.cover.add_leave(Leave(people["wang"].id, START - 86400, START + 86400, deputy_id=people["li"].id),
                          actor=ADMIN, now=START)
    state.cover.add_leave(Leave(people["zhao"].id, START - 86400, START + 86400), actor=ADMIN, now=START)
    state.cover.add_slot(DutySlot(people["sun"].id, 0, 8, 18), actor=ADMIN, now=START)
    state.cover.add_slot(DutySlot(people["zhou"].id, 0, 18, 8), actor=ADMIN, now=START)
    clock = FastClock(START, 3000.0)  # the green ladder's two hours pass in under 3 seconds
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks})
    alert = open_alert(state, clock)
    service.start()
    try:
        wait_for(lambda: receiver.to("li"), what="the deputy to be told")
        # The grid head is on leave without a deputy: the duty leader on duty takes it.
        wait_for(lambda: receiver.to("sun"), what="the rostered duty leader to stand in for the head")
        wait_for(lambda: state.alerts.get(alert.id).escalation_level == 2, timeout_s=30,
                 what="the ladder's top")
        assert service.wait_idle(10)
    finally:
        service.stop()
        webhooks.close()
    assert (events(receiver, "wang"), events(receiver, "zhao")) == ([], [])  # the absent are left alone
    assert events(receiver, "li") == ["opened"]
    # The deputy, of no grid of this household, acknowledges through the link they were sent.
    with links_page(state, clock, tmp_path) as client:
        link = receiver.to("li")[0]["ack_link"].removeprefix("http://shouwang.test")
        assert client.post(link, headers=FORM).status_code == 200
    assert state.alerts.get(alert.id).acknowledged_by == people["li"].id
    assert events(receiver, "sun")[0] == "escalated"
    assert events(receiver, "zhou") == []  # on duty only from 18:00


def test_reminders_repeat_until_acknowledged_and_a_restart_repeats_and_skips_none(
        state: StateStore, receiver: WebhookReceiver) -> None:
    people = staff(state, receiver)
    clock = FastClock(START, 120.0)  # a reminder a minute: one every half second
    ladders = {"green": {"steps": [{"who": ["grid_member"]}, {"after_min": 3, "who": ["grid_head"]}],
                         "remind_every_min": 1}}
    webhooks = WebhookSender(timeout_s=2)
    alert = open_alert(state, clock)
    first = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, ladders=ladders)
    first.start()
    try:
        wait_for(lambda: events(receiver, "wang").count("reminder") >= 2, what="two reminders")
    finally:
        first.stop()  # a crash in the middle: the next dispatcher starts from the store alone
    stopped_at = clock.now()
    wait_for(lambda: clock.now() > stopped_at + 150, what="a couple of reminders' time to pass unsent")
    second = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, ladders=ladders)
    second.start()
    try:
        wait_for(lambda: events(receiver, "zhao").count("reminder") >= 1, timeout_s=30,
                 what="the grid head's step, then its reminder")
        state.alerts.acknowledge(alert.id, staff=people["zhao"], now=clock.now())
        acknowledged = len(receiver.received)
        time.sleep(1.0)  # two reminder intervals
        assert second.wait_idle(10)
    finally:
        second.stop()
        webhooks.close()
    assert [r["event"] for r in receiver.received[acknowledged:]] in ([], ["acknowledged"])
    trail = [e for e in state.audit.for_entity("alert", alert.id) if e.action in ("reminded", "escalated")]
    steps = [(e.action, e.details["level"], e.details.get("reminder")) for e in trail]
    member_reminders = [n for action, level, n in steps if action == "reminded" and level == 0]
    head_reminders = [n for action, level, n in steps if action == "reminded" and level == 1]
    # Each step counts its reminders from one, none twice, none skipped, across the restart.
    assert member_reminders == list(range(1, len(member_reminders) + 1)) and len(member_reminders) >= 2
    assert head_reminders == list(range(1, len(head_reminders) + 1))
    assert [s[0] for s in steps].count("escalated") == 1
    assert events(receiver, "wang").count("reminder") == len(member_reminders)
    # The audit trail keeps the order: the step's first call, then its reminders. Deliveries run
    # side by side, so on a busy machine a reminder (due half a second later here) can arrive first.
    assert [a for a, level, _ in steps if level == 1] == ["escalated", *["reminded"] * len(head_reminders)]
    assert sorted(events(receiver, "zhao")) == sorted(["escalated", *["reminder"] * len(head_reminders)])
    body = next(r for r in receiver.to("wang") if r["event"] == "reminder")
    assert body["ack_link"].startswith("http://shouwang.test/ack/")  # a reminder asks someone to go


def test_a_help_press_reaches_the_member_and_the_grid_head_within_seconds_and_reminds_every_minute(
        state: StateStore, receiver: WebhookReceiver, any_mqtt: MqttSettings) -> None:
    people = staff(state, receiver)
    state.registry.update_staff(people["zhao"].id, notify_mqtt=True)
    inbox: queue.Queue[Message] = queue.Queue()
    phone = MqttClient(any_mqtt, client_id=f"{any_mqtt.client_id_prefix}-head-phone",
                       subscriptions=[staff_topic(any_mqtt.topic_prefix, people["zhao"].id)], on_message=inbox.put)
    publisher = MqttClient(any_mqtt, client_id=f"{any_mqtt.client_id_prefix}-dispatch")
    phone.start()
    publisher.start()
    clock = FastClock(START, 30.0)  # a minute in two seconds
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks,
                                        Channel.MQTT: MqttSender(publisher, prefix=any_mqtt.topic_prefix)})
    service.start()
    try:
        pressed = time.monotonic()
        alert = open_alert(state, clock, AlertKind.HELP)
        service.wake()
        wait_for(lambda: receiver.to("wang") and receiver.to("zhao"), timeout_s=5,
                 what="the member and the grid head, at once")
        first_mqtt = json.loads(inbox.get(timeout=5).payload)
        reached_s = time.monotonic() - pressed
        wait_for(lambda: "reminder" in events(receiver, "zhao"), timeout_s=10, what="a reminder a minute later")
    finally:
        service.stop()
        webhooks.close()
        phone.stop()
        publisher.stop()
    assert reached_s < 3.0
    assert (first_mqtt["event"], first_mqtt["alert"]["kind"]) == ("opened", "help")
    assert events(receiver, "wang")[0] == events(receiver, "zhao")[0] == "opened"
    # The duty leader only after two unanswered minutes.
    escalated = [e.at for e in state.audit.for_entity("alert", alert.id) if e.action == "escalated"]
    assert all(at >= alert.opened_at + 120 for at in escalated)


def test_a_retry_reaches_nobody_retired_moved_away_or_after_the_alert_was_resolved(
        state: StateStore, receiver: WebhookReceiver) -> None:
    """Found by a channels tester: a member retired ("no more alerts") or moved to another grid
    while their notification was being retried still received it, names and address included, for
    up to a day; and a retry after the alert was resolved still said "urgent, please look"."""
    people = staff(state, receiver)
    state.registry.add_grid(Grid("g-b", "B"))
    people["qian"] = state.registry.add_staff(username="qian", name="qian", role=Role.GRID_MEMBER,
                                              grid_ids=["g-a"], notify_mqtt=False, now=START)
    dead = f"http://127.0.0.1:{free_port()}/nobody"  # nothing listens: every attempt fails
    for who in ("wang", "qian"):
        state.registry.update_staff(people[who].id, webhook_url=dead)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, retry_initial_s=1.0, retry_max_s=1.0)
    alert = open_alert(state, clock)
    theirs = (people["wang"].id, people["qian"].id)

    def their_deliveries() -> list[Delivery]:
        return [d for d in state.alerts.deliveries(alert.id) if d.staff_id in theirs]

    service.start()
    try:
        wait_for(lambda: len(found := their_deliveries()) == 2 and all(d.attempts >= 1 for d in found),
                 timeout_s=20, what="both notifications failed once")
        state.registry.retire_staff(people["wang"].id, now=clock.now())
        state.registry.update_staff(people["qian"].id, grid_ids=["g-b"])
        for who in ("wang", "qian"):  # their receivers are back: a retry would now get through
            state.registry.update_staff(people[who].id, webhook_url=receiver.url(who))
        wait_for(lambda: all(d.status is DeliveryStatus.FAILED for d in their_deliveries()),
                 timeout_s=20, what="both given up")
    finally:
        service.stop()
    assert receiver.to("wang") == [] and receiver.to("qian") == []
    errors = {d.staff_id: d.last_error for d in state.alerts.deliveries(alert.id)}
    assert errors[people["wang"].id] == "wang was retired; not told"
    assert errors[people["qian"].id] == "qian no longer looks after household hh-1; not told"

    # a second alert, resolved while its notification is being retried
    state.registry.update_staff(people["qian"].id, grid_ids=["g-a"], webhook_url=dead)
    later = open_alert(state, clock, AlertKind.NO_WATER)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, retry_initial_s=1.0, retry_max_s=1.0)
    service.start()
    try:
        wait_for(lambda: any(d.attempts >= 1 for d in state.alerts.deliveries(later.id)
                             if d.staff_id == people["qian"].id), timeout_s=20,
                 what="qian's notification failed once")
        state.alerts.resolve(later.id, staff=people["sun"], outcome=Outcome.ELDER_FINE, note=None, now=clock.now())
        state.registry.update_staff(people["qian"].id, webhook_url=receiver.url("qian"))
        wait_for(lambda: [d.status for d in state.alerts.deliveries(later.id)
                          if d.staff_id == people["qian"].id and d.event.value == "opened"]
                 == [DeliveryStatus.FAILED], timeout_s=20, what="the opened notification given up")
    finally:
        service.stop()
        webhooks.close()
    assert "opened" not in events(receiver, "qian")
    assert [d.last_error for d in state.alerts.deliveries(later.id) if d.staff_id == people["qian"].id
            and d.event.value == "opened"] == [f"alert {later.id} was resolved before this got through; not sent"]


def test_notifications_failing_for_a_while_are_a_health_problem_of_dispatch(
        state: StateStore, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a channels tester: /health said ok with 21 notifications being retried."""
    import dispatch.service

    monkeypatch.setattr(dispatch.service, "FAILING_AFTER_S", 1.0)
    monkeypatch.setattr(dispatch.service, "FAILING_CHECK_S", 0.0)
    people = staff(state, receiver)
    state.registry.update_staff(people["wang"].id, webhook_url=f"http://127.0.0.1:{free_port()}/nobody")
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, retry_initial_s=0.2, retry_max_s=0.2)
    open_alert(state, clock)
    service.start()
    try:
        wait_for(lambda: not service.health.ok, timeout_s=20, what="dispatch to report")
        [problem] = service.health.report()["problems"]
    finally:
        service.stop()
        webhooks.close()
    assert problem["problem"] == "deliveries_failing" and "shouwang dispatch failing" in problem["message"]


def test_a_rung_with_nobody_on_it_falls_through_without_asking_anyone_twice(
        state: StateStore, receiver: WebhookReceiver) -> None:
    """Found by a channels tester: a family step with nobody on it fell through to the duty
    leader, who was then told again at the next rung: two messages and two links an alert."""
    staff(state, receiver)
    ladders = {"green": {"steps": [{"who": ["grid_member"]}, {"after_min": 1, "who": ["family"]},
                                   {"after_min": 1, "who": ["duty_leader"]}]}}
    clock = FastClock(START, 120.0)  # a minute in half a second
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, ladders=ladders)
    alert = open_alert(state, clock)
    service.start()
    try:
        wait_for(lambda: state.alerts.get(alert.id).escalation_level == 2, what="the last rung")
        assert service.wait_idle(10)
        time.sleep(0.5)
        assert service.wait_idle(10)
    finally:
        service.stop()
        webhooks.close()
    for leader in ("sun", "zhou"):
        assert events(receiver, leader) == ["escalated"], leader


def test_a_notification_waiting_when_its_recipient_changes_channel_goes_on_the_new_one(
        state: StateStore, receiver: WebhookReceiver) -> None:
    """Found by a channels tester: a member whose webhook failed moved to another kind of channel
    while the notification waited; it was given up ("has no webhook url") and she never heard."""
    people = staff(state, receiver)
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    state.registry.update_staff(people["wang"].id, webhook_url=dead)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    inbox: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue()

    class Phone:  # an MQTT sender of our own: this test is about the delivery, not the broker
        def send(self, staff: Staff, body: dict[str, Any]) -> str:
            inbox.put((staff.id, body))
            return "ok"

    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks, Channel.MQTT: Phone()},
                         retry_initial_s=1.0, retry_max_s=1.0)
    alert = open_alert(state, clock)
    service.start()
    try:
        wait_for(lambda: any(d.attempts >= 1 for d in state.alerts.deliveries(alert.id)),
                 timeout_s=20, what="the webhook failed once")
        state.registry.update_staff(people["wang"].id, channels=[StaffChannel(Channel.MQTT, "")])
        staff_id, body = inbox.get(timeout=20)
    finally:
        service.stop()
        webhooks.close()
    assert (staff_id, body["event"], body["alert"]["id"]) == (people["wang"].id, "opened", alert.id)
    moved = [d for d in state.alerts.deliveries(alert.id) if d.channel is Channel.WEBHOOK]
    assert [d.last_error for d in moved] == ["wang is no longer reached by webhook; sent on mqtt instead"]


def test_a_family_member_on_the_ladder_answers_through_their_link_and_resolves_the_alert(
        state: StateStore, receiver: WebhookReceiver, tmp_path: Path) -> None:
    staff(state, receiver)
    daughter = state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", receiver.url("daughter"),
                                              "王小红", START, step=0), actor=ADMIN, now=START)
    alert, told, clock = first_told(state, receiver)
    assert "王小红您好" in told["text"] and told["answer_link"] in told["text"]
    with links_page(state, clock, tmp_path) as client:
        path = told["answer_link"].removeprefix("http://shouwang.test")
        shown = client.get(path)
        assert shown.status_code == 200 and "联系上了" in shown.text
        assert state.alerts.get(alert.id).state is AlertState.OPEN  # opening the link answers nothing
        staff_link = path.replace("/family/", "/ack/")
        assert client.post(staff_link, headers=FORM).status_code == 403  # a family link is no staff link
        assert client.post(f"{path}/fine", headers=FORM).status_code == 200
        assert client.post(f"{path}/fine", headers=FORM).status_code == 409  # once
    resolved = state.alerts.get(alert.id)
    assert (resolved.state, resolved.outcome.value if resolved.outcome else None) == (AlertState.RESOLVED,
                                                                                      "elder_fine")
    entry = next(e for e in state.audit.for_entity("alert", alert.id) if e.action == "resolved")
    assert entry.actor == "family: 王小红 (女儿)" and entry.details["family_contact_id"] == daughter.id
    assert [d.status.value for d in state.family.deliveries(alert.id)] == ["delivered"]


@pytest.mark.parametrize("change", ["sharing withdrawn", "contact removed"])
def test_a_retry_tells_no_relative_once_sharing_is_withdrawn_or_they_are_removed(
        state: StateStore, receiver: WebhookReceiver, change: str) -> None:
    """Found by a channels tester: consent and the contact were checked only when the message was
    queued; a retry after the elder withdrew sharing, or after the relative was removed, still
    delivered her name, address and what happened."""
    staff(state, receiver)
    family_app = WebhookReceiver(fail_first=1)  # down at first: the message waits for a retry
    daughter = state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", family_app.url("d"),
                                              "王小红", START, step=0), actor=ADMIN, now=START)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=10)  # on a loaded machine a late answer was a second attempt
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, retry_initial_s=3.0, retry_max_s=3.0)
    alert = open_alert(state, clock)
    service.start()
    try:
        wait_for(lambda: family_app.attempts >= 1, timeout_s=20, what="the first attempt, refused")
        if change == "sharing withdrawn":
            state.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=False,
                                         given_at=clock.now()), actor=ADMIN, now=clock.now())
        else:
            state.family.remove(daughter.id, actor=ADMIN, now=clock.now())
        [delivery] = wait_for(lambda: [d for d in state.family.deliveries(alert.id)
                                       if d.status is DeliveryStatus.FAILED], timeout_s=20,
                             what="the message given up")
    finally:
        service.stop()
        webhooks.close()
        family_app.close()
    assert family_app.to("d") == [] and family_app.attempts == 1
    assert "not told" in (delivery.last_error or "")


def test_a_family_app_that_refuses_or_asks_for_time_is_not_hammered(
        state: StateStore, receiver: WebhookReceiver) -> None:
    """Found by a regression tester: family webhooks answering 404, a redirect, or 503 with a
    Retry-After of an hour were POSTed to 7-8 times in 30 s, and would have been for a day."""
    staff(state, receiver)
    app = ServiceReceiver()
    app.script["/gone"] = [(404, {})]
    app.script["/busy"] = [(503, {}, {"Retry-After": "3600"})]
    for n, path in ((1, "gone"), (2, "busy")):
        if n == 2:
            state.registry.add_household(Household("hh-2", Tier.GREEN, "g-a"), now=START)
            state.consent.record(Consent("hh-2", "老人", "self", sensing=True, share_with_family=True,
                                         given_at=START), actor=ADMIN, now=START)
        state.family.add(FamilyContact(0, f"hh-{n}", f"亲属{n}", "儿子", "webhook", app.url(path), "亲属",
                                       START, step=0), actor=ADMIN, now=START)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=10)  # a loaded CI machine's answer late is a retry, and a second request
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, retry_initial_s=0.2, retry_max_s=0.2)
    alerts = [state.alerts.open(Finding(f"hh-{n}", AlertKind.INACTIVITY, Severity.URGENT, clock.now() - 3600,
                                        "quiet"), now=clock.now()) for n in (1, 2)]
    service.start()
    try:
        wait_for(lambda: {r[0] for r in app.requests} == {"/gone", "/busy"}, what="both tried once")
        time.sleep(2.0)  # ten retry intervals
    finally:
        service.stop()
        webhooks.close()
        app.close()
    assert sorted(r[0] for r in app.requests) == ["/busy", "/gone"], "each asked once"
    gone = state.family.deliveries(alerts[0].id)[0]  # type: ignore[union-attr]
    assert gone.status is DeliveryStatus.FAILED and "refused it: HTTP 404" in (gone.last_error or "")
    busy = state.family.deliveries(alerts[1].id)[0]  # type: ignore[union-attr]
    assert busy.status is DeliveryStatus.PENDING and busy.next_attempt_at >= START + 3500


def test_a_hanging_family_app_holds_back_no_other_familys_message(
        state: StateStore, receiver: WebhookReceiver) -> None:
    """Found by a channels tester: twenty relatives on one family app that never answered held
    another family's SMS back 50 seconds (two workers, no limit per receiver)."""
    staff(state, receiver)
    silent = Silent()
    for n in range(2, 12):  # ten more homes, each with a relative on the silent app
        state.registry.add_household(Household(f"hh-{n}", Tier.GREEN, "g-a"), now=START)
        state.consent.record(Consent(f"hh-{n}", "老人", "self", sensing=True, share_with_family=True,
                                     given_at=START), actor=ADMIN, now=START)
        state.family.add(FamilyContact(0, f"hh-{n}", f"亲属{n}", "儿子", "webhook",
                                       f"http://127.0.0.1:{silent.port}/app/{n}", "亲属", START, step=0),
                         actor=ADMIN, now=START)
    state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", receiver.url("daughter"),
                                   "王小红", START, step=0), actor=ADMIN, now=START)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks}, webhook_timeout_s=5.0)
    for n in range(2, 12):
        state.alerts.open(Finding(f"hh-{n}", AlertKind.INACTIVITY, Severity.URGENT, clock.now() - 3600,
                                  "quiet"), now=clock.now())
    service.start()
    try:
        time.sleep(0.5)  # the silent app's messages are on their way first
        open_alert(state, clock)
        began = time.monotonic()
        wait_for(lambda: receiver.to("daughter"), timeout_s=30, what="the daughter's message")
        waited_s = time.monotonic() - began
    finally:
        service.stop()
        webhooks.close()
        silent.close()
    assert waited_s < 8.0, f"the daughter waited {waited_s:.1f} s behind the silent app"  # 25 s before


def test_a_relatives_link_stops_working_once_the_elder_withdraws_sharing_or_is_no_longer_watched(
        state: StateStore, receiver: WebhookReceiver, tmp_path: Path) -> None:
    """Found by a privacy tester: after the elder said "share with family: no", dispatch told the
    family nothing more, but a link sent before still showed her name, address and the alert's
    explanation, and closed the alert as "elder fine", ending the escalation."""
    staff(state, receiver)
    state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", receiver.url("daughter"),
                                   "王小红", START, step=0), actor=ADMIN, now=START)
    alert, told, clock = first_told(state, receiver)
    path = told["answer_link"].removeprefix("http://shouwang.test")
    with links_page(state, clock, tmp_path) as client:
        assert client.get(path).status_code == 200
        state.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=False,
                                     given_at=START + 60), actor=ADMIN, now=START + 60)
        shown = client.get(path)
        assert shown.status_code == 403 and "老人已不同意把提醒告诉家人" in shown.text
        assert "王秀英" not in shown.text and alert.explanations["zh"] not in shown.text
        assert client.post(f"{path}/fine", headers=FORM).status_code == 403
        assert state.alerts.get(alert.id).state is AlertState.OPEN
        state.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=True,
                                     given_at=START + 120), actor=ADMIN, now=START + 120)
        assert client.get(path).status_code == 200, "agreed again: the link works again"
        state.alerts.clear("hh-1", alert.kind, reason="life resumed", now=START + 170)
        state.registry.retire_household("hh-1", now=START + 180)  # (refused while the alert was open)
        retired = client.get(path)
        assert retired.status_code == 403 and "不再由社区守望" in retired.text


def test_a_relative_reached_by_sms_is_texted_through_the_gateway_and_answers_through_their_link(
        state: StateStore, receiver: WebhookReceiver, tmp_path: Path) -> None:
    staff(state, receiver)
    son = state.family.add(FamilyContact(0, "hh-1", "王小明", "儿子", "sms", "138-0013-8000", "王小明", START,
                                         step=0), actor=ADMIN, now=START)
    assert (son.channel, son.address) == ("sms", "13800138000")
    alert, texted, clock = first_told(state, receiver, "sms", sms_gateway_url=receiver.url("sms"),
                                      sms_template={"mobile": "{phone}", "content": "{text}", "sign": "守望"})
    assert (texted["mobile"], texted["sign"]) == ("13800138000", "守望")
    words, link = texted["content"].split("\n")
    assert words.startswith("【守望】王小明您好：hh-1家里很久没有动静，已1小时")
    assert len(words) <= 160 and link.startswith("http://shouwang.test/family/")
    headers, body = next(raw for raw in receiver.raw if json.loads(raw[1]).get("mobile"))
    assert verify(SECRET, headers["X-Shouwang-Timestamp"], body, headers["X-Shouwang-Signature"],
                  now=time.time())
    with links_page(state, clock, tmp_path) as client:
        assert client.post(f"{link.removeprefix('http://shouwang.test')}/fine", headers=FORM).status_code == 200
    assert state.alerts.get(alert.id).state is AlertState.RESOLVED
    entry = next(e for e in state.audit.for_entity("alert", alert.id) if e.action == "resolved")
    assert entry.actor == "family: 王小明 (儿子)"
    assert [d.status.value for d in state.family.deliveries(alert.id)] == ["delivered"]


def test_a_relative_texted_without_a_gateway_is_given_up_at_once_and_says_what_to_set(
        state: StateStore, receiver: WebhookReceiver) -> None:
    staff(state, receiver)
    state.family.add(FamilyContact(0, "hh-1", "王小明", "儿子", "sms", "+8613800138000", "王小明", START, step=0),
                     actor=ADMIN, now=START)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks})
    alert = open_alert(state, clock)
    service.start()
    try:
        (failed,) = wait_for(lambda: [d for d in state.family.deliveries(alert.id) if d.status.value == "failed"],
                             what="the text to be given up")
        wait_for(lambda: receiver.to("wang"), what="the staff to be told all the same")
    finally:
        service.stop()
        webhooks.close()
    assert failed.attempts == 1 and "dispatch.sms_gateway_url" in (failed.last_error or "")


def test_a_relative_is_not_told_when_the_elder_did_not_agree_to_share_with_family(
        state: StateStore, receiver: WebhookReceiver) -> None:
    """Found by a tester: the consent's share_with_family was recorded and shown, and never asked."""
    staff(state, receiver)
    state.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=False, given_at=START),
                         actor=ADMIN, now=START + 1)
    state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", receiver.url("daughter"), "王小红", START,
                                   step=0), actor=ADMIN, now=START)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks})
    alert = open_alert(state, clock)
    service.start()
    try:
        wait_for(lambda: receiver.to("wang"), what="the staff to be told")
        time.sleep(0.5)
    finally:
        service.stop()
        webhooks.close()
    assert receiver.to("daughter") == [] and state.family.deliveries(alert.id) == []


def test_a_round_that_read_the_store_before_an_attempt_was_recorded_does_not_send_it_again(
        state: StateStore, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by CI: a family app answering 503 with an hour's Retry-After was asked again at once:
    the next round had read the delivery as due just before the attempt was recorded, and found
    it no longer in flight."""
    from dispatch.channels import DeliveryFailed
    from dispatch.family import FamilyNotifier
    from shouwang.storage.database import writing

    staff(state, receiver)
    contact = state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", "https://family.example.org/d",
                                             "王小红", START, step=0), actor=ADMIN, now=START)
    clock = FastClock(START, 1.0)
    alert = open_alert(state, clock)
    with writing(state.engine) as db:
        state.family.queue(db, alert.id, [contact], START)
    stale = state.family.due(START + 1)  # what a round read a moment before the attempt was recorded
    posts: list[str] = []

    class Busy:  # the family app: busy, come back in an hour
        def post(self, channel: str, address: str, body: dict[str, Any]) -> None:
            posts.append(address)
            failed = DeliveryFailed("HTTP 503")
            failed.retry_after_s = 3600.0
            raise failed

    notifier = FamilyNotifier(settings=DispatchSettings(), state=state, clock=clock, poster=Busy(),
                              api_url=None, link_secret=None)
    try:
        notifier.submit(START + 1)
        wait_for(lambda: posts and notifier.idle(), what="the first attempt recorded")
        monkeypatch.setattr(state.family, "due", lambda now, **_: stale)
        notifier.submit(START + 2)
        wait_for(notifier.idle, what="the round done")
    finally:
        notifier.close()
    assert posts == ["https://family.example.org/d"], "asked again at once"
    [delivery] = state.family.deliveries(alert.id)
    assert delivery.next_attempt_at >= START + 3500
