"""docker-compose.yml's topology, run as processes: Docker cannot run here, so each Shouwang service
of the compose file runs as `shouwang <its command>` with the environment the file gives it,
translated to local addresses (the broker → a private Mosquitto with the password file and ACL
`shouwang hubs provision --all` wrote; PostgreSQL → the machine's; InfluxDB, absent here → the
SQLite reading store). End to end: a reading published by a hub with its own login becomes an
alert, which reaches a webhook and is acknowledged through the API.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cli.main import main
from shouwang.broker import free_port
from shouwang.contract.topics import reading_topic
from shouwang.domain.model import Grid, Household, Hub, Role, Tier
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.faults.conftest import private_mosquitto
from tests.support import WebhookReceiver, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
DOTENV = {  # what an operator puts in .env (.env.example's names)
    "SHOUWANG_COMMUNITY": "拓扑测试社区", "SHOUWANG_TIMEZONE": "Asia/Shanghai",
    "SHOUWANG_API__PUBLIC_URL": "http://127.0.0.1:1", "SHOUWANG_SECRET_KEY": "topology-secret-0123456789",
    "SHOUWANG_API__METRICS_TOKEN": "metrics-token-0123456789", "POSTGRES_PASSWORD": "unused-here",
    "INFLUX_ADMIN_PASSWORD": "unused-here", "INFLUX_TOKEN": "unused-here",
    "SHOUWANG_MQTT__GATEWAY__PASSWORD": "gateway-pw-0123456789",
    "SHOUWANG_MQTT__DETECTOR__PASSWORD": "detector-pw-0123456789",
    "SHOUWANG_MQTT__DISPATCH__PASSWORD": "dispatch-pw-0123456789",
}
TEST_ONLY = {  # so an alert comes within seconds: the fixed rules, a 3-second water run
    "SHOUWANG_DETECTOR__ALGORITHM": "fixed", "SHOUWANG_DETECTOR__TICK_S": "0.5",
    "SHOUWANG_DETECTOR__WATER_RUN_MAX_MIN": "0.05", "SHOUWANG_DISPATCH__POLL_S": "0.2",
}


def interpolate(value: str) -> str:
    """Compose's ${VAR:?message} and ${VAR:-default}, from DOTENV."""
    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        if name in DOTENV:
            return DOTENV[name]
        assert default is not None, f"{name} is required by docker-compose.yml and not in the test's .env"
        return default
    return re.sub(r"\$\{(\w+)(:\?[^}]*|:-([^}]*))?\}", one, value)


def local_environment(service: dict[str, Any], *, broker: int, state_url: str, folder: Path) -> dict[str, str]:
    """The service's compose environment, with local addresses in place of the containers'."""
    env = {name: interpolate(str(value)) for name, value in service["environment"].items()}
    assert env.pop("SHOUWANG_MQTT__URL") == "mqtt://mosquitto:1883"
    assert env.pop("SHOUWANG_STORAGE__STATE_URL").startswith("postgresql+psycopg://shouwang:")
    assert env.pop("SHOUWANG_STORAGE__READINGS") == "influx"
    for name in ("INFLUX_URL", "INFLUX_TOKEN", "INFLUX_ORG", "INFLUX_BUCKET"):
        env.pop(f"SHOUWANG_STORAGE__{name}")
    assert env.pop("SHOUWANG_STORAGE__DATA_DIR") == "/data"
    folder.mkdir(parents=True, exist_ok=True)
    return env | TEST_ONLY | {
        "SHOUWANG_MQTT__URL": f"mqtt://127.0.0.1:{broker}",
        "SHOUWANG_STORAGE__STATE_URL": state_url,
        "SHOUWANG_STORAGE__READINGS_PATH": str(folder.parent / "readings.db"),  # shared, as Influx is
        "SHOUWANG_STORAGE__DATA_DIR": str(folder),
        "SHOUWANG_HEALTH__HOST": "127.0.0.1", "SHOUWANG_HEALTH__PORT": str(free_port()),
    }


class Service:
    def __init__(self, name: str, command: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SHOUWANG_")}
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "cli.main", *command], cwd=folder,
                                            env=clean | env, stdout=out, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


def register(state_url: str, hooks: WebhookReceiver) -> str:
    """A consenting red household with hub h-1 and its grid member; the member's API token."""
    state = StateStore.open(state_url)
    now = time.time()
    try:
        state.registry.add_grid(Grid("g-1", "一网格"))
        member = state.registry.add_staff(username="member", name="王芳", role=Role.GRID_MEMBER,
                                          grid_ids=["g-1"], webhook_url=hooks.url("member"),
                                          notify_mqtt=False, now=now)
        state.registry.add_household(Household("hh-1", Tier.RED, "g-1"), now=now)
        state.registry.add_hub(Hub("h-1", "hh-1"), now=now)
        state.consent.record(Consent("hh-1", "老人", "self", sensing=True, share_with_family=False,
                                     given_at=now), actor=Actor("test"), now=now)
        token: str = state.registry.issue_token(member.id, name="test", now=now)
        return token
    finally:
        state.close()


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def no_logged_errors() -> Iterator[None]:
    """The roles run in their own processes; the test reads their logs itself."""
    yield


def test_the_compose_topology_as_processes_takes_a_hubs_reading_to_an_acknowledged_alert(
    postgres_url: str, hooks: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    # The one-shot steps first, as compose runs them: the store is upgraded (here: made) by
    # `migrate`; `influx-setup` needs InfluxDB 2, which this machine has not (the readings
    # go to one shared SQLite file instead), so it is not run here.
    migrate = compose["services"]["migrate"]
    made = subprocess.run(
        [sys.executable, "-m", "cli.main", *migrate["command"]], capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("SHOUWANG_")}
        | local_environment(migrate, broker=1883, state_url=postgres_url, folder=tmp_path / "migrate"),
        cwd=tmp_path / "migrate", timeout=120, check=False)
    assert made.returncode == 0 and "created a new state store" in made.stdout, made.stdout + made.stderr
    token = register(postgres_url, hooks)
    for name, value in DOTENV.items():
        if name.startswith("SHOUWANG_MQTT__"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("SHOUWANG_STORAGE__STATE_URL", postgres_url)
    auth = tmp_path / "mosquitto-files"
    assert main(["hubs", "provision", "--all", "--mosquitto-dir", str(auth)]) == 0
    hub_password = dict(line.split(",") for line in capsys.readouterr().out.splitlines()
                        if line.startswith("h-"))["h-1"]

    # Made once before the roles start, as the InfluxDB bucket is (five processes switching a new
    # SQLite file to WAL at once wait on each other's locks for up to their 30-second timeout).
    SqliteReadingStore(tmp_path / "readings.db").close()
    with private_mosquitto(tmp_path / "mosquitto", auth=auth) as broker:
        services: dict[str, Service] = {}
        api_port = free_port()
        try:
            for name, service in compose["services"].items():
                if service.get("build") != "." or service.get("restart") == "no":
                    continue
                env = local_environment(service, broker=broker, state_url=postgres_url,
                                        folder=tmp_path / name)
                command = [str(part) for part in service["command"]]
                if command[0] == "api":
                    command = ["api", "--workers", "1", "--host", "127.0.0.1", "--port", str(api_port)]
                services[name] = Service(name, command, env, tmp_path / name)
            assert set(services) == {"gateway-1", "gateway-2", "detector", "dispatch", "api"}
            api = f"http://127.0.0.1:{api_port}"
            for name, service in services.items():
                wait_for(lambda s=service: s.process.poll() is not None or "running" in s.log()
                         or "Shouwang API on" in s.log(), timeout_s=60, what=f"{name} to start")
                assert service.process.poll() is None, service.log()[-3000:]
            wait_for(lambda: _up(api), timeout_s=20, what="the API to answer")

            hub = MqttClient(MqttSettings(url=f"mqtt://h-1:{hub_password}@127.0.0.1:{broker}", protocol="5"),
                             client_id="hub-h-1")
            hub.start()
            try:
                start = time.time()
                for second in range(8):  # water drawn without a pause: the register keeps rising
                    hub.publish_confirmed(reading_topic("shouwang/v1", "h-1", "water"),
                                          json.dumps({"ts": start + second, "value": 1.0 + 0.001 * second}))
                    time.sleep(max(0.0, start + second + 1 - time.time()))
            finally:
                hub.stop()
            delivered = wait_for(lambda: hooks.to("member"), timeout_s=20, what="the webhook notification")
            alert_id = delivered[0]["alert"]["id"]
            assert delivered[0]["alert"]["kind"] == "water_running"
            headers = {"Authorization": f"Bearer {token}"}
            answer = httpx.post(f"{api}/alerts/{alert_id}/acknowledge", headers=headers, timeout=10)
            assert answer.status_code == 200, answer.text
            assert httpx.get(f"{api}/alerts/{alert_id}", headers=headers, timeout=10).json()["state"] == \
                "acknowledged"
            for name in ("gateway-1", "gateway-2", "detector", "dispatch"):
                port = services[name].log()
                url = re.search(r"health (http://\S+/health)", port)
                assert url is not None, port
                assert httpx.get(url.group(1), timeout=5).json()["status"] == "ok", name
        finally:
            codes = {name: service.stop() for name, service in services.items()}
    # uvicorn (the API) re-raises the SIGTERM it shut down on, so it ends by that signal.
    assert codes == {"gateway-1": 0, "gateway-2": 0, "detector": 0, "dispatch": 0, "api": -signal.SIGTERM} or \
        codes == dict.fromkeys(codes, 0), (codes, {n: services[n].log()[-1500:] for n in codes})


def _up(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
