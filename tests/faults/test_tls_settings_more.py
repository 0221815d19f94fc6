"""TLS files with no broker url, and a role's own certificate named (found by a regression tester)."""
from __future__ import annotations

from pathlib import Path

import pytest

from shouwang.domain.errors import ShouwangError
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings


def test_tls_files_with_no_url_at_all_are_not_silently_dropped(tmp_path: Path) -> None:
    """The operator sets the CA and client certificate but forgets mqtt.url: the embedded broker is
    started and every role speaks plain MQTT to it; the files are dropped without a word, the very
    thing refused for mqtt://."""
    with pytest.raises(ValueError):
        MqttSettings(tls_ca_file=Path("/etc/ca.pem"), tls_cert_file=Path("/etc/c.pem"),
                     tls_key_file=Path("/etc/k.pem"))


def test_a_role_certificate_that_cannot_be_read_names_its_own_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "gateway.pem"
    settings = MqttSettings(url="mqtts://127.0.0.1:18799",
                            gateway={"tls_cert_file": missing, "tls_key_file": tmp_path / "nope" / "gateway.key"})
    with pytest.raises(ShouwangError) as caught:
        MqttClient(settings, role="gateway")
    # before: "(mqtt.tls_ca_file unset, certificate /…/gateway.pem, key …)": the setting to fix,
    # mqtt.gateway.tls_cert_file, is not named
    assert "gateway.tls_cert_file" in str(caught.value), str(caught.value)
