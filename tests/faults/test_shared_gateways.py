"""Two gateways on one MQTT 5 shared subscription, one killed (kill -9) mid-stream: every reading
is stored exactly once.

Both are `shouwang gateway` processes against a private Mosquitto (deploy/mosquitto.conf's queue
and persistence settings), each with its own client id and persistent session, sharing SQLite
files. Mosquitto keeps what it had handed the killed gateway (unacknowledged: it acknowledges only
after committing) in that gateway's session; the survivor goes on with the stream, and the killed
one, started again as a supervisor (docker's `restart:`) would, gets those messages back.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings
from tests.faults.conftest import private_mosquitto
from tests.faults.test_kill9 import HUBS, reading, reading_key, register, stored
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]

READINGS = 6_000
RATE = 1_500
KILL_AT = 2_000


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    with private_mosquitto(tmp_path / "mosquitto") as port:
        yield port


class GatewayProcess:
    """`shouwang gateway` as a process of its own, on the shared subscription."""

    def __init__(self, data_dir: Path, broker_port: int, name: str, run: int, *, shared: bool = True) -> None:
        self.log_path = data_dir.parent / f"{name}-{run}.log"
        env = os.environ | {
            "SHOUWANG_MQTT__URL": f"mqtt://127.0.0.1:{broker_port}",
            "SHOUWANG_MQTT__PROTOCOL": "5",
            "SHOUWANG_MQTT__SHARED_GROUP": "gateways" if shared else "",
            "SHOUWANG_MQTT__GATEWAY__CLIENT_ID": name,
            "SHOUWANG_STORAGE__DATA_DIR": str(data_dir),
            "SHOUWANG_HEALTH__PORT": "0",
        }
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "gateway"],
                                            stdout=out, stderr=subprocess.STDOUT, env=env)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"shouwang gateway exited early:\n{self.log()[-3000:]}")
            return "gateway running" in self.log()
        wait_for(ready, timeout_s=30, what="shouwang gateway to start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def accepted(self) -> float:
        """Readings this gateway stored, from its own health endpoint's metrics."""
        return self.metric("shouwang_readings_accepted_total")

    def metric(self, name: str) -> float:
        url = re.search(r"health (http://\S+)/health", self.log())
        assert url is not None, self.log()
        metrics = httpx.get(f"{url.group(1)}/metrics", timeout=5).text
        found = re.search(rf"^{name} (\S+)$", metrics, re.M)
        return float(found.group(1)) if found else 0.0

    def duplicates_ignored(self) -> int:
        return sum(int(n) for n in re.findall(r"gateway\.duplicates_ignored count=(\d+)", self.log()))


def test_two_gateways_share_the_stream_and_one_killed_mid_stream_loses_and_doubles_nothing(
    broker: int, tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    register(data_dir)
    readings_db = data_dir / "readings.db"
    first = GatewayProcess(data_dir, broker, "gw-a", 0)
    second = GatewayProcess(data_dir, broker, "gw-b", 0)
    first.wait_ready()
    second.wait_ready()
    running = [second]
    publisher = MqttClient(MqttSettings(url=f"mqtt://127.0.0.1:{broker}"), client_id="shared-publisher")
    publisher.start()
    base = time.time() - READINGS / HUBS - 600
    started = time.monotonic()
    try:
        for i in range(READINGS):
            if i == KILL_AT:
                split = (first.accepted(), second.accepted())
                first.kill()
                at_kill = len(stored(readings_db))
            topic, payload = reading(i, base)
            publisher.publish(topic, payload, qos=1)
            ahead = started + i / RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        assert publisher.drain(30), "the broker did not acknowledge every published reading"
        survivor_alone = len(stored(readings_db))
        restarted = GatewayProcess(data_dir, broker, "gw-a", 1)  # its session: what it held comes back
        running.append(restarted)
        restarted.wait_ready()
        with contextlib.suppress(AssertionError):  # counted and explained below
            wait_for(lambda: len(stored(readings_db)) >= READINGS, timeout_s=40,
                     what=f"{READINGS} readings stored")
    finally:
        publisher.stop()
        codes = [process.terminate() for process in running]
    assert codes == [0] * len(running), [p.log()[-2000:] for p in running]

    rows = stored(readings_db)
    expected = {reading_key(i, base) for i in range(READINGS)}
    missing = expected - set(rows)
    repeated = {key for key, n in rows.items() if n > 1}
    summary = (f"two gateways, gw-a killed at reading {KILL_AT} of {READINGS}: stored {at_kill} by the kill, "
               f"{survivor_alone} once the stream ended with gw-b alone, {len(rows)} after gw-a came back; "
               f"(split before the kill {split[0]:.0f} / {split[1]:.0f}); missing {len(missing)}, "
               f"stored twice {len(repeated)}, redelivered and ignored "
               f"{sum(p.duplicates_ignored() for p in running)}")
    print(summary)
    assert survivor_alone > at_kill, "the surviving gateway went on storing the stream: " + summary
    assert not missing and not repeated and set(rows) == expected, summary
    assert split[0] > 0 and split[1] > 0, f"both gateways took part before the kill: {split}"


def test_a_gateway_moved_onto_the_shared_subscription_takes_only_its_share(broker: int, tmp_path: Path) -> None:
    """Its persistent session still holds the plain subscription of its unshared runs; kept, it would
    receive the whole stream besides its share (twice the work, every other reading a repeat)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    register(data_dir)
    alone = GatewayProcess(data_dir, broker, "gw-a", 0, shared=False)
    alone.wait_ready()
    assert alone.terminate() == 0, alone.log()[-2000:]
    first = GatewayProcess(data_dir, broker, "gw-a", 1)
    second = GatewayProcess(data_dir, broker, "gw-b", 0)
    running = [first, second]
    publisher = MqttClient(MqttSettings(url=f"mqtt://127.0.0.1:{broker}"), client_id="moved-publisher")
    try:
        first.wait_ready()
        second.wait_ready()
        publisher.start()
        base = time.time() - 1_000
        for i in range(1_000):
            publisher.publish(*reading(i, base), qos=1)
        assert publisher.drain(30), "the broker did not acknowledge every published reading"
        wait_for(lambda: len(stored(data_dir / "readings.db")) >= 1_000, timeout_s=30, what="1,000 readings stored")
        time.sleep(1)  # a copy through a leftover subscription would come with or just after its twin
        taken = [p.accepted() + p.metric("shouwang_readings_duplicate_total") for p in running]
    finally:
        publisher.stop()
        codes = [p.terminate() for p in running]
    assert codes == [0, 0], [p.log()[-2000:] for p in running]
    assert sum(taken) == 1_000, f"readings each gateway was handed (stored or repeated): {taken}"
    assert all(n > 0 for n in taken), taken
