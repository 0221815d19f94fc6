"""`shouwang run` says what an external broker must keep, in the words of deploy/mosquitto.conf."""

from __future__ import annotations

from pathlib import Path

from cli.commands.run import BROKER_BACKLOG_SETTINGS, external_broker_notice
from shouwang.settings import MqttSettings

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"


def test_the_embedded_broker_needs_no_notice() -> None:
    assert external_broker_notice(MqttSettings()) is None


def test_an_external_broker_is_told_what_deploy_sets_and_why_without_its_password() -> None:
    notice = external_broker_notice(MqttSettings(url="mqtt://gw:s3cret@broker.example:1884"))
    assert notice is not None
    assert "broker.example:1884" in notice and "s3cret" not in notice
    for key, value in BROKER_BACKLOG_SETTINGS.items():
        assert f"{key} {value}" in notice
    assert "1,000 messages" in notice and "drops" in notice


def test_the_notice_says_what_deploy_mosquitto_conf_really_sets() -> None:
    conf = {}
    for line in DEPLOY_CONF.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            conf[key] = value.strip()
    assert {key: conf.get(key) for key in BROKER_BACKLOG_SETTINGS} == BROKER_BACKLOG_SETTINGS
