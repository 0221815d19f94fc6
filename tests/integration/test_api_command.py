"""`shouwang api --workers 2`: the API alone, in two processes, over the same state store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shouwang.broker import free_port
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import Grid, Household, Role, Tier
from shouwang.storage.state import StateStore
from tests.support import wait_for


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_the_api_alone_serves_the_stores_shouwang_run_writes_from_two_processes(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    state = StateStore.open(f"sqlite:///{data / 'state.db'}")
    now = time.time()
    state.registry.add_grid(Grid("g-01", "东园网格"))
    leader = state.registry.add_staff(username="leader", name="周主任", role=Role.DUTY_LEADER, now=now)
    token = state.registry.issue_token(leader.id, name="test", now=now)
    state.registry.add_household(Household("hh-1", Tier.RED, "g-01"), now=now)
    opened = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, now - 3600,
                                       "quiet"), now=now)
    assert opened is not None
    state.close()
    port = free_port()
    env = {**os.environ, "SHOUWANG_STORAGE__DATA_DIR": str(data)}
    server = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())", "api",
         "--workers", "2", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout_s=60, what="the API processes to answer")
        answer = httpx.get(f"{url}/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 200
        assert [a["id"] for a in answer.json()["items"]] == [opened.id]
        acked = httpx.post(f"{url}/alerts/{opened.id}/acknowledge",
                           headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
        assert len(children(server.pid)) >= 2, "uvicorn should run two worker processes"
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    assert f"Shouwang API on http://127.0.0.1:{port} in 2 process(es)" in out
    check = StateStore.open(f"sqlite:///{data / 'state.db'}")
    try:
        assert check.alerts.get(opened.id).state.value == "acknowledged"
    finally:
        check.close()
