"""Every role over TLS: the broker's certificate checked against the configured CA, and the role's
own client certificate where the broker asks for one (a private Mosquitto, certificates made here
with openssl)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shouwang.broker import free_port
from shouwang.mqtt import BrokerUnavailable, MqttClient
from shouwang.settings import MqttSettings
from tests.conftest import reachable
from tests.faults.conftest import MOSQUITTO
from tests.support import wait_for

pytestmark = [pytest.mark.faults]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def certificates(folder: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    folder.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, extra in (("server", ["-extfile", "san.cnf"]), ("client", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=folder)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.pem", *extra, cwd=folder)
    return folder


@contextmanager
def tls_mosquitto(folder: Path, certs: Path) -> Iterator[int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\ncafile {certs}/ca.pem\n"
                    f"certfile {certs}/server.pem\nkeyfile {certs}/server.key\nrequire_certificate true\n"
                    "user root\n")
    with (folder / "mosquitto.log").open("wb") as out:
        process = subprocess.Popen([str(MOSQUITTO), "-c", str(conf)], stdout=out, stderr=out)
    try:
        wait_for(lambda: reachable("127.0.0.1", port), timeout_s=10, what="mosquitto to listen")
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def no_logged_errors() -> Iterator[None]:
    """A refused TLS handshake is logged as the problem it is; the test checks the refusal."""
    yield


def test_a_role_connects_over_tls_with_the_configured_ca_and_its_own_certificate(tmp_path: Path) -> None:
    if not MOSQUITTO.exists() or shutil.which("openssl") is None:
        pytest.skip("needs /usr/sbin/mosquitto and openssl")
    certs = certificates(tmp_path / "certs")
    with tls_mosquitto(tmp_path, certs) as port:
        url = f"mqtts://127.0.0.1:{port}"
        settings = MqttSettings(url=url, tls_ca_file=certs / "ca.pem",
                                gateway={"tls_cert_file": certs / "client.pem",
                                         "tls_key_file": certs / "client.key"})
        client = MqttClient(settings, role="gateway")
        client.start(timeout_s=5)
        client.publish_confirmed("t/tls", b"over tls")
        client.stop()
        without_certificate = MqttClient(MqttSettings(url=url, tls_ca_file=certs / "ca.pem"), role="detector")
        with pytest.raises(BrokerUnavailable):
            without_certificate.start(timeout_s=3)
        unknown_ca = MqttSettings(url=url, gateway={"tls_cert_file": certs / "client.pem",
                                                    "tls_key_file": certs / "client.key"})
        with pytest.raises(BrokerUnavailable, match="TLS_CA_FILE"):  # the system CAs do not know it
            MqttClient(unknown_ca, role="gateway").start(timeout_s=3)
