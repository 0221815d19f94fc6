"""The gateway acknowledges only what it committed, and a reading delivered again changes nothing."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from gateway.service import Gateway
from shouwang.clock import SystemClock
from shouwang.domain.model import Grid, Household, Hub, StoredReading, Tier
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.ports import ReadingStoreUnavailable
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.support import wait_for

pytestmark = pytest.mark.broker


class HeldStore:
    """A reading store whose writes wait until released: a gateway caught mid-commit."""

    def __init__(self, inner: SqliteReadingStore) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.writing = threading.Event()

    def write(self, readings: Sequence[StoredReading]) -> int:
        self.writing.set()
        self.release.wait(30)
        return self.inner.write(readings)

    def query(self, *, household_id: str, start: float, end: float,
              sensor: str | None = None) -> list[StoredReading]:
        return self.inner.query(household_id=household_id, start=start, end=end, sensor=sensor)

    def latest(self, keys: Sequence[tuple[str, str, str]], *, since: float, limit: int,
               before: float | None = None) -> dict[tuple[str, str, str], list[StoredReading]]:
        return self.inner.latest(keys, since=since, limit=limit, before=before)

    def close(self) -> None:
        self.release.set()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    now = time.time()
    store.registry.add_grid(Grid("g-1", "一网格"))
    store.registry.add_household(Household("hh-1", Tier.RED, "g-1"), now=now)
    store.registry.add_hub(Hub("h-1", "hh-1"), now=now)
    store.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=False,
                                 given_at=now), actor=Actor("test"), now=now)
    yield store
    store.close()


@pytest.fixture
def readings(tmp_path: Path) -> Iterator[SqliteReadingStore]:
    store = SqliteReadingStore(tmp_path / "readings.db")
    yield store
    store.close()


def gateway(mqtt: MqttSettings, readings: object, state: StateStore, metrics: Metrics) -> Gateway:
    return Gateway(mqtt=mqtt, settings=GatewaySettings(flush_interval_s=0.05), readings=readings,  # type: ignore[arg-type]
                   state=state, clock=SystemClock(), metrics=metrics)


def publish(mqtt: MqttSettings, *payloads: dict[str, float]) -> None:
    hub = MqttClient(mqtt, client_id=f"{mqtt.client_id_prefix}-hub")
    hub.start()
    for payload in payloads:
        hub.publish(f"{mqtt.topic_prefix}/hubs/h-1/water", json.dumps(payload))
    assert hub.drain()
    hub.stop()


def test_a_reading_delivered_again_after_a_restart_is_stored_once_and_counted(
    any_mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore,
) -> None:
    now = time.time()
    first = gateway(any_mqtt, readings, state, Metrics())
    first.start()
    publish(any_mqtt, {"ts": now - 60, "value": 1.0})
    wait_for(lambda: readings.count() == 1, what="the reading")
    first.stop()
    metrics = Metrics()
    second = gateway(any_mqtt, readings, state, metrics)  # knows nothing of what the first saw
    second.start()
    try:
        publish(any_mqtt, {"ts": now - 60, "value": 1.0}, {"ts": now, "value": 1.01})
        wait_for(lambda: readings.count() == 2, what="the new reading")
        assert second.wait_idle()
    finally:
        second.stop()
    assert metrics.registry.get_sample_value("shouwang_readings_duplicate_total") == 1
    assert metrics.registry.get_sample_value("shouwang_readings_accepted_total") == 1


def test_a_message_not_yet_committed_is_not_acknowledged_so_the_broker_delivers_it_again(
    mosquitto_mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore,
) -> None:
    now = time.time()
    held = HeldStore(readings)
    crashed = gateway(mosquitto_mqtt, held, state, Metrics())
    crashed.start()
    try:
        publish(mosquitto_mqtt, {"ts": now, "value": 2.0})
        wait_for(held.writing.is_set, what="the gateway to be writing")
        crashed._client.abort()  # its connection dies mid-commit, as in a kill -9
        successor = gateway(mosquitto_mqtt, readings, state, Metrics())  # the same client id
        successor.start()
        try:
            wait_for(lambda: readings.count() == 1, timeout_s=10,
                     what="the unacknowledged reading delivered again to the next gateway")
        finally:
            successor.stop()
    finally:
        held.release.set()
        crashed.stop()
    assert readings.count() == 1


def test_while_the_store_is_slow_the_backlog_waits_at_the_broker_not_in_memory(
    mosquitto_mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore,
) -> None:
    now = time.time()
    held = HeldStore(readings)
    service = Gateway(mqtt=mosquitto_mqtt, settings=GatewaySettings(flush_interval_s=0.05, queue_size=5),
                      readings=held, state=state, clock=SystemClock(), metrics=Metrics())
    service.start()
    try:
        publish(mosquitto_mqtt, *({"ts": now - 300 + i, "value": i / 10_000} for i in range(300)))
        wait_for(held.writing.is_set, what="the gateway to be writing")
        time.sleep(0.5)  # time enough to take in everything, were the queue unbounded
        assert service._queue.qsize() <= 5
        held.release.set()
        wait_for(lambda: readings.count() == 300, what="every reading once the store is back")
    finally:
        held.release.set()
        service.stop()


class DownStore:
    """A reading store that is unreachable while `down` is set, as InfluxDB restarting is."""

    def __init__(self, inner: SqliteReadingStore) -> None:
        self.inner = inner
        self.down = threading.Event()
        self.down.set()
        self.refused = 0

    def write(self, readings: Sequence[StoredReading]) -> int:
        if self.down.is_set():
            self.refused += 1
            raise ReadingStoreUnavailable("connection refused")
        return self.inner.write(readings)

    def query(self, *, household_id: str, start: float, end: float,
              sensor: str | None = None) -> list[StoredReading]:
        return self.inner.query(household_id=household_id, start=start, end=end, sensor=sensor)

    def latest(self, keys: Sequence[tuple[str, str, str]], *, since: float, limit: int,
               before: float | None = None) -> dict[tuple[str, str, str], list[StoredReading]]:
        return self.inner.latest(keys, since=since, limit=limit, before=before)

    def close(self) -> None:
        pass


@pytest.fixture
def health_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outage is a health problem, logged as an error as it must be; the tests check it."""
    monkeypatch.setattr(logging.getLogger("shouwang.health"), "disabled", True)


def test_while_the_reading_store_is_down_nothing_is_acknowledged_dead_lettered_or_lost(
    mosquitto_mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore, health_logged: None,
) -> None:
    now = time.time()
    down = DownStore(readings)
    first = gateway(mosquitto_mqtt, down, state, Metrics())
    first.start()
    try:
        publish(mosquitto_mqtt, *({"ts": now - 100 + i, "value": i / 1000} for i in range(40)))
        wait_for(lambda: down.refused >= 3, what="the gateway to keep trying the store")
        assert readings.count() == 0 and state.dead_letters.count() == 0
    finally:
        started = time.monotonic()
        first.stop()  # while the store is still down: nothing it holds was acknowledged
    assert time.monotonic() - started < 5
    down.down.clear()
    second = gateway(mosquitto_mqtt, down, state, Metrics())  # the same client id and session
    second.start()
    try:
        publish(mosquitto_mqtt, *({"ts": now - 50 + i, "value": 0.06 + i / 1000} for i in range(10)))
        wait_for(lambda: readings.count() == 50, timeout_s=15,
                 what="every reading, the held ones delivered again by the broker")
    finally:
        second.stop()
    assert state.dead_letters.count() == 0


def test_a_store_that_comes_back_gets_the_held_batch(
    any_mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore, health_logged: None,
) -> None:
    now = time.time()
    down = DownStore(readings)
    service = gateway(any_mqtt, down, state, Metrics())
    service.start()
    try:
        publish(any_mqtt, *({"ts": now - 100 + i, "value": i / 1000} for i in range(20)))
        wait_for(lambda: down.refused >= 3, what="the gateway to try the store")
        # found by a tester: /health said ok through a full disk while 19,442 readings waited
        [problem] = service.health.report()["problems"]
        assert problem["problem"] == "reading_store_unavailable" and "holding " in problem["message"]
        down.down.clear()
        wait_for(lambda: readings.count() == 20, timeout_s=10, what="the held readings")
    finally:
        service.stop()
    assert state.dead_letters.count() == 0 and service.health.ok
