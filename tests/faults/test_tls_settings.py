"""Operator mistakes in the MQTT TLS settings (found by a tester of the split topology): TLS files
with a plain mqtt:// url were dropped in silence; a missing CA file stopped a role with only
"No such file or directory"."""

from __future__ import annotations

from pathlib import Path

import pytest

from shouwang.domain.errors import ShouwangError
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings


def test_tls_files_with_a_plain_mqtt_url_are_refused_not_silently_dropped() -> None:
    """An operator sets the CA and client certificate but writes mqtt:// (not mqtts://): before, the
    three files are dropped (`Connection(tls=False, ca_file=None, ...)`) and every role speaks
    plaintext, passwords included, to whatever listens on 8883."""
    with pytest.raises(ValueError, match="mqtts"):
        MqttSettings(url="mqtt://broker.example.org:8883",
                     gateway={"tls_cert_file": "/etc/g.pem", "tls_key_file": "/etc/g.key"})
    assert MqttSettings(url="mqtts://broker.example.org:8883", tls_ca_file=Path("/etc/ca.pem")).endpoint()[4]
    with pytest.raises(ValueError, match="mqtts"):
        MqttSettings(url="mqtt://broker.example.org:8883", tls_ca_file=Path("/etc/ca.pem"),
                     tls_cert_file=Path("/etc/c.pem"), tls_key_file=Path("/etc/k.pem"))


def test_a_missing_ca_file_names_the_setting_and_the_path(tmp_path: Path) -> None:
    """Before, `shouwang gateway` died with `shouwang: No such file or directory`: no setting, no path."""
    missing = tmp_path / "nope" / "ca.pem"
    settings = MqttSettings(url="mqtts://127.0.0.1:18799", tls_ca_file=missing)
    with pytest.raises(ShouwangError) as caught:
        MqttClient(settings, role="gateway")
    assert "TLS_CA_FILE" in str(caught.value).upper() and str(missing) in str(caught.value)
