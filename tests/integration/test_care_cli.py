"""`shouwang report responses`, `report visits` and `households colour` against a real state store."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cli.main import main
from shouwang.domain.alerts import AlertKind, Finding, Outcome, Severity
from shouwang.domain.model import Grid, Household, Role, Tier, Visit
from shouwang.storage.audit import Actor
from shouwang.storage.state import StateStore

TZ = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StateStore:
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path / "data"))
    store = StateStore.open(f"sqlite:///{tmp_path / 'data' / 'state.db'}")
    store.registry.add_grid(Grid("g-01", "东园网格"))
    store.registry.add_grid(Grid("g-02", "西园网格"))
    store.registry.add_staff(username="wang", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-01"], now=0)
    store.registry.add_household(Household("hh-1", Tier.YELLOW, "g-01", monitoring_since=0), now=0)
    store.registry.add_household(Household("hh-2", Tier.GREEN, "g-02", monitoring_since=time.time()), now=0)
    return store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_month_report_says_how_many_alerts_were_answered_within_the_limits(
    state: StateStore, capsys: pytest.CaptureFixture[str],
) -> None:
    wang = state.registry.staff_by_username("wang")
    start = datetime(2026, 11, 3, 9, 0, tzinfo=TZ).timestamp()
    for i, (ack_h, visit_h, close_h) in enumerate(((1, 2, 3), (4, 7, 10))):
        opened = start + i * 86400
        alert = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, opened - HOUR, "quiet"),
                                  now=opened)
        assert alert is not None
        state.alerts.acknowledge(alert.id, staff=wang, now=opened + ack_h * HOUR)
        state.visits.add(Visit("hh-1", opened + visit_h * HOUR, wang.id), actor=Actor("wang"), now=opened)
        state.alerts.resolve(alert.id, staff=wang, outcome=Outcome.ELDER_FINE, note=None,
                             now=opened + close_h * HOUR)
    code, out, _ = run(capsys, "report", "responses", "--month", "2026-11")
    assert code == 0
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert lines["g-01"][2:] == ["2", "1/2", "50%", "150m", "1/2", "50%", "270m", "1/2", "50%", "390m"]
    assert lines["g-02"][2:] == ["0", "-", "-", "-"]
    code, out, _ = run(capsys, "report", "responses", "--month", "2026-11", "--csv")
    assert out.splitlines()[1].startswith("2026-11,grid,g-01,2,2,1,0.500,150,")
    code, _, err = run(capsys, "report", "responses", "--month", "November")
    assert code == 2 and "YYYY-MM" in err


def test_overdue_visits_are_listed_with_who_claimed_them_and_a_colour_changes_with_a_reason(
    state: StateStore, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "report", "visits")
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == 1 and rows[0].split()[:3] == ["hh-1", "yellow", "g-01"] and rows[0].endswith("wang")
    code, out, _ = run(capsys, "households", "colour", "hh-1", "橙", "--reason", "两次摔倒", "--by", "wang")
    assert code == 0 and "hh-1 is now orange (was yellow)" in out
    [entry] = [e for e in state.audit.for_entity("household", "hh-1") if e.action == "tier_changed"]
    assert entry.actor == "wang" and entry.details["reason"] == "两次摔倒"
