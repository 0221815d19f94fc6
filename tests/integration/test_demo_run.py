"""`shouwang run --demo` as a newcomer runs it: within about a minute the red household's too
quiet morning raises an inactivity alert (the README and the start banner say so), and the
banner's own commands find it and acknowledge it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shouwang.broker import free_port
from tests.support import wait_for

pytestmark = pytest.mark.slow


def test_the_demo_raises_the_red_households_inactivity_alert_within_a_minute(tmp_path: Path) -> None:
    api = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUWANG_")} | {
        "SHOUWANG_MQTT__EMBEDDED_PORT": str(free_port()), "SHOUWANG_API__PORT": str(api)}
    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "cli.main", "run", "--demo", "--duration", "150"],
                                cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: "Press Ctrl-C to stop." in log_path.read_text(errors="replace")
                 or demo.poll() is not None, timeout_s=60, what="the demo's banner")
        started = time.monotonic()
        banner = log_path.read_text(errors="replace")
        assert demo.poll() is None, banner[-3000:]
        leader = re.search(r"export LEADER=(\S+) CASEWORKER=(\S+)", banner)
        assert leader is not None, banner
        headers = {"Authorization": f"Bearer {leader.group(1)}"}

        def inactivity() -> list[dict[str, object]]:
            answer = httpx.get(f"http://127.0.0.1:{api}/alerts?kind=inactivity&state=unresolved",
                               headers=headers, timeout=5)
            return list(answer.json()["items"])

        wait_for(lambda: bool(inactivity()), timeout_s=75, what="the demo's inactivity alert")
        waited = time.monotonic() - started
        alert = inactivity()[0]
        red = httpx.get(f"http://127.0.0.1:{api}/households/{alert['household_id']}", headers=headers,
                        timeout=5).json()
        assert red["colour"] == "red", (alert, red)
        print(f"the demo's inactivity alert came {waited:.0f} s after the banner: {alert['explanation']}")
        ack = httpx.post(f"http://127.0.0.1:{api}/alerts/{alert['id']}/acknowledge",
                         headers={"Authorization": f"Bearer {leader.group(2)}"}, timeout=5)
        assert ack.status_code == 200, ack.text
    finally:
        demo.terminate()
        demo.wait(30)
    assert "Traceback" not in log_path.read_text(errors="replace")
