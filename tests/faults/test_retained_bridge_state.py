"""Found by a tester of commodity devices: a Zigbee2MQTT button with `retain: true` (a per-device
option many installs turn on, so that Home Assistant sees states after a restart) leaves its last
`{"action": "single"}` retained on the broker. Without `last_seen`, a bridged message is dated
when it arrives, and the retained flag was never looked at: every time the detector subscribed
again (a restart, a reconnect after a network blip) the old press came back as a new press, and
an urgent help alert was opened again, although staff had resolved the only press there was. A
bridge's retained state is now no reading, on either broker (its device is still heard)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cli.bootstrap import make_detector
from detector.service import DetectorService
from shouwang.broker import EmbeddedBroker, free_port
from shouwang.clock import SystemClock
from shouwang.domain.alerts import Alert, AlertKind, Outcome
from shouwang.domain.devices import DeviceMap
from shouwang.domain.model import Grid, Household, Hub, Role, SensorKind, Tier
from shouwang.health import Health
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings, Settings
from shouwang.storage.alerts import AlertFilter
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.faults.conftest import private_mosquitto
from tests.support import wait_for

HUB, HOUSEHOLD = "h-1", "hh-1"


@pytest.fixture(scope="module", params=["mosquitto", "embedded"])
def broker_port(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if request.param == "embedded":
        broker = EmbeddedBroker("127.0.0.1", free_port())
        broker.start()
        yield broker.port
        broker.stop()
        return
    with private_mosquitto(tmp_path_factory.mktemp("mosquitto")) as port:
        yield port


@pytest.fixture
def mqtt(broker_port: int) -> MqttSettings:
    return MqttSettings(url=f"mqtt://127.0.0.1:{broker_port}", topic_prefix=f"t{uuid.uuid4().hex[:10]}/v1",
                        client_id_prefix=f"test-{uuid.uuid4().hex[:8]}")


def register(state: StateStore, now: float) -> None:
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_staff(username="member", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-1"],
                             webhook_url=None, notify_mqtt=False, now=now)
    state.registry.add_household(Household(HOUSEHOLD, Tier.RED, "g-1"), now=now - 7200)
    state.registry.add_hub(Hub(HUB, HOUSEHOLD), now=now - 7200)
    state.consent.record(Consent(HOUSEHOLD, "老人", "self", sensing=True, share_with_family=False,
                                 given_at=now - 7200), actor=Actor("test"), now=now - 7200)
    state.devices.add(HUB, DeviceMap("help", SensorKind.BUTTON), actor=Actor("installer"), now=now)


def detector(tmp_path: Path, mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore) -> DetectorService:
    settings = Settings(storage={"data_dir": tmp_path}, mqtt=mqtt.model_dump(),
                        detector={"algorithm": "fixed", "tick_s": 0.5})
    return DetectorService(mqtt=mqtt, settings=settings.detector, gateway=settings.gateway,
                           detector=make_detector(settings), readings=readings, state=state,
                           clock=SystemClock(), metrics=Metrics(), tz=ZoneInfo("Asia/Shanghai"),
                           snapshot_dir=tmp_path, health=Health("detector"))


def all_help(state: StateStore) -> list[Alert]:
    return list(state.alerts.list(AlertFilter(kind=AlertKind.HELP, household_id=HOUSEHOLD, limit=50)))


def test_a_retained_press_answered_once_is_not_a_new_press_at_every_restart(
        tmp_path: Path, mqtt: MqttSettings) -> None:
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    readings = SqliteReadingStore(tmp_path / "readings.db")
    register(state, time.time())
    box = MqttClient(mqtt, client_id=f"{mqtt.client_id_prefix}-box")
    box.start()
    try:
        svc = detector(tmp_path, mqtt, state, readings)
        svc.start()
        try:
            # Zigbee2MQTT, device option retain: true, no last_seen: the elder presses once (the
            # running detector hears it live)
            box.publish(f"{mqtt.topic_prefix}/hubs/{HUB}/z2m/help",
                        json.dumps({"action": "single", "battery": 100, "linkquality": 84}).encode(), retain=True)
            first = wait_for(lambda: all_help(state), what="the help alert of the press")[0]
            staff = state.registry.all_staff()[0]
            state.alerts.acknowledge(first.id, staff=staff, now=time.time())
            state.alerts.resolve(first.id, staff=staff, outcome=Outcome.ELDER_FINE, note="pressed by mistake",
                                 now=time.time())
        finally:
            svc.stop()
        for _ in range(2):  # the detector restarts twice (an upgrade, a crash); nobody presses anything
            time.sleep(1.1)
            svc = detector(tmp_path, mqtt, state, readings)
            svc.start()
            time.sleep(3)
            svc.stop()
        alerts = all_help(state)
    finally:
        box.publish(f"{mqtt.topic_prefix}/hubs/{HUB}/z2m/help", b"", retain=True)  # clear the retained message
        box.stop()
        readings.close()
        state.close()
    # Before (Mosquitto): 3 urgent help alerts for one press, one per (re)subscription.
    assert len(alerts) == 1, [(a.id, a.since, a.state) for a in alerts]
