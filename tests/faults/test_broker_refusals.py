"""A broker that refuses a hub or a role: the refusal is seen and reported, never taken for success.

A private Mosquitto on a free port with the password file and ACL `shouwang hubs provision --all`
wrote (its `$7$` hashes checked by Mosquitto itself), MQTT 5 (3.1.1 cannot say a publish was
refused), SQLite stores.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli import mosquitto
from cli.main import main
from dispatch.channels import MqttSender
from dispatch.service import Dispatcher
from gateway.service import Gateway
from shouwang.broker import free_port
from shouwang.clock import SystemClock
from shouwang.contract.topics import reading_topic
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.delivery import Channel, DeliveryStatus
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Grid, Household, Hub, Role, Tier
from shouwang.health import Health
from shouwang.metrics import Metrics
from shouwang.mqtt import BrokerUnavailable, MqttClient, PublishRefused
from shouwang.settings import DispatchSettings, GatewaySettings, MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.conftest import reachable
from tests.faults.conftest import MOSQUITTO, private_mosquitto
from tests.support import wait_for

pytestmark = [pytest.mark.faults]
PREFIX = "shouwang/v1"
ROLE_PASSWORDS = {"gateway": "gateway-pass-0123456789", "detector": "detector-pass-0123456789",
                  "dispatch": "dispatch-pass-0123456789", "simulator": "simulator-pass-0123456789"}


@dataclass
class Community:
    state: StateStore
    data_dir: Path
    port: int
    hub_passwords: dict[str, str]

    def mqtt(self, **login: object) -> MqttSettings:
        values: dict[str, object] = {"url": f"mqtt://127.0.0.1:{self.port}", "protocol": "5", **login}
        return MqttSettings(**values)  # type: ignore[arg-type]

    def as_role(self, role: str, login_as: str | None = None) -> MqttSettings:
        """Settings for `role`, logging in as `login_as`'s account (its own by default)."""
        who = login_as or role
        return self.mqtt(**{role: {"username": f"shouwang-{who}", "password": ROLE_PASSWORDS[who]}})

    def as_hub(self, hub_id: str) -> MqttClient:
        settings = self.mqtt(url=f"mqtt://{hub_id}:{self.hub_passwords[hub_id]}@127.0.0.1:{self.port}")
        return MqttClient(settings, client_id=f"hub-{hub_id}")


def register(data_dir: Path) -> StateStore:
    state = StateStore.open(f"sqlite:///{data_dir / 'state.db'}")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    for n in (1, 2):
        state.registry.add_household(Household(f"hh-{n}", Tier.RED, "g-1"), now=now)
        state.registry.add_hub(Hub(f"h-{n}", f"hh-{n}"), now=now)
        state.consent.record(Consent(f"hh-{n}", f"老人{n}", "self", sensing=True, share_with_family=False,
                                     given_at=now), actor=Actor("test"), now=now)
    return state


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> Iterator[Community]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    state = register(data_dir)
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(data_dir))
    for role, password in ROLE_PASSWORDS.items():
        monkeypatch.setenv(f"SHOUWANG_MQTT__{role.upper()}__USERNAME", f"shouwang-{role}")
        monkeypatch.setenv(f"SHOUWANG_MQTT__{role.upper()}__PASSWORD", password)
    auth = tmp_path / "auth"
    assert main(["hubs", "provision", "--all", "--mosquitto-dir", str(auth)]) == 0
    printed = capsys.readouterr().out
    hub_passwords = dict(line.split(",") for line in printed.splitlines() if line.startswith("h-"))
    assert set(hub_passwords) == {"h-1", "h-2"}
    assert "SHOUWANG_MQTT__" not in printed, "configured role passwords are not issued anew"
    for role in ROLE_PASSWORDS:
        monkeypatch.delenv(f"SHOUWANG_MQTT__{role.upper()}__USERNAME")
        monkeypatch.delenv(f"SHOUWANG_MQTT__{role.upper()}__PASSWORD")
    with private_mosquitto(tmp_path / "mosquitto", auth=auth) as port:
        yield Community(state, data_dir, port, hub_passwords)
    state.close()


@pytest.fixture
def no_logged_errors() -> Iterator[None]:
    """These tests make the broker refuse on purpose: its refusals are logged as errors, as they
    must be (each test checks what was reported instead)."""
    yield


def gateway(community: Community, readings: SqliteReadingStore, mqtt: MqttSettings,
            **settings: float) -> Gateway:
    return Gateway(mqtt=mqtt, settings=GatewaySettings(flush_interval_s=0.05, **settings),  # type: ignore[arg-type]
                   readings=readings, state=community.state, clock=SystemClock(), metrics=Metrics())


def test_a_password_made_by_provision_logs_in_to_mosquitto_and_a_wrong_one_is_refused(
    community: Community,
) -> None:
    hub = community.as_hub("h-1")
    hub.start()
    hub.stop()
    wrong = MqttClient(community.mqtt(url=f"mqtt://h-1:not-its-password@127.0.0.1:{community.port}"),
                       client_id="hub-h-1-impostor")
    with pytest.raises(BrokerUnavailable, match=r"[Nn]ot authori[sz]ed|[Bb]ad user name or password"):
        wrong.start(timeout_s=3)


def test_a_hub_publishing_under_another_hubs_id_is_refused_by_the_broker_and_stored_nowhere(
    community: Community,
) -> None:
    readings = SqliteReadingStore(community.data_dir / "readings.db")
    service = gateway(community, readings, community.as_role("gateway"))
    service.start()
    hub = community.as_hub("h-1")
    hub.start()
    now = time.time()
    try:
        hub.publish_confirmed(reading_topic(PREFIX, "h-1", "water"), f'{{"ts": {now}, "value": 1.5}}')
        with pytest.raises(PublishRefused, match=r"[Nn]ot authori[sz]ed"):
            hub.publish_confirmed(reading_topic(PREFIX, "h-2", "water"), f'{{"ts": {now}, "value": 9.5}}')
        wait_for(lambda: service.stored == 1, what="h-1's own reading stored")
        assert service.wait_idle()
    finally:
        hub.stop()
        service.stop()
    assert [r.hub_id for r in readings.query(household_id="hh-1", start=0, end=now + 1)] == ["h-1"]
    assert readings.query(household_id="hh-2", start=0, end=now + 1) == []
    readings.close()


def test_the_gateway_refuses_a_hub_id_it_does_not_know_even_where_the_broker_let_it_through(
    community: Community,
) -> None:
    """The simulator's login may write under every hub id; the gateway still checks the hub."""
    readings = SqliteReadingStore(community.data_dir / "readings.db")
    service = gateway(community, readings, community.as_role("gateway"))
    service.start()
    simulator = MqttClient(community.as_role("simulator"), role="simulator")
    simulator.start()
    try:
        simulator.publish_confirmed(reading_topic(PREFIX, "h-9", "water"), f'{{"ts": {time.time()}, "value": 1}}')
        wait_for(lambda: community.state.dead_letters.count() == 1, what="the reading dead-lettered")
    finally:
        simulator.stop()
        service.stop()
    assert service.stored == 0
    [letter] = community.state.dead_letters.recent(10)
    assert (letter.hub_id, letter.category) == ("h-9", "unknown_hub")
    readings.close()


def test_dispatch_logged_in_without_publish_rights_records_failed_deliveries_not_delivered(
    community: Community,
) -> None:
    """The issue's case: dispatch logged in as the gateway, whose account may not publish alerts."""
    state = community.state
    member = state.registry.add_staff(username="m", name="m", role=Role.GRID_MEMBER, grid_ids=["g-1"],
                                      now=time.time())
    health = Health("dispatch")
    client = MqttClient(community.as_role("dispatch", login_as="gateway"), role="dispatch", health=health)
    client.start()
    service = Dispatcher(settings=DispatchSettings(poll_s=0.05, retry_initial_s=0.05, retry_max_s=0.2),
                         state=state, clock=SystemClock(), metrics=health.metrics,
                         senders={Channel.MQTT: MqttSender(client, prefix=PREFIX)})
    try:
        alert = state.alerts.open(Finding("hh-1", AlertKind.WATER_RUNNING, Severity.URGENT, time.time(),
                                          "water running"), now=time.time())
        assert alert is not None
        service.start()
        wait_for(lambda: any(d.attempts >= 2 for d in state.alerts.deliveries(alert.id)),
                 what="the refused notification tried again")
    finally:
        service.stop()
        client.stop()
    [delivery] = [d for d in state.alerts.deliveries(alert.id) if d.staff_id == member.id]
    assert delivery.status is DeliveryStatus.PENDING and delivery.delivered_at is None
    assert "Not authorized" in (delivery.last_error or "") and "shouwang-gateway" in (delivery.last_error or "")
    report = health.report()
    assert report["status"] == "failing"
    assert [p["problem"] for p in report["problems"]] == ["publish_refused"]
    assert health.count("publish_refused") >= 2


def test_a_gateway_logged_in_without_read_rights_reports_that_it_hears_nothing(
    community: Community, caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's other case: the gateway logged in as dispatch stores nothing. Mosquitto grants
    the subscription its ACL denies (SUBACK 1) and then delivers nothing, so the gateway tells
    from the silence: hubs are registered, the connection is up, and nothing comes."""
    readings = SqliteReadingStore(community.data_dir / "readings.db")
    service = gateway(community, readings, community.as_role("gateway", login_as="dispatch"),
                      quiet_alarm_s=1.0)
    hub = community.as_hub("h-1")
    with caplog.at_level(logging.ERROR):
        service.start()
        hub.start()
        try:
            hub.publish_confirmed(reading_topic(PREFIX, "h-1", "water"), f'{{"ts": {time.time()}, "value": 1}}')
            wait_for(lambda: not service.health.ok, timeout_s=10, what="the gateway to report")
        finally:
            hub.stop()
            service.stop()
    assert service.stored == 0
    [problem] = service.health.report()["problems"]
    assert problem["problem"] == "nothing_heard" and "shouwang/v1/hubs/#" in problem["message"]
    assert any("nothing_heard" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    readings.close()


DYNSEC = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")


def test_a_gateway_whose_subscription_the_broker_refuses_reports_it(tmp_path: Path) -> None:
    """Mosquitto's dynamic-security plugin (unlike its ACL file) answers a denied subscription with
    a SUBACK failure code (0x87 on MQTT 5), as other brokers do: the gateway reports that at once."""
    if not DYNSEC.exists():
        pytest.skip(f"{DYNSEC} is absent (Mosquitto's dynamic security plugin)")
    salt = os.urandom(12)
    key = hashlib.pbkdf2_hmac("sha512", b"gw-pass", salt, 101)
    config = {"defaultACLAccess": {"publishClientSend": True, "publishClientReceive": True,
                                   "subscribe": False, "unsubscribe": True},
              "clients": [{"username": "shouwang-gateway", "password": base64.b64encode(key).decode(),
                           "salt": base64.b64encode(salt).decode(), "iterations": 101, "roles": []}],
              "groups": [], "roles": []}
    (tmp_path / "dynsec.json").write_text(json.dumps(config))
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\nplugin {DYNSEC}\n"
                    f"plugin_opt_config_file {tmp_path / 'dynsec.json'}\n"
                    + ("user root\n" if os.geteuid() == 0 else ""))
    with (tmp_path / "mosquitto.log").open("wb") as out:
        broker = subprocess.Popen([str(MOSQUITTO), "-c", str(conf)], stdout=out, stderr=out)
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    readings = SqliteReadingStore(tmp_path / "readings.db")
    try:
        wait_for(lambda: reachable("127.0.0.1", port), timeout_s=10, what="mosquitto to listen")
        mqtt = MqttSettings(url=f"mqtt://127.0.0.1:{port}", protocol="5",
                            gateway={"username": "shouwang-gateway", "password": "gw-pass"})
        service = Gateway(mqtt=mqtt, settings=GatewaySettings(), readings=readings, state=state,
                          clock=SystemClock(), metrics=Metrics())
        service.start()
        try:
            [problem] = service.health.report()["problems"]
        finally:
            service.stop()
    finally:
        readings.close()
        state.close()
        broker.terminate()
        broker.wait(10)
    assert problem["problem"] == "subscribe_refused"
    assert "Not authorized" in problem["message"] and "user shouwang-gateway" in problem["message"]


def test_a_hub_whose_id_is_a_staff_id_cannot_read_that_staff_members_alerts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a privacy tester: a staff member's phone app logged in as the bare staff id, and the
    ACL's `pattern read shouwang/v1/staff/%u/alerts` held for every login, hubs included. Hub `2`,
    a device in a home of another grid, read every alert sent to staff member 2: the elders' names,
    addresses and acknowledgement links. Phone apps now log in as `staff-<id>`, which no hub id may
    be, and each has its own ACL lines."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    state = register(data_dir)
    now = time.time()
    state.registry.add_grid(Grid("g-2", "二网格"))
    state.registry.add_household(Household("hh-3", Tier.GREEN, "g-2"), now=now)
    state.registry.add_hub(Hub("2", "hh-3"), now=now)
    with pytest.raises(InvalidInput, match="staff- are the MQTT logins"):
        state.registry.add_hub(Hub("staff-1", "hh-3"), now=now)
    members = [state.registry.add_staff(username=f"m{n}", name=f"m{n}", role=Role.GRID_MEMBER,
                                        grid_ids=["g-1"], now=now) for n in (1, 2)]
    assert [m.id for m in members] == [1, 2]
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(data_dir))
    monkeypatch.setenv("SHOUWANG_MQTT__DISPATCH__PASSWORD", ROLE_PASSWORDS["dispatch"])
    auth = tmp_path / "auth"
    assert main(["hubs", "provision", "--all", "--mosquitto-dir", str(auth)]) == 0
    hub_password = dict(line.split(",") for line in capsys.readouterr().out.splitlines()
                        if line.count(",") == 1)["2"]
    assert main(["hubs", "provision", "--staff", "m2", "--mosquitto-dir", str(auth)]) == 0
    app_password = capsys.readouterr().out.split("MQTT username staff-2, password ")[1].split(";")[0]
    acl = (auth / mosquitto.ACL_FILE).read_text()
    assert "%u" not in acl and "user staff-2\ntopic read shouwang/v1/staff/2/alerts" in acl
    assert "staff-1" not in acl, "only a staff member with an app login is in the ACL"

    heard: dict[str, list[str]] = {"hub": [], "app": [], "app-other": []}

    def listener(name: str, user: str, password: str, topic: str) -> MqttClient:
        settings = MqttSettings(url=f"mqtt://{user}:{password}@127.0.0.1:{port}", protocol="5")  # type: ignore[arg-type]
        return MqttClient(settings, client_id=f"listen-{name}", subscriptions=[topic],
                          on_message=lambda message: heard[name].append(message.payload.decode()))

    with private_mosquitto(tmp_path / "mosquitto", auth=auth) as port:
        clients = [listener("hub", "2", hub_password, f"{PREFIX}/staff/2/alerts"),
                   listener("app", "staff-2", app_password, f"{PREFIX}/staff/2/alerts"),
                   listener("app-other", "staff-2", app_password, f"{PREFIX}/staff/1/alerts")]
        for client in clients:
            client.start()
        dispatch = MqttClient(MqttSettings(url=f"mqtt://127.0.0.1:{port}", protocol="5",  # type: ignore[arg-type]
                                           dispatch={"username": "shouwang-dispatch",
                                                     "password": ROLE_PASSWORDS["dispatch"]}),
                              role="dispatch")
        dispatch.start()
        try:
            for staff_id in (1, 2):
                dispatch.publish_confirmed(f"{PREFIX}/staff/{staff_id}/alerts",
                                           json.dumps({"to": staff_id, "household": "王秀英"}))
            wait_for(lambda: heard["app"], what="staff member 2's app to get their alert")
            time.sleep(0.5)
        finally:
            dispatch.stop()
            for client in clients:
                client.stop()
    assert [json.loads(p)["to"] for p in heard["app"]] == [2]
    assert heard["hub"] == [] and heard["app-other"] == []
    state.close()
