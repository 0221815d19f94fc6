"""After a restart the gateway judges a hub's readings against what it stored before.

Found by fault injection against `shouwang run` (embedded broker, SQLite): the gateway's register
memory (`shouwang.contract.validate.Validator`) started empty, so after any restart
- the first reading of each meter is taken without comparing it with the stored register: a
  single outlier (5000 m³ after 0.888 m³ a few minutes before) is stored and becomes the baseline,
  and every honest reading after it is dead-lettered as `register_backwards`: the home's water
  signs of life are refused until someone sends `"reset": true`;
- a message for a time already stored, with another value, is counted as a harmless duplicate
  ("gateway.duplicates_ignored count=1"), not dead-lettered as a `conflict`, and its never-stored
  value becomes the baseline all the same, with the same effect.
Before the restart the same messages are refused (implausible / register_backwards) and the
meter keeps working (tests/faults/test_poison.py: "the outlier did not lock the meter"). Now a hub
sensor met for the first time recalls its newest stored readings (`ReadingStore.latest`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
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
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.broker]
HUB, HOUSEHOLD = "h-1", "hh-1"


@pytest.fixture
def mqtt(embedded_mqtt: MqttSettings) -> MqttSettings:
    return embedded_mqtt  # tests/conftest.py's: the session's embedded broker, a prefix of its own


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[StateStore, SqliteReadingStore, float]]:
    """A home whose meter history is already stored, as a gateway before the restart left it."""
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    readings = SqliteReadingStore(tmp_path / "readings.db")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_household(Household(HOUSEHOLD, Tier.RED, "g-1"), now=now - 7200)
    state.registry.add_hub(Hub(HUB, HOUSEHOLD), now=now - 7200)
    state.consent.record(Consent(HOUSEHOLD, "王秀英", "self", sensing=True, share_with_family=False,
                                 given_at=now - 7200), actor=Actor("test"), now=now - 7200)
    readings.write([StoredReading(HOUSEHOLD, HUB, "water", now - 3600 + 60 * k, 10.0 + 0.001 * k)
                    for k in range(59)])  # the last at now - 120: 10.058 m³
    yield state, readings, now
    readings.close()
    state.close()


def run(mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore, float],
        messages: list[dict[str, float]]) -> None:
    state, readings, _ = stores
    gateway = Gateway(mqtt=mqtt, settings=GatewaySettings(flush_interval_s=0.05), readings=readings,
                      state=state, clock=SystemClock(), metrics=Metrics())
    gateway.start()  # a fresh gateway: the process was restarted
    client = MqttClient(mqtt, client_id=f"{mqtt.client_id_prefix}-hub")
    client.start()
    try:
        for n, message in enumerate(messages, 1):  # one at a time, each its own batch
            client.publish(f"{mqtt.topic_prefix}/hubs/{HUB}/water", json.dumps(message))
            assert client.drain()
            wait_for(lambda n=n: gateway.stored + state.dead_letters.count() + gateway_duplicates(gateway) >= n,  # type: ignore[misc]
                     what=f"message {n} stored, dead-lettered or counted as a duplicate")
    finally:
        client.stop()
        gateway.stop()


def gateway_duplicates(gateway: Gateway) -> int:
    return int(gateway._metrics.readings_duplicate._value.get())  # the test's view


def honest(now: float) -> list[dict[str, float]]:
    return [{"ts": now - 60 + 20 * k, "value": 10.059 + 0.001 * k} for k in range(3)]


def test_after_a_restart_one_outlier_does_not_lock_the_meter(
        mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore, float]) -> None:
    state, readings, now = stores
    run(mqtt, stores, [{"ts": now - 90, "value": 5000.0}, *honest(now)])
    values = [r.value for r in readings.query(household_id=HOUSEHOLD, start=now - 100, end=now + 1)]
    letters = state.dead_letters.count_by_category()
    assert values == pytest.approx([10.059, 10.06, 10.061]) and letters == {"implausible": 1}, (
        f"stored since the restart: {values}; dead letters: {letters}")


def test_after_a_restart_a_conflicting_value_for_a_stored_time_is_refused_not_a_duplicate(
        mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore, float]) -> None:
    state, readings, now = stores
    stored_ts = now - 3600 + 60 * 10  # stored with 10.010
    run(mqtt, stores, [{"ts": stored_ts, "value": 5000.0}, *honest(now)])
    values = [r.value for r in readings.query(household_id=HOUSEHOLD, start=now - 100, end=now + 1)]
    letters = state.dead_letters.count_by_category()
    # older than the eight readings recalled: judged as a late reading above the newer register
    assert letters == {"register_backwards": 1}, f"dead letters: {letters} (the conflicting value left no trace)"
    assert values == pytest.approx([10.059, 10.06, 10.061]), f"honest readings stored after it: {values}"


def test_after_a_restart_a_conflicting_value_for_the_newest_stored_time_is_a_conflict(
        mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore, float]) -> None:
    state, readings, now = stores
    run(mqtt, stores, [{"ts": now - 120, "value": 5000.0}, {"ts": now - 120, "value": 10.058}, *honest(now)])
    values = [r.value for r in readings.query(household_id=HOUSEHOLD, start=now - 100, end=now + 1)]
    letters = state.dead_letters.count_by_category()
    assert letters == {"conflict": 1}, f"dead letters: {letters}"
    assert gateway_duplicates_seen(readings, now) == 1  # the repeat of the stored reading: kept once
    assert values == pytest.approx([10.059, 10.06, 10.061])


def gateway_duplicates_seen(readings: SqliteReadingStore, now: float) -> int:
    return len(readings.query(household_id=HOUSEHOLD, start=now - 121, end=now - 119))


def test_the_detector_beside_the_gateway_still_sees_a_reading_the_gateway_just_stored(
        stores: tuple[StateStore, SqliteReadingStore, float]) -> None:
    """The detector reads the same stream: a reading the gateway stored a moment before is not a
    duplicate to it (it would never be seen), yet an outlier still is refused."""
    from shouwang.contract.validate import Limits, Validator, recall_from
    from shouwang.domain.model import Reading, SensorKind

    _, readings, now = stores
    hubs = {HUB: HOUSEHOLD}
    readings.write([StoredReading(HOUSEHOLD, HUB, "water", now - 60, 10.059)])  # the gateway's
    detector = Validator(Limits(max_age_s=86400, max_future_s=300), recall=recall_from(readings, before_batch=True))
    verdict = detector.judge([Reading(HUB, "water", SensorKind.WATER, now - 60, 10.059)], hubs=hubs, now=now)
    assert [r.value for r in verdict.accepted] == [10.059] and verdict.duplicates == 0
    later = Validator(Limits(max_age_s=86400, max_future_s=300), recall=recall_from(readings, before_batch=True))
    outlier = later.judge([Reading(HUB, "water", SensorKind.WATER, now - 30, 5000.0)], hubs=hubs, now=now)
    assert [r.category for r in outlier.rejected] == ["implausible"]
    gateway = Validator(Limits(max_age_s=86400, max_future_s=300), recall=recall_from(readings))
    again = gateway.judge([Reading(HUB, "water", SensorKind.WATER, now - 60, 10.059)], hubs=hubs, now=now)
    assert again.accepted == [] and again.duplicates == 1
