"""Dispatch delivering over real HTTP and MQTT, retrying, and resuming after a restart."""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from dispatch.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, MqttSender, Sender, WebhookSender, verify
from dispatch.service import Dispatcher
from shouwang.clock import FastClock
from shouwang.contract.topics import staff_topic
from shouwang.domain.alerts import AlertKind, AlertState, Finding, Severity
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Grid, Household, Role, Staff, Tier
from shouwang.health import Health
from shouwang.metrics import Metrics
from shouwang.mqtt import Message, MqttClient
from shouwang.settings import DispatchSettings, MqttSettings
from shouwang.storage.state import StateStore
from tests.support import WebhookReceiver, wait_for

pytestmark = pytest.mark.broker
START = 1_750_000_000.0


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(fail_first=2)
    yield server
    server.close()


@pytest.fixture
def state(tmp_path: Path, receiver: WebhookReceiver) -> Iterator[StateStore]:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    store.registry.add_grid(Grid("g-a", "A"))
    for username, role in (("member", Role.GRID_MEMBER), ("head", Role.GRID_HEAD),
                           ("leader", Role.DUTY_LEADER)):
        store.registry.add_staff(username=username, name=username, role=role, grid_ids=["g-a"]
                                 if role is not Role.DUTY_LEADER else [],
                                 webhook_url=receiver.url(username), notify_mqtt=False, now=START)
    store.registry.add_household(Household("hh-1", Tier.RED, "g-a"), now=START)
    yield store
    store.close()


def dispatcher(state: StateStore, clock: FastClock, senders: dict[Channel, Sender]) -> Dispatcher:
    settings = DispatchSettings(poll_s=0.05, retry_initial_s=0.05, retry_max_s=0.2,
                                ladders_min={"red": [5, 15]})
    return Dispatcher(settings=settings, state=state, clock=clock, metrics=Metrics(), senders=senders)


def test_webhook_delivery_is_retried_until_it_gets_through(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2, secret="community-secret")
    service = dispatcher(state, clock, {Channel.WEBHOOK: webhooks})
    alert = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, START - 7200,
                                      "quiet since 07:40"), now=clock.now())
    assert alert is not None
    service.start()
    try:
        got = wait_for(lambda: receiver.to("member"), what="the grid member's webhook")
    finally:
        service.stop()
        webhooks.close()
    assert receiver.attempts == 3  # two refusals, then delivered
    body = got[0]
    assert (body["event"], body["alert"]["id"], body["household"]["colour"]) == ("opened", alert.id, "red")
    assert body["alert"]["explanation"] == "quiet since 07:40"
    delivery = state.alerts.deliveries(alert.id)[0]
    assert (delivery.attempts, delivery.status.value) == (3, "delivered")
    # Signed, so the receiver can tell it from a forgery; a changed body or secret fails.
    headers, raw = receiver.raw[0]
    stamp, signature = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
    assert verify("community-secret", stamp, raw, signature, now=time.time())
    assert not verify("another-secret", stamp, raw, signature, now=time.time())
    assert not verify("community-secret", stamp, raw.replace(b"07:40", b"07:41"), signature,
                      now=time.time())
    assert not verify("community-secret", stamp, raw, signature, now=time.time() + 3600)


def test_a_restarted_dispatcher_resumes_escalation_from_stored_state(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    receiver.fail_first = 0
    clock = FastClock(START, 600.0)  # 5 minutes of ladder pass in half a second
    alert = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, START,
                                      "quiet"), now=clock.now())
    assert alert is not None
    webhooks = WebhookSender(timeout_s=2)
    first = dispatcher(state, clock, {Channel.WEBHOOK: webhooks})
    first.run_once()  # routed to the grid member, then "crashes"
    assert first.wait_idle(10)
    assert state.alerts.get(alert.id).next_escalation_at == pytest.approx(alert.opened_at + 300)
    wait_for(lambda: clock.now() > alert.opened_at + 20 * 60, what="the ladder's time to pass")
    second = dispatcher(state, clock, {Channel.WEBHOOK: webhooks})
    second.start()
    try:
        wait_for(lambda: receiver.to("leader"), what="the duty leader to be reached")
    finally:
        second.stop()
        webhooks.close()
    assert [r["event"] for r in receiver.to("head")] == ["escalated"]
    escalated = state.alerts.get(alert.id)
    assert (escalated.state, escalated.escalation_level) == (AlertState.OPEN, 2)
    actions = [e.action for e in state.audit.for_entity("alert", alert.id)]
    assert actions.count("escalated") == 2


def test_alerts_reach_a_staff_member_on_their_mqtt_topic(
    any_mqtt: MqttSettings, tmp_path: Path,
) -> None:
    state = StateStore.open(f"sqlite:///{tmp_path / 's.db'}")
    state.registry.add_grid(Grid("g-a", "A"))
    member: Staff = state.registry.add_staff(username="m", name="m", role=Role.GRID_MEMBER,
                                             grid_ids=["g-a"], now=START)
    state.registry.add_household(Household("hh-1", Tier.BLUE, "g-a"), now=START)
    inbox: queue.Queue[Message] = queue.Queue()
    phone = MqttClient(any_mqtt, client_id=f"{any_mqtt.client_id_prefix}-phone",
                       subscriptions=[staff_topic(any_mqtt.topic_prefix, member.id)],
                       on_message=inbox.put)
    publisher = MqttClient(any_mqtt, client_id=f"{any_mqtt.client_id_prefix}-dispatch")
    phone.start()
    publisher.start()
    clock = FastClock(START, 1.0)
    service = dispatcher(state, clock, {Channel.MQTT: MqttSender(publisher,
                                                                 prefix=any_mqtt.topic_prefix)})
    try:
        alert = state.alerts.open(Finding("hh-1", AlertKind.WATER_RUNNING, Severity.URGENT, START,
                                          "water running"), now=clock.now())
        assert alert is not None
        service.run_once()
        message = inbox.get(timeout=10)
        assert service.wait_idle(10)
    finally:
        service.stop()
        phone.stop()
        publisher.stop()
        state.close()
    body = json.loads(message.payload)
    assert (body["alert"]["kind"], body["to"]["staff_id"]) == ("water_running", member.id)


def test_notifications_held_for_a_busy_receiver_go_as_its_slot_frees_not_at_the_next_round(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    receiver.fail_first = 0
    for i in range(2, 7):
        state.registry.add_household(Household(f"hh-{i}", Tier.BLUE, "g-a"), now=START)
    clock = FastClock(START, 1.0)
    webhooks = WebhookSender(timeout_s=2)
    settings = DispatchSettings(poll_s=3600, in_flight_per_receiver=1)  # one at a time, no second round
    service = Dispatcher(settings=settings, state=state, clock=clock, metrics=Metrics(),
                         senders={Channel.WEBHOOK: webhooks})
    try:
        for i in range(1, 7):
            state.alerts.open(Finding(f"hh-{i}", AlertKind.INACTIVITY, Severity.URGENT, START, "quiet"),
                              now=clock.now())
        service.run_once()
        wait_for(lambda: len(receiver.to("member")) == 6, timeout_s=10, what="all six, one after another")
    finally:
        service.stop()
        webhooks.close()


def test_rounds_that_fail_are_a_health_problem_until_one_works(
    state: StateStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by an attacker: with the state store away, every round failed for a minute while
    dispatch's /health said ok."""
    health = Health("dispatch")
    service = Dispatcher(settings=DispatchSettings(poll_s=0.05), state=state, clock=FastClock(START, 1.0),
                         metrics=Metrics(), senders={}, health=health)
    real = state.alerts.due_for_escalation

    def away(now: float) -> list[object]:
        raise OperationalError("SELECT alerts", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(state.alerts, "due_for_escalation", away)
    for name in ("dispatch.service", "shouwang.health"):  # the errors this test causes are its point
        monkeypatch.setattr(logging.getLogger(name), "disabled", True)
    service.start()
    try:
        wait_for(lambda: not health.ok, what="a health problem")
        assert "alerts cannot be routed, escalated or sent" in json.dumps(health.report(), ensure_ascii=False)
        monkeypatch.setattr(state.alerts, "due_for_escalation", real)
        wait_for(lambda: health.ok, what="health to recover once a round works")
    finally:
        service.stop()
