"""A bridge going offline is a device fault, not a silent home: through the embedded broker, the
detector hears Zigbee2MQTT say its bridge is offline (https://www.zigbee2mqtt.io/guide/usage/
mqtt_topics_and_messages.html, `bridge/state`) while the wmbusmeters water meter (its JSON line,
https://github.com/wmbusmeters/wmbusmeters#readme) still reports and shows no use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.bootstrap import make_detector
from detector.service import DetectorService
from shouwang.domain.alerts import AlertKind, AlertState, Severity
from shouwang.domain.devices import DeviceMap
from shouwang.domain.model import SensorKind
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings, Settings
from shouwang.storage.audit import Actor
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.integration.test_detector_service import HOUSEHOLD, HUB, StillClock, stores  # noqa: F401
from tests.support import wait_for
from tests.unit.detector.helpers import TZ, at

MAP = [DeviceMap("entrance", SensorKind.DOOR, bridge="z2m"), DeviceMap("hall pir", SensorKind.MOTION),
       DeviceMap("33225544", SensorKind.WATER, bridge="wmbus")]


@pytest.fixture
def detector(tmp_path: Path, embedded_mqtt: MqttSettings,
             stores: tuple[StateStore, SqliteReadingStore]) -> Iterator[tuple[DetectorService, StillClock]]:  # noqa: F811
    state, readings = stores
    for entry in MAP:
        state.devices.add(HUB, entry, actor=Actor("installer"), now=at(15, 8.0))
    # ticks only when the test says, so each is judged after what was published before it
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai",
                        detector={"tick_s": 1e9, "status_flush_s": 1e9})
    clock = StillClock(at(15, 8.0))
    svc = DetectorService(mqtt=embedded_mqtt, settings=settings.detector, gateway=settings.gateway,
                          detector=make_detector(settings), readings=readings, state=state, clock=clock,
                          metrics=Metrics(), tz=TZ, client_id=f"{embedded_mqtt.client_id_prefix}-detector")
    svc.start()
    wait_for(lambda: svc.ticks == 1, what="the detector's first tick")
    yield svc, clock
    svc.stop()


@pytest.mark.broker
def test_zigbee2mqtt_offline_is_a_device_fault_named_not_the_elders_silence(
        detector: tuple[DetectorService, StillClock], embedded_mqtt: MqttSettings,
        stores: tuple[StateStore, SqliteReadingStore]) -> None:  # noqa: F811
    svc, clock = detector
    state, readings = stores
    box = MqttClient(embedded_mqtt, client_id=f"{embedded_mqtt.client_id_prefix}-box")
    box.start()
    water = max(r.value for r in readings.query(household_id=HOUSEHOLD, start=at(0, 0), end=at(15, 8.0))
                if r.sensor == "water")

    def publish(tail: str, payload: object) -> None:
        box.publish(f"{embedded_mqtt.topic_prefix}/hubs/{HUB}/{tail}", json.dumps(payload).encode())

    def step(minutes: float, *messages: tuple[str, object]) -> None:
        """Time passes; the bridges say `messages`, then the meter reports no use; one tick."""
        clock.t += minutes * 60
        for message in messages:
            publish(*message)
        utc = datetime.fromtimestamp(clock.t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        publish("wmbus/MyTapWater", {"media": "water", "meter": "multical21", "id": "33225544",
                                     "total_m3": water, "timestamp": utc})
        wait_for(lambda: svc.homes[HOUSEHOLD].hub_seen_at.get(HUB) == clock.t, what="the meter heard")
        svc.tick(clock.t)

    try:
        step(1, ("z2m/entrance/availability", {"state": "online"}),
             ("z2m/hall pir/availability", {"state": "online"}), ("z2m/bridge/state", {"state": "online"}))
        step(10, ("z2m/bridge/state", {"state": "offline"}))
        gone = clock.t
        for _ in range(16):  # 8 hours: this silent morning alerts within them when every device is heard
            step(30)
        alerts = state.alerts.unresolved()
        assert [a.kind for a in alerts] == [AlertKind.HUB_OFFLINE]
        fault = alerts[0]
        assert fault.severity is Severity.WARNING  # a red home, but the meter still gives signs
        assert {d["device"] for d in fault.details["devices"]} == {"entrance", "hall pir"}
        assert fault.since == gone and "entrance (z2m), hall pir (z2m)" in fault.explanation

        step(1, ("z2m/bridge/state", {"state": "online"}))
        back = clock.t
        step(30)
        assert state.alerts.unresolved() == []
        cleared = state.alerts.list()[0]
        assert cleared.state is AlertState.RESOLVED and cleared.note is not None
        assert "devices reachable again at" in cleared.note
        assert svc._contexts[HOUSEHOLD].devices.back_at == back  # the silence counts from here
    finally:
        box.stop()


def test_a_restarted_detector_knows_from_the_stored_sightings_which_devices_went(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:  # noqa: F811
    state, readings = stores
    for entry in MAP:
        state.devices.add(HUB, entry, actor=Actor("installer"), now=at(15, 8.0))
    state.devices.record_presence(HUB, "z2m", "hall pir", online=True, at=at(15, 7.0))
    state.devices.record_presence(HUB, "z2m", "bridge", online=False, at=at(15, 7.5))
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai")
    svc = DetectorService(mqtt=settings.mqtt, settings=settings.detector, gateway=settings.gateway,
                          detector=make_detector(settings), readings=readings, state=state,
                          clock=StillClock(at(15, 8.3)), metrics=Metrics(), tz=TZ)
    svc.warm_up()  # no broker: what the gateway stored is all it has
    svc.tick(at(15, 8.3))  # (48 minutes after: a device down for less is not an alert yet)
    down = svc._contexts[HOUSEHOLD].devices.down
    assert [(d.device, d.since) for d in down] == [("entrance", at(15, 7.5)), ("hall pir", at(15, 7.5))]
    assert [a.kind for a in state.alerts.unresolved()] == [AlertKind.HUB_OFFLINE]
