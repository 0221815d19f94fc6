"""A Mosquitto of the fault tests' own: a free port, deploy/mosquitto.conf's queue and persistence
settings (so what they show holds for the shipped configuration), files in the test's folder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shouwang.broker import free_port
from tests.conftest import POSTGRES_URL, reachable
from tests.support import wait_for

MOSQUITTO = Path("/usr/sbin/mosquitto")
DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"
QUEUE_SETTINGS = ("max_queued_messages", "max_queued_bytes", "max_inflight_messages",
                  "persistent_client_expiration", "persistence", "autosave_interval", "max_packet_size")


def broker_config(store: Path, port: int, auth: Path | None = None) -> str:
    """deploy/'s queue and persistence settings on 127.0.0.1 and the test's own files: anonymous,
    or with `auth`, the password file and ACL `shouwang hubs provision --all` wrote there."""
    kept = [line for line in DEPLOY_CONF.read_text().splitlines()
            if line.split(" ", 1)[0] in QUEUE_SETTINGS]
    assert {line.split(" ", 1)[0] for line in kept} == set(QUEUE_SETTINGS), (
        f"deploy/mosquitto.conf must set each of {QUEUE_SETTINGS}")
    access = ["allow_anonymous true"] if auth is None else [
        "allow_anonymous false", f"password_file {auth / 'shouwang.passwd'}", f"acl_file {auth / 'shouwang.acl'}"]
    if auth is not None and os.geteuid() == 0:
        # Started as root, Mosquitto reads these files as user mosquitto, which may not enter the
        # test's folder (0700); as anyone else it stays that user and reads its own files.
        access.append("user root")
    return "\n".join([f"listener {port} 127.0.0.1", *access, *kept,
                      f"persistence_location {store}/"]) + "\n"


@contextmanager
def private_mosquitto(folder: Path, auth: Path | None = None) -> Iterator[int]:
    """Run one until the block ends; its port. Skips the test where Mosquitto is not installed."""
    if not MOSQUITTO.exists():
        pytest.skip(f"{MOSQUITTO} is absent (install the mosquitto package): this fault test needs its own")
    port = free_port()
    (folder / "store").mkdir(parents=True, exist_ok=True)
    conf = folder / "mosquitto.conf"
    conf.write_text(broker_config(folder / "store", port, auth))
    with (folder / "mosquitto.log").open("wb") as out:
        process = subprocess.Popen([str(MOSQUITTO), "-c", str(conf)], stdout=out, stderr=out)
    try:
        wait_for(lambda: reachable("127.0.0.1", port), timeout_s=10, what="mosquitto to listen")
        yield port
    finally:
        process.terminate()
        process.wait(10)


def allow_connections(url: str, allow: bool) -> None:
    """PostgreSQL's database at `url` refuses new connections and drops its own (a restart, a
    fail-over), or takes them again."""
    import psycopg  # present wherever `postgres_url` gave a database
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allow else "false"}')
        if not allow:
            db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
