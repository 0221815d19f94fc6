"""`shouwang roster`, `staff leave`, `family`, `maintenance` and `dispatch explain` as an
administrator uses them, against a real SQLite state store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli.main import main
from shouwang.storage.state import StateStore


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOUWANG_TIMEZONE", "Asia/Shanghai")
    monkeypatch.chdir(tmp_path)
    run(capsys, "grids", "add", "g-01", "东园网格")
    for username, role in (("wang", "grid_member"), ("li", "grid_member"), ("zhao", "grid_head"),
                           ("sun", "duty_leader"), ("zhou", "duty_leader")):
        grid = ["--grid", "g-01"] if role != "duty_leader" else []
        assert run(capsys, "staff", "add", username, "--name", username, "--role", role, *grid)[0] == 0
    (tmp_path / "homes.csv").write_text("id,colour,grid,hub,alias\nhh-1,红,g-01,h-1,王秀英\n", encoding="utf-8")
    assert run(capsys, "households", "import", "homes.csv")[0] == 0
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_roster_and_leave_change_who_explain_says_is_called(
        community: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "roster", "add", "sun", "weekdays", "8-18")[0] == 0
    code, out, _ = run(capsys, "roster", "add", "zhou", "daily", "18-8")
    assert code == 0 and "zhou on duty from mon 18:00 to 08:00 the next day" in out
    out = run(capsys, "roster", "list")[1]
    # Chinese first, the English beneath it.
    assert ("gap: 值班表在 周六 08:00–18:00、周日 08:00–18:00 无人值班：这些时段的升级会通知所有值班领导"
            "（`shouwang roster add USER DAY FROM-TO`）\n"
            "     the duty roster has nobody on duty sat 08:00–18:00, sun 08:00–18:00") in out
    code, out, _ = run(capsys, "staff", "leave", "wang", "--from", "2026-12-01", "--to", "2026-12-03",
                       "--deputy", "li", "--reason", "年假")
    assert code == 0 and "li receives what they would" in out
    # found by a tester: a bare --to date ended at 00:00 that day, a day early as an operator reads it
    assert "off 2026-12-01 00:00 to 2026-12-04 00:00" in out
    night = run(capsys, "dispatch", "explain", "hh-1", "--at", "2026-12-03T15:00")[1]
    assert "li li — deputy for wang (on leave)" in night  # the 3rd is still hers off
    night = run(capsys, "dispatch", "explain", "hh-1", "--at", "2026-12-02T03:00")[1]
    assert "li li — deputy for wang (on leave); by mqtt" in night
    assert "zhou zhou — duty leader on duty (roster)" in night and "sun sun" not in night
    day = run(capsys, "dispatch", "explain", "hh-1", "--at", "2026-12-04T10:00")[1]  # Friday, wang is back
    assert "wang wang — grid member" in day and "sun sun — duty leader on duty (roster)" in day
    helped = run(capsys, "dispatch", "explain", "hh-1", "--kind", "help", "--at", "2026-12-04T10:00")[1]
    assert "reminders: every 1 min" in helped
    assert helped.splitlines()[2] == "step 0  at once: grid_member, caseworker, grid_head"


def test_family_and_maintenance_are_recorded_and_shown(
        community: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "family", "add", "hh-1", "--name", "王小红", "--relation", "女儿",
                         "--webhook", "https://sms.example.org/send", "--consent-by", "王小红", "--step", "1")
    assert code == 0 and "at step 1" in out
    # found by a tester: the elder's "do not share with family" was recorded and never asked
    assert "hh-1 has not consented to sharing alerts with family, so 王小红 is not called" in err
    explained = run(capsys, "dispatch", "explain", "hh-1")[1]
    assert "family: 王小红" not in explained and "family: none told — the household has not consented" in explained
    assert run(capsys, "households", "consent", "hh-1", "--by", "王秀英", "--relationship", "self",
               "--share-with-family")[0] == 0
    assert "family: 王小红 (女儿) — by webhook https://sms.example.org/send" in run(
        capsys, "dispatch", "explain", "hh-1")[1]
    code, _, err = run(capsys, "family", "add", "hh-1", "--name", "x", "--relation", "son",
                       "--webhook", "https://…", "--consent-by", "x")
    assert code == 2 and "placeholder" in err
    code, out, err = run(capsys, "family", "add", "hh-1", "--name", "王小明", "--relation", "儿子",
                         "--sms", "138-0013-8000", "--consent-by", "王小明", "--step", "0")
    assert code == 0 and "sms 13800138000, at step 0" in out and "no SMS gateway is configured" in err
    assert "family: 王小明 (儿子) — by sms 13800138000" in run(capsys, "dispatch", "explain", "hh-1")[1]
    code, _, err = run(capsys, "family", "add", "hh-1", "--name", "x", "--relation", "son",
                       "--sms", "call me", "--consent-by", "x")
    assert code == 2 and "is not a phone number" in err
    # found by a newcomer: each of these was accepted, and the contact then never called or told
    code, _, err = run(capsys, "family", "add", "hh-1", "--name", "x", "--relation", "son",
                       "--webhook", "http://family-app.example.org/hook", "--consent-by", "x", "--step", "1")
    assert code == 2 and "plain http" in err and "--allow-http" in err
    code, _, err = run(capsys, "family", "add", "hh-1", "--name", "x", "--relation", "son",
                       "--sms", "13800138001", "--consent-by", "x", "--step", "9")
    assert code == 2 and "--step 9: the ladders of a red household have steps 0-2" in err
    code, out, err = run(capsys, "family", "add", "hh-1", "--name", "林小红", "--relation", "女儿",
                         "--sms", "13800138002", "--consent-by", "林小红")
    assert code == 0 and "where the ladder names family" in out
    assert "no ladder of a red household names `family`, so 林小红 is never called: give --step N (0-2)" in err
    code, _, err = run(capsys, "maintenance", "add", "--grid", "g-99", "--until", "2099-01-01T18:00",
                       "--reason", "更换电表", "--by", "zhao")
    assert code == 2 and "grid g-99" in err and "not found" in err and "Traceback" not in err
    code, _, err = run(capsys, "maintenance", "add", "--hub", "h-1", "--until", "2099-01-01T18:00",
                       "--reason", "更换电表", "--by", "zhao")
    assert code == 2 and "a maintenance window lasts at most 7 days" in err
    soon = time.strftime("%Y-%m-%d", time.localtime(time.time() + 2 * 86400))
    code, out, _ = run(capsys, "maintenance", "add", "--hub", "h-1", "--until", f"{soon}T18:00",
                       "--reason", "更换电表", "--by", "zhao")
    assert code == 0 and f"hub h-1 until {soon} 18:00" in out
    assert "by zhao: 更换电表" in run(capsys, "maintenance", "list")[1]
    assert run(capsys, "maintenance", "end", "1", "--by", "zhao")[0] == 0
    assert run(capsys, "maintenance", "list")[1].strip() == "no maintenance in force"
    code, _, err = run(capsys, "maintenance", "add", "--hub", "h-404", "--until", "2099-01-01", "--reason", "x",
                       "--by", "zhao")
    assert code == 2 and "hub h-404 was not found" in err


def test_a_bad_ladder_in_the_settings_file_is_named(community: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (community / "shouwang.toml").write_text('[dispatch.ladders.red]\nsteps = [{ who = ["neighbour"] }]\n',
                                             encoding="utf-8")
    code, _, err = run(capsys, "dispatch", "explain", "hh-1")
    assert code == 2
    assert "dispatch.ladders.red.steps.0.who: Value error, unknown recipient 'neighbour'" in err


def test_nothing_new_is_fitted_or_agreed_for_a_retired_household(
        community: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a tester: a family contact and a consent ("monitoring starts now") were each
    taken for a retired household."""
    state = StateStore.open(f"sqlite:///{community / 'data' / 'state.db'}")
    try:
        state.registry.retire_household("hh-1", now=time.time())
    finally:
        state.close()
    code, _, err = run(capsys, "family", "add", "hh-1", "--name", "王小红", "--relation", "女儿",
                       "--sms", "13800138000", "--consent-by", "王小红", "--step", "1")
    assert code == 2 and "household hh-1 was retired" in err
    code, _, err = run(capsys, "households", "consent", "hh-1", "--by", "王秀英")
    assert code == 2 and "household hh-1 was retired" in err
    assert run(capsys, "households", "consent", "hh-1", "--by", "王秀英", "--withdraw")[0] == 0


def test_dispatch_failing_names_each_receiver_whose_notifications_keep_failing_and_why(
        community: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a channels tester: only each alert's detail and the log named a failing receiver."""
    from shouwang.domain.alerts import AlertKind, Finding, Severity
    from shouwang.domain.delivery import Channel, DeliveryEvent
    from shouwang.storage.alerts import queue_delivery
    from shouwang.storage.database import writing

    assert run(capsys, "dispatch", "failing")[1] == "no notification is failing\n"
    state = StateStore.open(f"sqlite:///{community / 'data' / 'state.db'}")
    try:
        now = time.time()
        alert = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, now - 3600, "quiet"),
                                  now=now)
        assert alert is not None
        wang = state.registry.staff_by_username("wang")
        with writing(state.engine) as db:
            queue_delivery(db, alert.id, wang.id, Channel.WEBHOOK, DeliveryEvent.OPENED, now, level=0)
        [delivery] = state.alerts.deliveries(alert.id)
        state.alerts.mark_failed(delivery, error="webhook https://hooks.example.org/w answered 503",
                                 retry_at=now + 60, now=now)
    finally:
        state.close()
    out = run(capsys, "dispatch", "failing")[1]
    assert out.startswith("wang by webhook: 1 notification(s) failing since ")
    assert out.rstrip().endswith("1 attempt(s); last: webhook https://hooks.example.org/w answered 503")
