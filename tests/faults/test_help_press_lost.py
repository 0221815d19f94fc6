"""A help-button press was lost for good, silently, in two ways (found by an attacker against
the split roles, `shouwang detector` over PostgreSQL and Mosquitto).

1. The state store away for a moment when the press arrived (a PostgreSQL restart or fail-over,
   a network blip): the detector read the last help alert and opened the new one once, in the
   message handler; the error was logged and the press never looked at again, while the
   detector's /health said "ok".
2. A hub whose clock came back behind after a power cut: its press, older by its stamp than the
   help alert resolved a moment before, was dropped without a word.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cli.bootstrap import make_detector
from detector.service import DetectorService
from shouwang.clock import SystemClock
from shouwang.domain.alerts import Alert, AlertKind, Outcome
from shouwang.domain.model import Grid, Household, Hub, Role, Tier
from shouwang.health import Health
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings, Settings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.faults.conftest import allow_connections
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.postgres]
HUB, HOUSEHOLD = "h-1", "hh-1"


@pytest.fixture
def no_logged_errors() -> Iterator[None]:
    yield  # the outage makes our code log errors; the test judges the outcome itself


def register(state: StateStore, now: float) -> None:
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_staff(username="member", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-1"],
                             webhook_url=None, notify_mqtt=False, now=now)
    state.registry.add_household(Household(HOUSEHOLD, Tier.RED, "g-1"), now=now - 7200)
    state.registry.add_hub(Hub(HUB, HOUSEHOLD), now=now - 7200)
    state.consent.record(Consent(HOUSEHOLD, "老人", "self", sensing=True, share_with_family=False,
                                 given_at=now - 7200), actor=Actor("test"), now=now - 7200)


def detector(tmp_path: Path, mqtt: MqttSettings, state: StateStore, readings: SqliteReadingStore,
             health: Health) -> DetectorService:
    settings = Settings(storage={"data_dir": tmp_path}, mqtt=mqtt.model_dump(),
                        detector={"algorithm": "fixed", "tick_s": 0.5})
    return DetectorService(mqtt=mqtt, settings=settings.detector, gateway=settings.gateway,
                           detector=make_detector(settings), readings=readings, state=state,
                           clock=SystemClock(), metrics=Metrics(), tz=ZoneInfo("Asia/Shanghai"),
                           snapshot_dir=tmp_path, health=health)


def press(mqtt: MqttSettings, ts: float) -> None:
    hub = MqttClient(mqtt, client_id=f"{mqtt.client_id_prefix}-hub")
    hub.start()
    try:
        hub.publish_confirmed(f"{mqtt.topic_prefix}/hubs/{HUB}/button", json.dumps({"ts": ts, "value": 1}))
    finally:
        hub.stop()


def help_alerts(state: StateStore) -> list[Alert]:
    return [a for a in state.alerts.unresolved() if a.kind is AlertKind.HELP]


def test_a_help_press_during_a_short_state_store_outage_is_raised_once_the_store_is_back(
        tmp_path: Path, embedded_mqtt: MqttSettings, postgres_url: str) -> None:
    state = StateStore.open(postgres_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    register(state, time.time())
    health = Health("detector")
    svc = detector(tmp_path, embedded_mqtt, state, readings, health)
    svc.start()
    try:
        allow_connections(postgres_url, allow=False)  # PostgreSQL restarting: a few seconds
        try:
            press(embedded_mqtt, time.time())
            time.sleep(3)
            outage_health = health.report()
        finally:
            allow_connections(postgres_url, allow=True)
        time.sleep(5)  # ten ticks with the store back
        raised = help_alerts(state)
    finally:
        svc.stop()
        readings.close()
        state.close()
    assert raised, "the elder pressed the help button during a 3-second database outage: no alert, ever"
    assert outage_health["status"] != "ok", f"health during the outage: {outage_health}"


def test_a_help_press_from_a_hub_whose_clock_is_behind_is_raised(
        tmp_path: Path, embedded_mqtt: MqttSettings, sqlite_url: str) -> None:
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    now = time.time()
    register(state, now)
    svc = detector(tmp_path, embedded_mqtt, state, readings, Health("detector"))
    svc.start()
    try:
        press(embedded_mqtt, now - 60)  # this morning's press, answered
        first = wait_for(lambda: help_alerts(state), what="the first help alert")[0]
        staff = state.registry.all_staff()[0]
        state.alerts.acknowledge(first.id, staff=staff, now=time.time())
        state.alerts.resolve(first.id, staff=staff, outcome=Outcome.ELDER_FINE, note=None,
                             now=time.time())
        # A power cut: the hub boots with its clock 15 minutes behind; the elder presses again.
        press(embedded_mqtt, time.time() - 900)
        time.sleep(3)
        again = help_alerts(state)
        stored = [r for r in readings.query(household_id=HOUSEHOLD, start=now - 7200, end=now + 60)
                  if r.sensor == "button"]
    finally:
        svc.stop()
        readings.close()
        state.close()
    assert again, ("the elder pressed help again (published and delivered to the detector) but no alert was "
                   f"raised: the press's ts is older than the last help alert's; {len(stored)} button readings stored")


def test_a_second_press_from_a_hub_whose_clock_is_steadily_behind_is_raised(
        tmp_path: Path, embedded_mqtt: MqttSettings, sqlite_url: str) -> None:
    """A hub whose clock is 15 minutes behind (steadily, as detector/lateness.py expects): the
    elder presses help, staff go and resolve it, and she presses again 30 s later. The second
    press's stamp lies between the first alert's `since` (the first press's stamp) and its
    resolution (clock time): it was taken as answered, and no alert came (found by an attacker)."""
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    behind = 900.0
    now = time.time()
    register(state, now)
    svc = detector(tmp_path, embedded_mqtt, state, readings, Health("detector"))
    svc.start()
    try:
        press(embedded_mqtt, time.time() - behind)
        first = wait_for(lambda: help_alerts(state), what="the first help alert")[0]
        staff = state.registry.all_staff()[0]
        state.alerts.acknowledge(first.id, staff=staff, now=time.time())
        state.alerts.resolve(first.id, staff=staff, outcome=Outcome.ELDER_FINE, note=None, now=time.time())
        time.sleep(1)
        press(embedded_mqtt, time.time() - behind)  # she presses again, after the resolution
        time.sleep(3)
        again = help_alerts(state)
    finally:
        svc.stop()
        readings.close()
        state.close()
    assert again, "the elder pressed help again after the first alert was resolved: no alert was raised"
