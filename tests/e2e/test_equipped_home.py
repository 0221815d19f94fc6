"""A home equipped from a shop's shelf, end to end: Zigbee2MQTT door, PIR and buttons and a
wmbusmeters water meter (no hub of ours) → broker → gateway and detector through the hub's device
map → alerts. Real embedded broker, real SQLite, a fast clock.

The elder falls in the night; the water meter keeps reporting, so the home is heard and silent:
an inactivity alert. Later she reaches her help button: an urgent help alert.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from cli.bootstrap import System, build
from shouwang.broker import EmbeddedBroker
from shouwang.clock import FastClock
from shouwang.domain.alerts import Alert, AlertKind, Severity
from shouwang.domain.devices import DeviceMap, DeviceSighting
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.settings import MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from simulator.devices import device_map
from simulator.home import SimulatedHome
from simulator.incidents import Incident, IncidentKind
from simulator.publisher import Simulation
from simulator.routine import Profile
from tests.support import settings_for_test, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.slow]
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 10, 10, 0, tzinfo=TZ).timestamp()  # a fixed Tuesday morning
SPEED = 600.0
HELP_AT = START + 5 * 3600 + 17  # 30 s after the start at 600×: well after the silence is judged


@pytest.fixture
def system(tmp_path: Path, embedded_broker: EmbeddedBroker, embedded_mqtt: MqttSettings) -> Iterator[System]:
    settings = settings_for_test(tmp_path, embedded_mqtt, detector={"tick_s": 60})
    clock = FastClock(START, SPEED)
    system = build(settings, clock=clock)
    registry, now = system.state.registry, clock.now()
    history = 3 * 86400
    registry.add_grid(Grid("g-a", "东园网格"))
    registry.add_household(Household("hh-z", Tier.RED, "g-a", alias="李桂英",
                                      monitoring_since=START - history), now=now)
    registry.add_hub(Hub("h-z", "hh-z"), now=now)
    system.state.consent.record(Consent("hh-z", "李桂英", "self", sensing=True, share_with_family=False,
                                        given_at=START - history), actor=Actor("test"), now=now)
    only_zigbee_and_water: list[DeviceMap] = [e for e in device_map("h-z") if e.bridge in ("z2m", "wmbus")]
    for entry in only_zigbee_and_water:
        system.state.devices.add("h-z", entry, actor=Actor("installer"), now=now)
    profile = replace(Profile.draw(np.random.default_rng(3)), sensors=("water", "door"))
    fell = Incident("hh-z", IncidentKind.INCAPACITATION, START - 11.9 * 3600)
    pressed = Incident("hh-z", IncidentKind.HELP_PRESS, HELP_AT)
    home = SimulatedHome("hh-z", "h-z", profile, seed=11, tz=TZ, start=START - history,
                         incidents=[fell, pressed], fine_press_h=9.0, bridged=True)
    system.start_services()
    simulation = Simulation([home], mqtt=embedded_mqtt, clock=clock)
    simulation.connect()
    simulation.backfill(clock.now())
    simulation.start()
    system.add_stopper(simulation.stop)
    yield system
    system.stop()


def alert_of(system: System, kind: AlertKind) -> Alert | None:
    alerts = [a for a in system.state.alerts.list() if a.kind is kind]
    return alerts[0] if alerts else None


def test_a_zigbee_and_wmbus_home_gone_silent_raises_inactivity_and_its_help_button_an_urgent_alert(
        system: System) -> None:
    inactivity = wait_for(lambda: alert_of(system, AlertKind.INACTIVITY), timeout_s=40,
                          what="an inactivity alert for the silent equipped home")
    assert inactivity.opened_at < HELP_AT
    help_alert = wait_for(lambda: alert_of(system, AlertKind.HELP), timeout_s=60, what="the help alert")
    assert help_alert.severity is Severity.URGENT and help_alert.since == pytest.approx(HELP_AT, abs=0.01)
    assert "the help button was pressed at 15:00" in help_alert.explanation
    # Nothing the bridges sent was refused: every device was mapped and every message well formed.
    assert [(d.topic, d.reason) for d in system.state.dead_letters.recent()] == []

    def sensors() -> set[str]:
        readings = system.readings.query(household_id="hh-z", start=START - 3 * 86400, end=system.clock.now())
        return {r.sensor for r in readings}

    # The gateway stores what the detector judged (each on its own subscription, in its own time).
    wait_for(lambda: {"water", "door", "motion", "button", "button.fine"} <= sensors(), what="every sensor stored")
    assert "electricity" not in sensors()
    # what a batch heard is kept just after its readings are committed: wait for it as well
    def sightings() -> dict[str, DeviceSighting] | None:
        seen = {s.device: s for s in system.state.devices.sightings(["h-z"])}
        complete = "entrance" in seen and "bridge" in seen and seen["bridge"].online is not None
        return seen if complete else None

    heard = wait_for(sightings, what="the entrance's and the bridge's sightings")
    assert heard["entrance"].battery == pytest.approx(0.93) and heard["bridge"].online is True
    assert system.state.registry.presence()["h-z"].state == "online"
