"""kill -9 of the gateway mid-stream: every reading is stored exactly once.

A private Mosquitto (with `deploy/mosquitto.conf`'s queue and persistence settings) on a free port,
the real `shouwang run` as a separate process against it, SQLite files; 20,000 QoS 1 readings from
several consenting hubs while the process is killed (SIGKILL) three times and started again.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shouwang.broker import free_port
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.state import StateStore
from tests.faults.conftest import private_mosquitto
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]

READINGS = 20_000
HUBS = 4
RATE = 1_000  # readings a second, one a message
KILLS_AT = (5_000, 10_000, 15_000)  # readings published when each kill -9 comes
PREFIX = "shouwang/v1"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    with private_mosquitto(tmp_path / "mosquitto") as port:
        yield port


def register(data_dir: Path) -> None:
    state = StateStore.open(f"sqlite:///{data_dir / 'state.db'}")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    for n in range(HUBS):
        state.registry.add_household(Household(f"hh-{n}", Tier.RED, "g-1"), now=now)
        state.registry.add_hub(Hub(f"h-{n}", f"hh-{n}"), now=now)
        state.consent.record(Consent(f"hh-{n}", f"老人{n}", "self", sensing=True,
                                     share_with_family=False, given_at=now),
                             actor=Actor("test"), now=now)
    state.close()


class ShouwangProcess:
    """`shouwang run` against the test's Mosquitto, as a process of its own."""

    def __init__(self, data_dir: Path, broker_port: int, number: int) -> None:
        self.log_path = data_dir.parent / f"shouwang-{number}.log"
        env = os.environ | {
            "SHOUWANG_MQTT__URL": f"mqtt://127.0.0.1:{broker_port}",
            "SHOUWANG_STORAGE__DATA_DIR": str(data_dir),
            "SHOUWANG_API__PORT": str(free_port()),
            "SHOUWANG_COMMUNITY": "故障测试社区",  # a community of its own: run refuses the demo's name
        }
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "run"],
                                            stdout=out, stderr=subprocess.STDOUT, env=env)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"shouwang run exited early:\n{self.log()[-3000:]}")
            return "is running" in self.log()
        wait_for(ready, timeout_s=30, what="shouwang run to start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def duplicates_ignored(self) -> int:
        return sum(int(n) for n in re.findall(r"gateway\.duplicates_ignored count=(\d+)", self.log()))


def reading(i: int, base: float) -> tuple[str, bytes]:
    hub, k = i % HUBS, i // HUBS
    payload = {"ts": base + k, "value": round(k * 0.001, 3), "seq": k}
    return f"{PREFIX}/hubs/h-{hub}/water", json.dumps(payload).encode()


def stored(readings_db: Path) -> dict[tuple[str, str, float], int]:
    if not readings_db.exists():
        return {}
    with sqlite3.connect(f"file:{readings_db}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute("SELECT hub_id, sensor, ts, count(*) FROM readings GROUP BY 1, 2, 3").fetchall()
    db.close()
    return {(hub, sensor, ts): n for hub, sensor, ts, n in rows}


def test_kill9_mid_stream_stores_every_reading_exactly_once(broker: int, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    register(data_dir)
    processes = [ShouwangProcess(data_dir, broker, 0)]
    processes[0].wait_ready()
    publisher = MqttClient(MqttSettings(url=f"mqtt://127.0.0.1:{broker}"), client_id="kill9-publisher")
    publisher.start()
    base = time.time() - READINGS / HUBS - 600
    started = time.monotonic()
    try:
        for i in range(READINGS):
            if i in KILLS_AT:
                processes[-1].wait_ready()
                processes[-1].kill()
                processes.append(ShouwangProcess(data_dir, broker, len(processes)))
            topic, payload = reading(i, base)
            publisher.publish(topic, payload, qos=1)
            ahead = started + i / RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        assert publisher.drain(30), "the broker did not acknowledge every published reading"
    finally:
        publisher.stop()
    last = processes[-1]
    last.wait_ready()
    readings_db = data_dir / "readings.db"
    try:
        wait_for(lambda: len(stored(readings_db)) >= READINGS, timeout_s=40,
                 what=f"{READINGS} readings stored")
    except AssertionError:
        pass  # counted and explained below
    finally:
        assert last.terminate() == 0, last.log()[-3000:]

    assert "deploy/mosquitto.conf sets max_queued_messages 2000000" in processes[0].log()
    rows = stored(readings_db)
    expected = {reading_key(i, base): i for i in range(READINGS)}
    missing = sorted(i for key, i in expected.items() if key not in rows)
    lost = [sum(1 for i in missing if lo <= i < hi)
            for lo, hi in zip((0, *KILLS_AT), (*KILLS_AT, READINGS), strict=True)]
    redelivered = [p.duplicates_ignored() for p in processes[1:]]
    repeated = {key: n for key, n in rows.items() if n > 1}
    summary = (f"kill -9 ×{len(KILLS_AT)} over {READINGS} readings: lost before each kill {lost[:-1]}, "
               f"after the last {lost[-1]}; redelivered and ignored after each kill {redelivered}; "
               f"stored twice {len(repeated)}; extra {len(set(rows) - set(expected))}")
    print(summary)
    assert not missing and not repeated and set(rows) == set(expected), summary


def reading_key(i: int, base: float) -> tuple[str, str, float]:
    return f"h-{i % HUBS}", "water", base + i // HUBS
