"""`shouwang staff test-notify USER` over a real webhook receiver and a real MQTT broker."""

from __future__ import annotations

import json
import queue
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import main
from shouwang.contract.topics import staff_topic
from shouwang.mqtt import Message, MqttClient
from shouwang.settings import MqttSettings
from tests.support import ServiceReceiver, WebhookReceiver

pytestmark = pytest.mark.broker


@pytest.fixture
def configured(tmp_path: Path, embedded_mqtt: MqttSettings,
               monkeypatch: pytest.MonkeyPatch) -> MqttSettings:
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOUWANG_MQTT__EMBEDDED_PORT", str(embedded_mqtt.embedded_port))
    monkeypatch.setenv("SHOUWANG_MQTT__TOPIC_PREFIX", embedded_mqtt.topic_prefix)
    monkeypatch.setenv("SHOUWANG_DISPATCH__WEBHOOK_TIMEOUT_S", "1")
    return embedded_mqtt


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


def add_leader(capsys: pytest.CaptureFixture[str], webhook: str) -> None:
    assert main(["staff", "add", "li", "--name", "李", "--role", "duty_leader", "--webhook", webhook,
                 "--allow-http"]) == 0
    capsys.readouterr()


def test_it_reaches_each_channel_and_says_how(
    configured: MqttSettings, receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str],
) -> None:
    add_leader(capsys, receiver.url("li"))
    inbox: queue.Queue[Message] = queue.Queue()
    phone = MqttClient(configured, client_id=f"{configured.client_id_prefix}-phone",
                       subscriptions=[staff_topic(configured.topic_prefix, 1)], on_message=inbox.put)
    phone.start()
    try:
        code = main(["staff", "test-notify", "li"])
        message = inbox.get(timeout=10)
    finally:
        phone.stop()
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(rf"^webhook  {re.escape(receiver.url('li'))}: ok in \d+ ms: HTTP 204$", out, re.M)
    assert re.search(rf"^mqtt     \S+/staff/1/alerts on 127.0.0.1:{configured.embedded_port}: ok in \d+ ms: "
                     r".*acknowledged by the broker$", out, re.M), out
    (body,) = receiver.to("li")
    assert (body["event"], body["delivery_id"], body["to"]["staff_id"]) == ("test", None, 1)
    assert json.loads(message.payload)["event"] == "test"


def test_a_dead_receiver_and_an_unreachable_broker_are_reported_not_raised(
    configured: MqttSettings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    nothing = probe.getsockname()[1]
    probe.close()
    add_leader(capsys, f"http://127.0.0.1:{nothing}/li")
    monkeypatch.setenv("SHOUWANG_MQTT__EMBEDDED_PORT", str(nothing))
    code = main(["staff", "test-notify", "li"])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"^webhook  \S+: FAILED in \d+ ms: webhook \S+: ConnectError", out, re.M), out
    assert re.search(rf"^mqtt     \S+ on 127.0.0.1:{nothing}: FAILED in \d+ ms: cannot reach the MQTT broker",
                     out, re.M), out


def test_it_reaches_every_kind_of_channel_and_never_shows_a_secret(
    configured: MqttSettings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    robots = ServiceReceiver()
    monkeypatch.setenv("SHOUWANG_DISPATCH__SMS_GATEWAY_URL", robots.url("sms"))
    try:
        assert main(["staff", "add", "wang", "--name", "王芳", "--role", "duty_leader", "--allow-http",
                     "--channel", robots.url("wecom/cgi-bin/webhook/send").replace("http", "wecom:http", 1)
                     + "?key=wk-secret-key",
                     "--channel", robots.url("ding/robot/send").replace("http", "dingtalk:http", 1)
                     + "?access_token=dt-secret-token#SECsecret0123456789",
                     "--channel", robots.url("feishu/open-apis/bot/v2/hook/fs-secret-token")
                     .replace("http", "feishu:http", 1) + "#secret=fsSecret42&lang=en",
                     "--channel", "sms:+8613800000000"]) == 0
        assert main(["staff", "list"]) == 0
        listed = capsys.readouterr().out
        code = main(["staff", "test-notify", "wang"])
    finally:
        robots.close()
    out = capsys.readouterr().out
    assert code == 0, out
    for kind in ("wecom", "dingtalk", "feishu", "sms"):
        assert re.search(rf"^{kind:<8} \S+.*: ok in \d+ ms: HTTP 200", out, re.M), out
    for secret in ("wk-secret-key", "dt-secret-token", "SECsecret0123456789", "fs-secret-token", "fsSecret42"):
        assert secret not in out + listed
    assert "told by wecom:" in listed or "wecom+dingtalk+feishu+sms" in listed
    assert [len(robots.to(p)) for p in ("wecom/cgi-bin/webhook/send", "ding/robot/send",
                                        "feishu/open-apis/bot/v2/hook/fs-secret-token", "sms")] == [1, 1, 1, 1]
    ((query, _, ding),) = robots.to("ding/robot/send")
    assert "sign" in query and "测试" in ding["text"]["content"]
