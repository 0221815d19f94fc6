"""The gateway over a real broker (embedded, and Mosquitto where present) into real SQLite."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.service import Gateway
from shouwang.clock import SystemClock
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient, Will
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.support import wait_for

pytestmark = pytest.mark.broker


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[StateStore, SqliteReadingStore]]:
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    readings = SqliteReadingStore(tmp_path / "readings.db")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_household(Household("hh-1", Tier.RED, "g-1"), now=now)
    state.registry.add_hub(Hub("h-1", "hh-1"), now=now)
    state.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=False,
                                 given_at=now), actor=Actor("test"), now=now)
    state.registry.add_household(Household("hh-2", Tier.RED, "g-1"), now=now)
    state.registry.add_hub(Hub("h-2", "hh-2"), now=now)  # no consent recorded
    yield state, readings
    readings.close()
    state.close()


@pytest.fixture
def gateway(any_mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore]) -> Iterator[Gateway]:
    state, readings = stores
    service = Gateway(mqtt=any_mqtt, settings=GatewaySettings(flush_interval_s=0.05),
                      readings=readings, state=state, clock=SystemClock(), metrics=Metrics())
    service.start()
    yield service
    service.stop()


@pytest.fixture
def hub(any_mqtt: MqttSettings) -> Iterator[MqttClient]:
    client = MqttClient(any_mqtt, client_id=f"{any_mqtt.client_id_prefix}-hub-h-1",
                        will=Will(f"{any_mqtt.topic_prefix}/hubs/h-1/status",
                                  b'{"state": "offline"}'))
    client.start()
    yield client
    client.stop()
    # Leave no retained presence behind on a shared Mosquitto: an empty retained message clears it.
    cleaner = MqttClient(any_mqtt, client_id=f"{any_mqtt.client_id_prefix}-cleaner")
    cleaner.start()
    cleaner.publish(f"{any_mqtt.topic_prefix}/hubs/h-1/status", b"", retain=True)
    cleaner.drain()
    cleaner.stop()


def topic(mqtt: MqttSettings, sensor: str, hub_id: str = "h-1") -> str:
    return f"{mqtt.topic_prefix}/hubs/{hub_id}/{sensor}"


def test_a_batch_with_one_malformed_reading_keeps_the_good_ones(
    gateway: Gateway, hub: MqttClient, any_mqtt: MqttSettings,
    stores: tuple[StateStore, SqliteReadingStore],
) -> None:
    state, readings = stores
    now = time.time()
    batch = [{"ts": now - 120, "value": 10.0, "seq": 1}, {"ts": now - 60, "value": "ten"},
             {"ts": now, "value": 10.2, "seq": 3}]
    hub.publish(topic(any_mqtt, "water"), json.dumps(batch))
    wait_for(lambda: readings.count() == 2, what="the two good readings to be stored")
    stored = readings.query(household_id="hh-1", start=now - 3600, end=now + 1)
    assert [r.value for r in stored] == [10.0, 10.2]
    letters = wait_for(lambda: state.dead_letters.recent(), what="a dead letter")
    assert len(letters) == 1
    assert "'value' must be a number" in letters[0].reason
    assert letters[0].hub_id == "h-1"


def test_bad_messages_never_stop_ingest(
    gateway: Gateway, hub: MqttClient, any_mqtt: MqttSettings,
    stores: tuple[StateStore, SqliteReadingStore],
) -> None:
    state, readings = stores
    now = time.time()
    hub.publish(topic(any_mqtt, "water"), b"\x00garbage")
    hub.publish(topic(any_mqtt, "water", hub_id="h-stranger"), json.dumps({"ts": now, "value": 1}))
    hub.publish(topic(any_mqtt, "radiation"), json.dumps({"ts": now, "value": 1}))
    hub.publish(topic(any_mqtt, "water"), json.dumps({"ts": now + 86400, "value": 1}))
    hub.publish(topic(any_mqtt, "electricity"), json.dumps({"ts": now, "value": 5, "power_w": 900}))
    wait_for(lambda: readings.count() == 1, what="the good reading after the bad ones")
    wait_for(lambda: state.dead_letters.count() == 4, what="four dead letters")
    reasons = " | ".join(d.reason for d in state.dead_letters.recent())
    assert "not JSON" in reasons
    assert "hub h-stranger is not registered" in reasons
    assert "radiation" in reasons
    assert "future" in reasons
    assert state.dead_letters.count_by_category() == {
        "malformed": 1, "unknown_hub": 1, "bad_topic": 1, "bad_timestamp": 1}


def test_a_household_without_consent_is_not_monitored_and_nothing_it_sent_is_kept(
    gateway: Gateway, hub: MqttClient, any_mqtt: MqttSettings,
    stores: tuple[StateStore, SqliteReadingStore],
) -> None:
    state, readings = stores
    now = time.time()
    hub.publish(topic(any_mqtt, "water", hub_id="h-2"), json.dumps({"ts": now, "value": 7.5}))
    hub.publish(topic(any_mqtt, "water"), json.dumps({"ts": now, "value": 1.0}))
    wait_for(lambda: readings.count() == 1, what="the consenting household's reading")
    letter = wait_for(lambda: state.dead_letters.recent(), what="the refusal")[0]
    assert "hh-2 has no recorded consent" in letter.reason
    assert "7.5" not in letter.payload
    assert readings.query(household_id="hh-2", start=now - 60, end=now + 60) == []


def test_a_repeated_message_is_stored_once(
    gateway: Gateway, hub: MqttClient, any_mqtt: MqttSettings,
    stores: tuple[StateStore, SqliteReadingStore],
) -> None:
    _, readings = stores
    now = time.time()
    payload = json.dumps([{"ts": now - 60 * i, "value": 100.0 - i / 100} for i in range(5)][::-1])
    for _ in range(3):
        hub.publish(topic(any_mqtt, "gas"), payload)
    assert hub.drain()
    assert gateway.wait_idle()
    wait_for(lambda: readings.count() == 5, what="five readings")
    time.sleep(0.3)
    assert readings.count() == 5


def test_presence_comes_from_the_retained_status_and_the_last_will(
    gateway: Gateway, hub: MqttClient, any_mqtt: MqttSettings,
    stores: tuple[StateStore, SqliteReadingStore],
) -> None:
    state, _ = stores
    hub.publish(topic(any_mqtt, "status"), json.dumps({"state": "online", "ts": time.time(),
                                                       "battery": 0.8}), retain=True)
    online = wait_for(lambda: state.registry.presence().get("h-1"), what="hub online")
    assert (online.state, online.battery) == ("online", 0.8)
    hub.abort()  # power lost: no DISCONNECT, so the broker publishes the Last Will
    wait_for(lambda: state.registry.presence()["h-1"].state == "offline", what="the Last Will")


def test_hubs_all_ahead_by_the_same_say_this_servers_clock_is_behind(
    gateway: Gateway, hub: MqttClient, any_mqtt: MqttSettings,
    stores: tuple[StateStore, SqliteReadingStore], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a tester: this server's clock an hour behind, every hub's readings were refused as
    "in the future; check the hub's clock", hub by hub, and every home was called offline."""
    monkeypatch.setattr(logging.getLogger("shouwang.health"), "disabled", True)  # the problem is logged
    state, _ = stores
    now = time.time()
    for name in ("3", "4"):
        state.registry.add_household(Household(f"hh-{name}", Tier.GREEN, "g-1"), now=now)
        state.registry.add_hub(Hub(f"h-{name}", f"hh-{name}"), now=now)
        state.consent.record(Consent(f"hh-{name}", "老人", "self", sensing=True, share_with_family=False,
                                     given_at=now), actor=Actor("test"), now=now)
    gateway._directory.reload()
    hub.publish(topic(any_mqtt, "water"), json.dumps({"ts": now + 3600, "value": 1.0}))
    hub.publish(topic(any_mqtt, "water", "h-4"), json.dumps({"ts": now + 3590, "value": 1.0}))
    assert hub.drain() and gateway.wait_idle()
    def problem() -> str | None:
        return next((p["message"] for p in gateway.health.report()["problems"] if p["problem"] == "clock_behind"),
                    None)
    assert problem() is None, "two hubs may be two hubs' clocks"
    hub.publish(topic(any_mqtt, "water", "h-3"), json.dumps({"ts": now + 3610, "value": 1.0}))
    said = wait_for(problem, what="the clock named")
    assert "3 hubs are all stamped about 60 min ahead of this server's clock" in said
    assert "this server's clock is probably behind" in said
