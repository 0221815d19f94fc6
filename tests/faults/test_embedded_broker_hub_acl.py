"""The embedded broker with a password file let a hub publish under another hub's id.

DESIGN.md: "A hub may publish only under its own hub_id (broker ACL in production, and checked by
the gateway)". The README says the embedded broker needs `SHOUWANG_MQTT__EMBEDDED_PASSWORD_FILE`
when it listens on another interface (real hubs on the LAN). Found by fault injection: with that
file, hub h-1 logs in with its own password and publishes on h-2's topic; the broker accepts it
and the gateway stored it as h-2's reading (the gateway cannot tell who published). Mosquitto with
`shouwang hubs provision`'s ACL refuses the same (tests/faults/test_broker_refusals.py); the
embedded broker now keeps the same rights (`shouwang.broker.TopicRights`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from gateway.service import Gateway
from shouwang.broker import EmbeddedBroker, free_port
from shouwang.clock import SystemClock
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.broker]


@pytest.fixture
def system(tmp_path: Path) -> Iterator[tuple[int, SqliteReadingStore]]:
    hasher = PasswordHasher()
    passwords = tmp_path / "amqtt.passwd"
    passwords.write_text("".join(f"{user}:{hasher.hash(user + '-secret')}\n"
                                 for user in ("h-1", "h-2", "shouwang-gateway")))
    broker = EmbeddedBroker("127.0.0.1", free_port(), password_file=passwords,
                            services={"shouwang-gateway": "gateway"})
    broker.start()
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    readings = SqliteReadingStore(tmp_path / "readings.db")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    for n in (1, 2):
        state.registry.add_household(Household(f"hh-{n}", Tier.RED, "g-1"), now=now)
        state.registry.add_hub(Hub(f"h-{n}", f"hh-{n}"), now=now)
        state.consent.record(Consent(f"hh-{n}", "老人", "self", sensing=True, share_with_family=False,
                                     given_at=now), actor=Actor("test"), now=now)
    mqtt = MqttSettings.model_validate({"embedded_port": broker.port,
                                        "gateway": {"username": "shouwang-gateway",
                                                    "password": "shouwang-gateway-secret"}})
    gateway = Gateway(mqtt=mqtt, settings=GatewaySettings(flush_interval_s=0.05), readings=readings,
                      state=state, clock=SystemClock(), metrics=Metrics())
    gateway.start()
    yield broker.port, readings
    gateway.stop()
    readings.close()
    state.close()
    broker.stop()


def test_a_hub_cannot_publish_under_another_hubs_id_only_its_own(system: tuple[int, SqliteReadingStore]) -> None:
    port, readings = system
    hub = MqttClient(MqttSettings.model_validate({"embedded_port": port, "simulator": {
        "username": "h-1", "password": "h-1-secret"}}), client_id="h-1", role="simulator")
    hub.start()
    try:
        for hub_id in ("h-2", "h-1"):  # in order: once its own is stored, the forged one was judged
            hub.publish(f"shouwang/v1/hubs/{hub_id}/water", json.dumps({"ts": time.time(), "value": 1.0}))
        hub.drain()
        wait_for(lambda: readings.query(household_id="hh-1", start=time.time() - 60, end=time.time() + 1),
                 what="h-1's own reading stored")
    finally:
        hub.stop()
    forged = readings.query(household_id="hh-2", start=time.time() - 60, end=time.time() + 1)
    assert not forged, f"hub h-1 wrote hh-2's reading: {forged}"


@pytest.mark.parametrize(("topic", "topic_filter", "within"), [
    ("shouwang/v1/hubs/h-1/water", "shouwang/v1/hubs/h-1/#", True),
    ("shouwang/v1/hubs/h-10/water", "shouwang/v1/hubs/h-1/#", False),
    ("shouwang/v1/hubs/h-1", "shouwang/v1/hubs/h-1/#", True),
    ("shouwang/v1/staff/7/alerts", "shouwang/v1/staff/+/alerts", True),
    ("shouwang/v1/staff/7/alerts/x", "shouwang/v1/staff/+/alerts", False),
    ("shouwang/v1/staff/7", "shouwang/v1/staff/+/alerts", False),
    ("shouwang/v1/hubs/#", "shouwang/v1/hubs/#", True),
    ("shouwang/v1/#", "shouwang/v1/hubs/#", False),
])
def test_a_topic_is_within_a_filter_level_by_level(topic: str, topic_filter: str, within: bool) -> None:
    from shouwang.broker import matches

    assert matches(topic, topic_filter) is within


def test_the_embedded_broker_takes_the_password_file_provision_writes(tmp_path: Path) -> None:
    """Found by a regression tester: the file `shouwang hubs provision` writes (Mosquitto's `$7$`
    hashes) was refused by the embedded broker, a traceback at every connection, and no command
    wrote one it accepts. Both formats are read now."""
    from cli import mosquitto
    from shouwang.mqtt import BrokerUnavailable

    passwords = tmp_path / "shouwang.passwd"
    passwords.write_text(f"h-1:{mosquitto.password_hash('hub-one-password')}\n"
                         f"h-2:{PasswordHasher().hash('hub-two-password')}\n")
    broker = EmbeddedBroker("127.0.0.1", free_port(), password_file=passwords)
    broker.start()
    try:
        for hub, password in (("h-1", "hub-one-password"), ("h-2", "hub-two-password")):
            client = MqttClient(MqttSettings(url=f"mqtt://{hub}:{password}@127.0.0.1:{broker.port}"),
                                client_id=f"hub-{hub}")
            client.start(timeout_s=5)
            client.stop()
        wrong = MqttClient(MqttSettings(url=f"mqtt://h-1:not-it@127.0.0.1:{broker.port}"), client_id="hub-x")
        with pytest.raises(BrokerUnavailable):
            wrong.start(timeout_s=3)
    finally:
        broker.stop()
