"""What commodity hubs do that ours do not, found by a tester of real hardware: the whole system
(embedded broker, SQLite, `build`) on a fast clock, a hand-written hub publishing over MQTT, and
a fortnight of a regular elder's readings stored before the morning under test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
import pytest

from cli.bootstrap import System, build
from shouwang.clock import FastClock
from shouwang.domain.alerts import AlertKind
from shouwang.domain.model import Grid, Household, Hub, Role, StoredReading, Tier
from shouwang.settings import MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from tests.support import settings_for_test

pytestmark = [pytest.mark.faults, pytest.mark.broker]
TZ = ZoneInfo("Asia/Shanghai")
DAY = 86400.0
START = datetime(2026, 3, 16, 7, 0, tzinfo=TZ).timestamp()  # a Monday, 07:00
USES = (7.0, 7.5, 8.0, 9.0, 10.5, 11.5, 12.0, 13.0, 15.0, 16.5, 17.5, 18.0, 19.0, 20.0, 21.0, 21.5)
DOORS = (9.5, 11.0, 14.0, 16.0)


def _quarter(ts: float) -> int:
    t = datetime.fromtimestamp(ts, TZ)
    return t.hour * 4 + t.minute // 15


def used_water(ts: float) -> bool:
    return _quarter(ts) in {int(u * 4) for u in USES}


def fortnight(household: str, hub: str, *, until: float = START) -> list[StoredReading]:
    """Fourteen days before START, up to `until`: water drawn at USES, the door out and back at
    DOORS, the water register reported every 15 minutes; it ends near 104.5."""
    rows, register = [], 100.0
    for k in range(int((until - START + 14 * DAY) / 900)):
        ts = START - 14 * DAY + k * 900
        register += 0.02 if used_water(ts) else 0.0
        rows.append(StoredReading(household, hub, "water", ts, round(register, 4)))
        if _quarter(ts) in {int(d * 4) for d in DOORS}:
            rows += [StoredReading(household, hub, "door", ts + 1, 1.0),
                     StoredReading(household, hub, "door", ts + 30, 0.0)]
    return rows


@pytest.fixture
def community(tmp_path: Path, embedded_mqtt: MqttSettings) -> Iterator[System]:
    """Red households of one grid, hh-a (hub h-a) and hh-b (hub h-b), on a clock 600x fast; and
    hh-c (hub h-c), whose hub's clock slipped an hour behind at 06:00 (stored until then)."""
    system = build(settings_for_test(tmp_path, embedded_mqtt, timezone="Asia/Shanghai",
                                     detector={"tick_s": 60}),
                   clock=FastClock(START, 600.0), with_api=False)
    registry = system.state.registry
    registry.add_grid(Grid("g-a", "东园网格"))
    registry.add_staff(username="member", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-a"], now=START)
    registry.add_staff(username="leader", name="周红", role=Role.DUTY_LEADER, grid_ids=[], now=START)
    for name in ("a", "b", "c"):
        registry.add_household(Household(f"hh-{name}", Tier.RED, "g-a", monitoring_since=START - 30 * DAY),
                               now=START)
        # reporting at least hourly: a hub is missed after three hours (18 s here), not 45 minutes
        # (4.5 s: found by CI, a detector still warming up on a loaded machine called h-a offline)
        registry.add_hub(Hub(f"h-{name}", f"hh-{name}", report_interval_s=3600), now=START)
        system.state.consent.record(Consent(f"hh-{name}", "王秀英", "self", sensing=True, share_with_family=False,
                                            given_at=START - 30 * DAY), actor=Actor("test"), now=START)
        system.readings.write(fortnight(f"hh-{name}", f"h-{name}", until=START - 3600 if name == "c" else START))
    system.start_services()
    yield system
    system.stop()


class FakeHubDay:
    """A hub publishing over MQTT at QoS 1 on its own topics, on the system's fast clock."""

    def __init__(self, system: System, mqtt: MqttSettings, hub_id: str) -> None:
        self.system, self.topic = system, f"{mqtt.topic_prefix}/hubs/{hub_id}"
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"{mqtt.client_id_prefix}-{hub_id}")
        self.client.connect("127.0.0.1", mqtt.embedded_port)
        self.client.loop_start()

    def at(self, ts: float) -> FakeHubDay:
        while self.system.clock.now() < ts:
            time.sleep(0.02)
        return self

    def send(self, sensor: str, ts: float, value: float) -> None:
        info = self.client.publish(f"{self.topic}/{sensor}", json.dumps({"ts": ts, "value": value}), qos=1)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def side_by_side(day: Callable[..., None], *homes: tuple[object, ...]) -> None:
    """Each home's day on a thread of its own, all at once, until every one has ended."""
    threads = [threading.Thread(target=day, args=home) for home in homes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_register_that_starts_again_from_zero_keeps_its_home_heard(
        community: System, embedded_mqtt: MqttSettings) -> None:
    """The hub rebooted at 07:00 and counts its pulses from 0, with no "reset": true (a meter
    rolling over or replaced alike). Every reading after it was refused as running back, for
    ever: none of 13 stored, and a hub that reported every 15 minutes called offline at 07:45."""
    hub, value = FakeHubDay(community, embedded_mqtt, "h-a"), 0.0
    try:
        hub.send("water", START - 60, value)  # rebooted, it reports at once
        for k in range(12):  # three hours, a report every 15 minutes
            ts = START + k * 900
            value += 0.02 if used_water(ts) else 0.0
            hub.at(ts).send("water", ts, round(value, 4))
            if _quarter(ts) in {int(d * 4) for d in DOORS}:  # and her day's doors, as every day
                hub.send("door", ts + 1, 1.0)
                hub.send("door", ts + 30, 0.0)
        hub.at(START + 3 * 3600 + 120)
    finally:
        hub.close()
    stored = community.readings.query(household_id="hh-a", start=START - 120, end=START + 4 * 3600)
    # the first reading near nothing waits for a second to confirm it (a failed read given as 0
    # is no restart): one dead letter, then every reading kept
    assert len([r for r in stored if r.sensor == "water"]) == 12 and community.state.dead_letters.count() == 1
    assert [a.explanation for a in community.state.alerts.list() if a.household_id == "hh-a"] == []


def test_a_chattering_door_contact_does_not_hide_a_collapse(
        community: System, embedded_mqtt: MqttSettings) -> None:
    """Both elders stop at 08:00; in hh-b the door contact then flips every 20 s (a loose
    magnet). Each flip was taken for her: hh-a was alerted on within about an hour and a half,
    hh-b never, not even at the safety limit."""
    def day(hub_id: str, chatter: bool) -> None:
        hub, register, door = FakeHubDay(community, embedded_mqtt, hub_id), 104.48, 0.0
        try:
            for i in range(int(4 * 3600 / 20)):
                ts = START + 20 * i
                hub.at(ts)
                if chatter and ts >= START + 3600:
                    door = 1.0 - door
                    hub.send("door", ts, door)
                if i % 45 == 0:
                    register += 0.02 if used_water(ts) and ts < START + 3600 else 0.0
                    hub.send("water", ts, round(register, 4))
        finally:
            hub.close()

    side_by_side(day, ("h-a", False), ("h-b", True))
    alerts = {a.household_id: a.kind for a in community.state.alerts.list()}
    assert alerts.get("hh-a") is AlertKind.INACTIVITY
    assert alerts.get("hh-b") is AlertKind.INACTIVITY, "a chattering door contact hid the elder's silence"


def test_a_hub_whose_clock_runs_an_hour_behind_raises_no_flood_of_false_alerts(
        community: System, embedded_mqtt: MqttSettings) -> None:
    """hh-a and hh-c live the same regular day; h-c stamps every reading an hour early (its
    clock slipped), though each arrives on time. Dated by the stamps, hh-c's elder was always an
    hour "silent": seven urgent false alerts in ten hours, each naming a wrong last use."""
    def day(hub_id: str, behind_s: float) -> None:
        hub, register = FakeHubDay(community, embedded_mqtt, hub_id), 104.48
        try:
            for k in range(6 * 4):  # six hours, a report every 15 minutes
                ts = START + k * 900
                hub.at(ts)
                register += 0.02 if used_water(ts) else 0.0
                hub.send("water", ts - behind_s, round(register, 4))
                if _quarter(ts) in {int(d * 4) for d in DOORS}:
                    hub.send("door", ts + 1 - behind_s, 1.0)
                    hub.send("door", ts + 30 - behind_s, 0.0)
        finally:
            hub.close()

    side_by_side(day, ("h-a", 0.0), ("h-c", 3600.0))
    inactivity = [a for a in community.state.alerts.list() if a.kind is AlertKind.INACTIVITY]
    assert [a.household_id for a in inactivity if a.household_id in ("hh-a", "hh-c")] == [], [
        a.explanation for a in inactivity]
    said = json.dumps(community.detector.health.report(), ensure_ascii=False)
    assert "hubs_late" in said and "h-c 60 min" in said  # the clock is a fault to fix, not only a way of dating


def test_a_meter_whose_reads_fail_as_zero_now_and_then_does_not_hide_a_collapse(
        community: System, embedded_mqtt: MqttSettings) -> None:
    """Both elders stop at 08:00; hh-b's meter gives 0 for one read in four (a failed read).
    Found by an attacker: each 0 was taken at once as a restart, the true value after it as a new
    series, and the jump between them as water drawn, a sign of life: hh-b was never alerted on."""
    def day(hub_id: str, glitch: bool) -> None:
        hub, register = FakeHubDay(community, embedded_mqtt, hub_id), 104.48
        try:
            for k in range(4 * 4):  # four hours, a report every 15 minutes
                ts = START + 900 * k
                hub.at(ts)
                register += 0.02 if used_water(ts) and ts < START + 3600 else 0.0
                failed = glitch and ts >= START + 3600 and k % 4 == 0
                hub.send("water", ts, 0.0 if failed else round(register, 4))
        finally:
            hub.close()

    side_by_side(day, ("h-a", False), ("h-b", True))
    alerts = {a.household_id: a.kind for a in community.state.alerts.list() if a.household_id in ("hh-a", "hh-b")}
    assert alerts == {"hh-a": AlertKind.INACTIVITY, "hh-b": AlertKind.INACTIVITY}
