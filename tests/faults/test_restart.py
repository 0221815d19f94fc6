"""Restarts (kill -9, SIGTERM) of the real system keep the alerts whose condition still holds.

For each detector and state store (SQLite, and PostgreSQL where present), `shouwang run` (its own
process: embedded broker on a free port, gateway, detector, dispatch, API) is started on stores
holding two open inactivity alerts of red households whose hubs report flat meters: one whose last
sign of life is 16 hours old (older than any window of readings re-read at start), one that never
showed a sign. The red ladder is shortened to seconds. The system is killed with SIGKILL after the
first rung, restarted, stopped with SIGTERM after the second, and started again: the alerts must
stay open, nobody be told they cleared, and each rung be climbed and notified exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from shouwang.broker import free_port
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Finding, Severity
from shouwang.domain.delivery import DeliveryEvent
from shouwang.domain.model import Grid, Household, Hub, Role, StoredReading, Tier
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.audit_query import AuditFilter
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from shouwang.storage.status import HouseholdStatus
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.slow]
RUNG_MIN = 0.15
"""Minutes between rungs of the red ladder in this test (9 seconds)."""
SILENT, NEVER = "hh-silent", "hh-never"
HISTORY_H = 20


def seed(data: Path, state_url: str, now: float) -> dict[str, int]:
    """The community as a detector left it: two open alerts, the readings they rest on, and
    the status it kept (the last sign of life)."""
    state = StateStore.open(state_url)
    readings = SqliteReadingStore(data / "readings.db")
    try:
        since = now - HISTORY_H * 3600
        state.registry.add_grid(Grid("g-a", "东园网格"))
        for username, role in (("member", Role.GRID_MEMBER), ("head", Role.GRID_HEAD),
                               ("leader", Role.DUTY_LEADER)):
            state.registry.add_staff(username=username, name=username, role=role,
                                     grid_ids=[] if role is Role.DUTY_LEADER else ["g-a"], now=since)
        alerts = {}
        for household_id, sign_at in ((SILENT, now - 16 * 3600), (NEVER, None)):
            state.registry.add_household(Household(household_id, Tier.RED, "g-a",
                                                   monitoring_since=since), now=since)
            state.registry.add_hub(Hub(f"h-{household_id}", household_id), now=since)
            state.consent.record(Consent(household_id, "elder", "self", sensing=True,
                                         share_with_family=False, given_at=since),
                                 actor=Actor("test"), now=since)
            value, rows = 10.0, []
            for k in range(int((now - since) / 900) + 1):
                ts = since + k * 900
                if sign_at is not None and ts >= sign_at:
                    value = 10.02  # one draw of water, then nothing
                rows.append(StoredReading(household_id, f"h-{household_id}", "water", ts, value))
            readings.write(rows)
            opened = state.alerts.open(Finding(household_id, AlertKind.INACTIVITY, Severity.URGENT,
                                               sign_at or since, "no sign of life"), now=now - 60)
            assert opened is not None
            alerts[household_id] = opened.id
        state.status.save([HouseholdStatus(SILENT, now - 16 * 3600, "water", None, now - 60,
                                           now - 60)])  # what the detector knew of the sign
        return alerts
    finally:
        readings.close()
        state.close()


class Shouwang:
    """`shouwang run` in a process of its own, on the test's data folder."""

    def __init__(self, data: Path, state_url: str, algorithm: str) -> None:
        self.data = data
        self.state_url = state_url
        self.env = {
            **os.environ,
            "SHOUWANG_COMMUNITY": "重启测试社区",  # run refuses the demo's name outside the demo
            "SHOUWANG_STORAGE__DATA_DIR": str(data),
            "SHOUWANG_STORAGE__STATE_URL": state_url,
            "SHOUWANG_DETECTOR__ALGORITHM": algorithm,
            "SHOUWANG_DETECTOR__TICK_S": "1",
            "SHOUWANG_DISPATCH__LADDERS_MIN": json.dumps({"red": [RUNG_MIN, RUNG_MIN]}),
            "SHOUWANG_DISPATCH__POLL_S": "0.1",
            "SHOUWANG_DISPATCH__RETRY_INITIAL_S": "0.2",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.lives = 0
        self.mqtt_port = 0

    def start(self) -> None:
        self.lives += 1
        self.mqtt_port = free_port()
        env = {**self.env, "SHOUWANG_MQTT__EMBEDDED_PORT": str(self.mqtt_port),
               "SHOUWANG_API__PORT": str(free_port())}
        log = (self.data / f"run-{self.lives}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())", "run"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(lambda: "is running" in self.output(), timeout_s=60,
                 what=f"`shouwang run` to start (life {self.lives})")

    def heartbeat(self, readings: SqliteReadingStore) -> None:
        """Both hubs report their (unchanged) meters now, over MQTT; wait until stored."""
        now = time.time()
        hub = MqttClient(MqttSettings(embedded_port=self.mqtt_port),
                         client_id=f"test-hubs-{self.lives}")
        hub.start()
        try:
            for household_id, value in ((SILENT, 10.02), (NEVER, 10.0)):
                hub.publish(f"shouwang/v1/hubs/h-{household_id}/water",
                            json.dumps({"ts": now, "value": value}))
            hub.drain()
        finally:
            hub.stop()
        wait_for(lambda: all(readings.query(household_id=h, start=now, end=now + 1)
                             for h in (SILENT, NEVER)), what="the hubs' reports stored")

    def output(self) -> str:
        return (self.data / f"run-{self.lives}.log").read_text(errors="replace")

    def end(self, how: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(how)
        code = self.process.wait(timeout=60)
        if how is signal.SIGTERM:
            assert code == 0, self.output()
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def system(tmp_path: Path, any_state_url: str, request: pytest.FixtureRequest) -> Iterator[Shouwang]:
    running = Shouwang(tmp_path / "data", any_state_url, request.param)
    yield running
    running.kill()


def levels(state: StateStore, alerts: dict[str, int]) -> dict[str, tuple[AlertState, int, int]]:
    found: dict[str, Alert] = {h: state.alerts.get(i) for h, i in alerts.items()}
    return {h: (a.state, a.escalation_level, a.notified_level) for h, a in found.items()}


def reached(state: StateStore, alerts: dict[str, int], level: int) -> bool:
    """Both alerts climbed to `level` and its recipients' notifications were all delivered."""
    if any(a[2] < level for a in levels(state, alerts).values()):
        return False
    return all(d.delivered_at is not None
               for i in alerts.values() for d in state.alerts.deliveries(i))


@pytest.mark.parametrize("system", ["fixed", "learned"], indirect=True)
def test_restarts_keep_open_alerts_and_escalation_climbs_each_rung_once(
        system: Shouwang) -> None:
    started = time.time()
    alerts = seed(system.data, system.state_url, started)
    state = StateStore.open(system.state_url)
    readings = SqliteReadingStore(system.data / "readings.db")
    try:
        system.start()
        system.heartbeat(readings)
        wait_for(lambda: reached(state, alerts, 0), timeout_s=30, what="the grid member told")
        system.end(signal.SIGKILL)
        system.start()
        system.heartbeat(readings)
        wait_for(lambda: reached(state, alerts, 1), timeout_s=60, what="the grid head told")
        system.end(signal.SIGTERM)
        system.start()
        system.heartbeat(readings)
        wait_for(lambda: reached(state, alerts, 2), timeout_s=60, what="the duty leader told")
        time.sleep(3)  # a few more ticks of the detector
        system.end(signal.SIGTERM)
        assert levels(state, alerts) == {h: (AlertState.OPEN, 2, 2) for h in alerts}
        roster = {s.id: s.username for s in state.registry.roster()}
        for household_id, alert_id in alerts.items():
            told = Counter((roster[d.staff_id], d.channel.value, d.event)
                           for d in state.alerts.deliveries(alert_id))
            assert told == Counter({("member", "mqtt", DeliveryEvent.OPENED): 1,
                                    ("head", "mqtt", DeliveryEvent.ESCALATED): 1,
                                    ("leader", "mqtt", DeliveryEvent.ESCALATED): 1}), household_id
            trail, _ = state.audit_query.search(AuditFilter(entity="alert", entity_id=str(alert_id)))
            steps = Counter(e.action for e in trail if e.action != "delivered")
            assert steps == Counter({"opened": 1, "routed": 3, "escalated": 2}), household_id
        # the last sign of life, older than any window re-read, is still known after restarts
        assert state.status.all()[SILENT].last_sign_at == started - 16 * 3600
    finally:
        readings.close()
        state.close()
