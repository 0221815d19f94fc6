"""Found by a regression tester: the embedded broker (amqtt 0.12) delivered what it queued for a
persistent session while the client was away with the retain flag set, so once "a bridge's
retained state is no reading", every bridged reading published while the gateway restarted, an
elder's help press included, was thrown away (the embedded broker with a password file: the
README's setup for hubs on the LAN). The embedded broker now sends queued messages unretained, as
MQTT 3.1.1 asks and as Mosquitto does."""

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
from shouwang.domain.devices import DeviceMap
from shouwang.domain.model import Grid, Household, Hub, SensorKind, Tier
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
def system(tmp_path: Path) -> Iterator[tuple[EmbeddedBroker, StateStore, SqliteReadingStore, MqttSettings]]:
    hasher = PasswordHasher()
    passwords = tmp_path / "amqtt.passwd"
    passwords.write_text("".join(f"{user}:{hasher.hash(user + '-secret')}\n"
                                 for user in ("h-1", "shouwang-gateway")))
    broker = EmbeddedBroker("127.0.0.1", free_port(), password_file=passwords,
                            services={"shouwang-gateway": "gateway"})
    broker.start()
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    readings = SqliteReadingStore(tmp_path / "readings.db")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_household(Household("hh-1", Tier.RED, "g-1"), now=now)
    state.registry.add_hub(Hub("h-1", "hh-1"), now=now)
    state.consent.record(Consent("hh-1", "老人", "self", sensing=True, share_with_family=False,
                                 given_at=now), actor=Actor("test"), now=now)
    state.devices.add("h-1", DeviceMap("help", SensorKind.BUTTON), actor=Actor("installer"), now=now)
    mqtt = MqttSettings.model_validate({"embedded_port": broker.port,
                                        "gateway": {"username": "shouwang-gateway",
                                                    "password": "shouwang-gateway-secret"}})
    yield broker, state, readings, mqtt
    readings.close()
    state.close()
    broker.stop()


def gateway(mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore) -> Gateway:
    return Gateway(mqtt=mqtt, settings=GatewaySettings(flush_interval_s=0.05), readings=readings,
                   state=state, clock=SystemClock(), metrics=Metrics(), client_id="gw-fixed")


def test_a_help_press_published_while_the_gateway_restarts_is_stored(system) -> None:  # type: ignore[no-untyped-def]
    broker, state, readings, mqtt = system
    gw = gateway(mqtt, state, readings)
    gw.start()  # the gateway's persistent session exists on the broker
    gw.stop()   # an upgrade: the gateway is away for a moment
    hub = MqttClient(MqttSettings.model_validate({"embedded_port": broker.port, "simulator": {
        "username": "h-1", "password": "h-1-secret"}}), client_id="h-1", role="simulator")
    hub.start()
    try:
        # the elder presses (Zigbee2MQTT, not retained) and the hub's v1 water reading, both QoS 1
        hub.publish("shouwang/v1/hubs/h-1/z2m/help", json.dumps({"action": "single"}), qos=1)
        hub.publish("shouwang/v1/hubs/h-1/water", json.dumps({"ts": time.time(), "value": 1.0}), qos=1)
        hub.drain()
    finally:
        hub.stop()
    gw = gateway(mqtt, state, readings)
    gw.start()
    try:
        stored = wait_for(lambda: readings.query(household_id="hh-1", start=time.time() - 60,
                                                 end=time.time() + 1), what="the queued readings")
        time.sleep(1.0)
        stored = readings.query(household_id="hh-1", start=time.time() - 60, end=time.time() + 1)
    finally:
        gw.stop()
    sensors = sorted(r.sensor for r in stored)
    # Observed: ['water'] -- the press came back from amqtt's session queue with retain=1 and
    # gateway/service.py `_bridged` dropped it as "a bridge's retained state".
    assert "button" in sensors, f"stored after the restart: {sensors}"
