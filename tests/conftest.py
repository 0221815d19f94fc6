"""Shared fixtures: real brokers (embedded amqtt, Mosquitto where present) and real databases."""

from __future__ import annotations

import gc
import logging
import os
import re
import socket
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from shouwang.broker import EmbeddedBroker, free_port
from shouwang.settings import MqttSettings
from tests.e2e.accessibility import AXE
from tests.e2e.accessibility import MISSING as AXE_MISSING

MOSQUITTO = ("127.0.0.1", 1883)
POSTGRES_URL = os.environ.get("SHOUWANG_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EVAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "eval-data"
OUR_PACKAGES = ("shouwang", "gateway", "detector", "dispatch", "api", "simulator")


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """Collect cycles after every test, so an unclosed socket or file is reported (as an error,
    by the ResourceWarning filter) in the test that leaked it, not in whichever test later
    happens to trigger the garbage collector. One leak is not ours and is let through: amqtt (the
    embedded broker) leaves the server side of a connection whose client vanished to the collector,
    which may run in any later test (see `amqtt_leaks`)."""
    yield
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    ours = [w for w in caught if w not in amqtt_leaks(caught)]
    for w in ours:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def amqtt_leaks(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    """The warnings about connections amqtt's broker accepted and left open: a server-side transport
    of asyncio's streams (amqtt is the only `asyncio.start_server` in our processes; uvicorn has
    protocols of its own), and the socket and stream writer on the same file descriptor."""
    fds = set()
    leaks = []
    for w in caught:
        transport = w.source
        protocol = getattr(transport, "_protocol", None)
        if (issubclass(w.category, ResourceWarning) and getattr(transport, "_server", None) is not None
                and type(protocol).__module__ == "asyncio.streams"):
            leaks.append(w)
            fds.add(f"fd={getattr(transport, '_sock_fd', None)}")
    for w in caught:
        if issubclass(w.category, ResourceWarning) and w not in leaks and \
                re.match(r"unclosed <(socket\.socket|StreamWriter) ", str(w.message)) and \
                any(fd in str(w.message).replace(",", " ").split() for fd in fds):
            leaks.append(w)
    return leaks


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker("127.0.0.1", free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A prefix of its own per test, so tests sharing a broker never hear each other."""
    return f"t{uuid.uuid4().hex[:10]}/v1"


@pytest.fixture
def embedded_mqtt(embedded_broker: EmbeddedBroker, topic_prefix: str) -> MqttSettings:
    return MqttSettings(embedded_port=embedded_broker.port, topic_prefix=topic_prefix,
                        client_id_prefix=f"test-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def mosquitto_mqtt(topic_prefix: str) -> MqttSettings:
    if not reachable(*MOSQUITTO):
        pytest.skip("Mosquitto is not running on 127.0.0.1:1883; tests against it were skipped")
    return MqttSettings(url=f"mqtt://{MOSQUITTO[0]}:{MOSQUITTO[1]}", topic_prefix=topic_prefix,
                        client_id_prefix=f"test-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["embedded", "mosquitto"])
def any_mqtt(request: pytest.FixtureRequest) -> MqttSettings:
    """Each broker test runs on the embedded broker and again on Mosquitto where present."""
    name = "embedded_mqtt" if request.param == "embedded" else "mosquitto_mqtt"
    settings: MqttSettings = request.getfixturevalue(name)
    return settings


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database per test, dropped afterwards."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed; PostgreSQL tests were skipped")
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_URL)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"shouwang_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=2) as db:
            db.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {base.host}:{base.port} ({exc}); skipped")
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def any_state_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


class _ExceptionCatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in OUR_PACKAGES:
            self.records.append(record)


@pytest.fixture(autouse=True)
def no_logged_errors() -> Iterator[None]:
    """Fail any test during which our code logged an error (say, a swallowed exception)."""
    catcher = _ExceptionCatcher()
    root = logging.getLogger()
    root.addHandler(catcher)
    try:
        yield
    finally:
        root.removeHandler(catcher)
    if catcher.records:
        messages = "\n".join(catcher.format(r) if r.exc_info else r.getMessage()
                             for r in catcher.records)
        pytest.fail(f"our code logged errors:\n{messages}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly which real services these tests did not reach."""
    missing = []
    if not os.environ.get("SHOUWANG_TEST_INFLUX_URL"):
        missing.append("InfluxDB 2 (set SHOUWANG_TEST_INFLUX_URL to test the adapter against a real server)")
    if not reachable(*MOSQUITTO):
        missing.append("Mosquitto on 127.0.0.1:1883")
    for service in missing:
        terminalreporter.write_line(f"NOT TESTED against a real server: {service}", yellow=True)
    if not AXE.exists():
        terminalreporter.write_line(f"accessibility NOT CHECKED in the browser tests: {AXE_MISSING}", yellow=True)
