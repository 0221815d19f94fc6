"""Poison beside good readings, through a Mosquitto of our own with deploy/'s queue settings.

Any client on the broker can send these. Each must cost only itself: the good readings of other
homes in the same batch are stored, the poison is dead-lettered with its reason, and a flood of
it leaves the dead-letter table within its cap.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from gateway.service import Gateway
from shouwang.broker import MAX_PACKET_BYTES
from shouwang.clock import SystemClock
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.faults.conftest import private_mosquitto
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.broker]
GOOD_HUBS = ("h-1", "h-2", "h-3")
POISON_HUB = "h-bad"  # registered and consenting: a hub that was tampered with, or a forged client


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A private Mosquitto on a free port with deploy/mosquitto.conf's queue and persistence."""
    with private_mosquitto(tmp_path_factory.mktemp("mosquitto")) as port:
        yield port


@pytest.fixture
def mqtt(mosquitto: int) -> MqttSettings:
    return MqttSettings(url=f"mqtt://127.0.0.1:{mosquitto}", topic_prefix=f"t{uuid.uuid4().hex[:8]}/v1",
                        client_id_prefix=f"test-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def stores(tmp_path: Path, any_state_url: str) -> Iterator[tuple[StateStore, SqliteReadingStore]]:
    state = StateStore.open(any_state_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    for hub_id in (*GOOD_HUBS, POISON_HUB):
        household = f"hh-{hub_id}"
        state.registry.add_household(Household(household, Tier.RED, "g-1"), now=now)
        state.registry.add_hub(Hub(hub_id, household), now=now)
        state.consent.record(Consent(household, "王秀英", "self", sensing=True, share_with_family=False,
                                     given_at=now), actor=Actor("test"), now=now)
    yield state, readings
    readings.close()
    state.close()


def start_gateway(mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore],
                  **settings: float) -> Gateway:
    state, readings = stores
    # A long flush interval puts the poison and the good readings in the same batch.
    gateway = Gateway(mqtt=mqtt, settings=GatewaySettings(**{"flush_interval_s": 1.0, **settings}),
                      readings=readings, state=state, clock=SystemClock(), metrics=Metrics())
    gateway.start()
    return gateway


@pytest.fixture
def publisher(mqtt: MqttSettings) -> Iterator[MqttClient]:
    client = MqttClient(mqtt, client_id=f"{mqtt.client_id_prefix}-anyone")
    client.start()
    yield client
    client.stop()


def poison(now: float) -> list[tuple[str, bytes, str]]:
    """(topic under the hub prefix, payload, the dead letter's category) for each class of poison."""
    def reading(**fields: object) -> bytes:
        return json.dumps({"ts": now, "value": 1.0, **fields}).encode()

    water = f"{POISON_HUB}/water"
    return [
        (water, b'{"ts": %d, "value": %s}' % (now, b"9" * 400), "bad_value"),
        (water, b'{"ts": %s, "value": 1}' % (b"9" * 400), "bad_timestamp"),
        (water, b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (water, b"[" * 200_000 + b"]" * 200_000, "too_large"),
        (water, reading(seq=2**63), "bad_value"),
        (water, reading(value=1e308), "implausible"),
        (water, b'{"ts": "\\ud800", "value": 1}', "bad_timestamp"),
        (water, b"\x00garbage", "malformed"),
        (water, b"[]", "malformed"),
        (f"{POISON_HUB}/status", b'{"state": ["online"]}', "bad_value"),
        ("h" * 100 + "/water", reading(), "bad_topic"),
        (POISON_HUB, reading(), "bad_topic"),
        (f"{POISON_HUB}/water/extra", reading(), "bad_topic"),
        (f"{POISON_HUB}/" + "x" * 60_000, reading(), "bad_topic"),
    ]


def test_each_poison_costs_only_itself_and_the_good_readings_beside_it_are_stored(
    mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore], publisher: MqttClient,
) -> None:
    state, readings = stores
    gateway = start_gateway(mqtt, stores)
    try:
        now = time.time()
        hubs = f"{mqtt.topic_prefix}/hubs"
        publisher.publish(f"{hubs}/{POISON_HUB}/water", json.dumps({"ts": now - 600, "value": 10.0}))
        expected: dict[str, int] = {"conflict": 1}
        for i, (topic, payload, category) in enumerate(poison(now)):
            for hub_id in GOOD_HUBS:  # good readings of other homes around every poison
                publisher.publish(f"{hubs}/{hub_id}/water", json.dumps({"ts": now - 500 + i, "value": 1 + i / 1000}))
            publisher.publish(f"{hubs}/{topic}", payload)
            expected[category] = expected.get(category, 0) + 1
        # The same time with another value, and one normal reading after the 1e308 outlier.
        publisher.publish(f"{hubs}/{POISON_HUB}/water", json.dumps({"ts": now - 600, "value": 10.5}))
        publisher.publish(f"{hubs}/{POISON_HUB}/water", json.dumps({"ts": now - 60, "value": 10.1}))
        assert publisher.drain()
        n_good = len(GOOD_HUBS) * len(poison(now)) + 2
        wait_for(lambda: readings.count() == n_good, what=f"all {n_good} good readings stored")
        wait_for(lambda: state.dead_letters.count() == sum(expected.values()), what="every poison dead-lettered")
    finally:
        gateway.stop()
    assert state.dead_letters.count_by_category() == expected
    assert readings.count() == n_good
    after_outlier = readings.query(household_id=f"hh-{POISON_HUB}", start=now - 3600, end=now + 1)
    assert [r.value for r in after_outlier] == [10.0, 10.1]  # the outlier did not lock the meter


def test_a_dead_letter_flood_stays_within_its_cap_and_good_readings_still_arrive(
    mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore], publisher: MqttClient,
) -> None:
    state, readings = stores
    gateway = start_gateway(mqtt, stores, flush_interval_s=0.25, dead_letters_per_hub=1000,
                            dead_letters_total=3000)
    try:
        now = time.time()
        hubs = f"{mqtt.topic_prefix}/hubs"
        bad = json.dumps([{"ts": now, "value": "lots"}] * 1000)
        for i in range(200):
            hub_id = POISON_HUB if i % 50 else f"forged-{i}"  # a few made-up hubs too
            publisher.publish(f"{hubs}/{hub_id}/water", bad)
            if i % 20 == 0:
                publisher.publish(f"{hubs}/h-1/water", json.dumps({"ts": now - 300 + i, "value": 1 + i / 1000}))
        assert publisher.drain()
        wait_for(lambda: readings.count() == 10, what="the good readings amid the flood")
        every_letter = 196 * 1000 + 4  # the made-up hubs are unknown: one letter per message
        wait_for(lambda: state.dead_letters.count() + sum(state.dead_letters.drops().values()) == every_letter,
                 timeout_s=120, what="the whole flood to be dead-lettered or counted as dropped")
    finally:
        gateway.stop()
    assert state.dead_letters.count() <= 3000
    per_hub = {d.hub_id for d in state.dead_letters.recent(5000)}
    assert POISON_HUB in per_hub
    drops = state.dead_letters.drops()
    assert drops[POISON_HUB] >= 195_000


def test_the_embedded_broker_too_delivers_topics_with_a_level_missing_or_extra(
    embedded_mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore],
) -> None:
    state, readings = stores
    gateway = start_gateway(embedded_mqtt, stores, flush_interval_s=0.05)
    client = MqttClient(embedded_mqtt, client_id=f"{embedded_mqtt.client_id_prefix}-anyone")
    client.start()
    try:
        hubs, reading = f"{embedded_mqtt.topic_prefix}/hubs", json.dumps({"ts": time.time(), "value": 1.0})
        for topic in ("h-1", "h-1/water/extra", "h-1/water"):
            client.publish(f"{hubs}/{topic}", reading)
        assert client.drain()
        wait_for(lambda: readings.count() == 1 and state.dead_letters.count() == 2, what="one reading, two letters")
    finally:
        client.stop()
        gateway.stop()
    assert state.dead_letters.count_by_category() == {"bad_topic": 2}


def test_the_embedded_broker_disconnects_a_sender_of_a_packet_over_its_limit_before_reading_it(
    embedded_mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore],
) -> None:
    """Found by an attacker: amqtt held a packet of any size whole (a 200 MB publish grew the
    process by as much), where the shipped Mosquitto disconnects past 1 MiB. Under the limit, an
    oversized reading still reaches the gateway, which dead-letters it with its reason."""
    state, readings = stores
    gateway = start_gateway(embedded_mqtt, stores, flush_interval_s=0.05)
    hubs = f"{embedded_mqtt.topic_prefix}/hubs"
    gone = threading.Event()
    big = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"{embedded_mqtt.client_id_prefix}-big")
    big.on_disconnect = lambda *_: gone.set()
    big.connect("127.0.0.1", embedded_mqtt.embedded_port)
    big.loop_start()
    client = MqttClient(embedded_mqtt, client_id=f"{embedded_mqtt.client_id_prefix}-anyone")
    client.start()
    try:
        big.publish(f"{hubs}/{POISON_HUB}/water", b"x" * (MAX_PACKET_BYTES + 1), qos=1)
        assert gone.wait(10), "the sender of an oversized packet was not disconnected"
        client.publish(f"{hubs}/{POISON_HUB}/water", b"[" + b" " * 500_000 + b"]")  # over the gateway's
        client.publish(f"{hubs}/h-1/water", json.dumps({"ts": time.time(), "value": 1.0}))
        assert client.drain()
        wait_for(lambda: readings.count() == 1 and state.dead_letters.count() == 1,
                 what="the good reading stored and the half-megabyte one dead-lettered")
    finally:
        big.loop_stop()
        big.disconnect()
        client.stop()
        gateway.stop()
    assert state.dead_letters.count_by_category() == {"too_large": 1}
