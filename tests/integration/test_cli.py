"""The `shouwang` command as an administrator uses it, against a real SQLite state store."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from cli.main import main
from shouwang.storage.state import StateStore


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_community_is_registered_from_the_command_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "grids", "add", "g-01", "东园网格")[0] == 0
    code, out, _ = run(capsys, "staff", "add", "wang", "--name", "王芳", "--role", "grid_member",
                       "--grid", "g-01")
    assert code == 0
    token = out.split("API token (shown once, keep it safe): ")[1].strip()
    csv = tmp_path / "homes.csv"
    csv.write_text("id,colour,grid,hub,alias\nhh-1,红,g-01,h-1,王秀英\n", encoding="utf-8")
    code, out, _ = run(capsys, "households", "import", str(csv))
    assert code == 0
    assert out.splitlines()[0] == "1 households added, 0 updated, 1 hubs added, 0 grids added, 0 consents recorded"
    assert "1 household(s) have no consent to sensing and are not monitored" in out
    assert "no consent" in run(capsys, "households", "list")[1].splitlines()[1]
    code, out, _ = run(capsys, "households", "consent", "hh-1", "--by", "王秀英", "--date", "2026-11-01")
    assert code == 0 and "monitoring starts now" in out
    assert run(capsys, "households", "list")[1].splitlines()[1].split()[3] == "yes"
    assert run(capsys, "staff", "update", "wang", "--webhook", "https://example.org/h")[0] == 0
    state = StateStore.open(f"sqlite:///{data_dir / 'state.db'}")
    try:
        member = state.registry.staff_for_token(token, now=0)
        assert member is not None and member.webhook_url == "https://example.org/h"
        assert state.registry.household("hh-1").alias == "王秀英"
    finally:
        state.close()
    code, out, _ = run(capsys, "staff", "retire", "wang")
    assert code == 0 and "retired" in out


@pytest.mark.parametrize(("argv", "expected"), [
    (("households", "import", "missing.csv"), "No such file or directory: missing.csv"),
    (("staff", "add", "x", "--name", "X", "--role", "grid_member"), "give it with --grid"),
    (("hubs", "add", "h-9", "--household", "hh-404"), "household hh-404 was not found"),
    (("staff", "token", "nobody"), "staff member nobody was not found"),
    (("households", "consent", "hh-404", "--by", "王", "--date", "2026-13-01"),
     "--date '2026-13-01' is not a date (YYYY-MM-DD)"),
    (("staff", "add", "x", "--name", "X", "--role", "duty_leader", "--webhook", "https://…"),
     "webhook 'https://…' looks like a placeholder; give the receiver's real address"),
    (("staff", "add", "x", "--name", "X", "--role", "duty_leader", "--webhook",
      "https://example.org/a b"), "contains ' ' at position 21"),
    (("staff", "add", "x", "--name", "X", "--role", "duty_leader", "--webhook", "http://10.0.0.5/h"),
     "plain http"),
    (("staff", "add", "x", "--name", "X", "--role", "duty_leader", "--phone", "hello"),
     "phone 'hello' is not a phone number"),
])
def test_mistakes_get_one_clear_line_and_exit_code_2(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str,
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("shouwang: ") and expected in err
    assert "Traceback" not in err


def test_a_plain_http_webhook_needs_allow_http_and_is_warned_about(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "staff", "add", "li", "--name", "李", "--role", "duty_leader", "--webhook",
               "https://example.org/li")[0] == 0
    code, _, err = run(capsys, "staff", "update", "li", "--webhook", "http://10.0.0.5:8080/li")
    assert code == 2 and "--allow-http" in err
    code, out, err = run(capsys, "staff", "update", "li", "--webhook", "http://10.0.0.5:8080/li",
                         "--allow-http")
    assert code == 0 and "webhook http://10.0.0.5:8080/li" in out
    assert err.startswith("warning: webhook http://10.0.0.5:8080/li is plain http")


def test_invalid_settings_are_named_without_a_traceback(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOUWANG_API__PORT", "abc")
    code, _, err = run(capsys, "staff", "list")
    assert code == 2 and "api.port" in err


def test_a_misspelt_time_zone_or_a_broken_settings_file_is_one_clear_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a newcomer: both ended in a traceback (ZoneInfoNotFoundError, TOMLDecodeError),
    and `shouwang settings` accepted the misspelt zone."""
    monkeypatch.setenv("SHOUWANG_TIMEZONE", "Asia/Shangai")
    for argv in (("households", "list"), ("settings",)):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "unknown time zone 'Asia/Shangai'; use a name like Asia/Shanghai" in err
        assert "Traceback" not in err
    monkeypatch.delenv("SHOUWANG_TIMEZONE")
    broken = tmp_path / "shouwang.toml"
    broken.write_text('community = "东园"\n[dispatch.ladders]\nred = [1, 2\n', encoding="utf-8")
    code, _, err = run(capsys, "--settings", str(broken), "staff", "list")
    assert code == 2 and err.startswith(f"shouwang: settings file {broken} is not valid TOML: Unclosed array")


def test_a_command_run_where_there_is_no_community_creates_nothing_and_says_where_to_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a newcomer: run outside the community's folder, a listing made an empty store of
    its own and listed nothing, and a registration went into a store no `shouwang run` reads."""
    monkeypatch.delenv("SHOUWANG_STORAGE__DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    for argv in (("households", "list"), ("grids", "add", "g-01", "东园网格"), ("report", "responses")):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert err.startswith(f"shouwang: there is no community here: no shouwang.toml in {tmp_path}")
        assert "`shouwang init`" in err and "shouwang-demo-data" not in err
    assert list(tmp_path.iterdir()) == []
    # After the demo, the demo's folder is named.
    (tmp_path / "shouwang-demo-data").mkdir()
    (tmp_path / "shouwang-demo-data" / "state.db").touch()
    code, _, err = run(capsys, "staff", "list")
    assert code == 2 and "start the command with SHOUWANG_STORAGE__DATA_DIR=shouwang-demo-data" in err
    # Where the settings (a file, or the environment) say where the store is, it is made there.
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path / "elsewhere"))
    assert run(capsys, "grids", "add", "g-01", "东园网格")[0] == 0
    assert (tmp_path / "elsewhere" / "state.db").is_file()


def test_a_missing_eval_data_folder_is_said_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    nowhere = tmp_path / "nowhere"
    code, out, err = run(capsys, "evaluate", "--no-simulated", "--eval-data", str(nowhere))
    assert code == 2 and err.startswith(f"shouwang: --eval-data {nowhere}: no such folder") and out == ""


def test_an_unknown_incident_kind_names_the_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "simulate", "--incident", "fainting:sim-0001:+2h")
    assert code == 2 and "unknown incident kind 'fainting'; use one of incapacitation, away," in err


@pytest.mark.parametrize(("argv", "expected"), [
    (("households", "colour", "hh-1", "purple", "--reason", "x", "--by", "wang"),
     "argument colour: unknown colour 'purple'; use one of red, orange, yellow, blue, green"),
    (("simulate", "--speed", "0"), "argument --speed: '0': must be above 0"),
    (("simulate", "--homes", "-3"), "argument --homes: '-3': must be above 0"),
    (("evaluate", "--homes", "0"), "argument --homes: '0': must be above 0"),
    (("run", "--demo", "--speed", "nan"), "argument --speed: 'nan': must be above 0"),
])
def test_impossible_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str,
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and expected in err and "Traceback" not in err


def test_hubs_are_listed_with_their_household_and_when_last_heard(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, "grids", "add", "g-01", "东园网格")
    assert run(capsys, "hubs", "add", "h-1", "--household", "hh-1")[0] == 2  # no such household yet
    csv = data_dir.parent / "homes.csv"
    csv.write_text("id,colour,grid,hub\nhh-1,red,g-01,h-1\n", encoding="utf-8")
    run(capsys, "households", "import", str(csv))
    code, out, _ = run(capsys, "hubs", "list")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:2] == ["hub", "household"]
    assert row.split()[:2] == ["h-1", "hh-1"] and row.endswith("never")
    # Found by a tester: any interval was kept, and one of 99999999 s hid a dead hub for ever.
    for interval in ("99999999", "0", "-5"):
        code, _, err = run(capsys, "hubs", "add", "h-2", "--household", "hh-1", "--report-interval", interval)
        assert code == 2 and "report interval is 10-3600 seconds" in err
    assert [h.split()[0] for h in run(capsys, "hubs", "list")[1].splitlines()[1:]] == ["h-1"]


def test_a_piped_password_is_read_without_a_warning(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, "staff", "add", "li", "--name", "李", "--role", "volunteer")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    code, out, err = run(capsys, "staff", "password", "li")  # no --stdin: piped all the same
    assert code == 0 and "password set for li" in out and "Warning" not in err


def test_dead_letters_say_how_many_were_dropped_to_stay_within_the_caps(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from shouwang.storage.dead_letters import Caps, DeadLetter

    run(capsys, "dead-letters")  # creates the state store where the command looks for it
    state = StateStore.open(f"sqlite:///{data_dir / 'state.db'}")
    try:
        state.dead_letters.add([DeadLetter(float(i), "p/hubs/h-9/water", "h-9", "bad", "{}") for i in range(30)],
                               Caps(per_hub=10, total=100))
    finally:
        state.close()
    code, out, _ = run(capsys, "dead-letters", "--limit", "1")
    assert code == 0
    assert out.splitlines()[0].startswith("10 dead letters in all")
    assert "20 older dead letters were dropped to stay within the caps" in out and "h-9 20" in out


def test_a_second_run_on_the_same_data_folder_is_refused_and_wipes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a newcomer: a second `shouwang run --demo` in the same folder started beside the
    first, on its files (its model loaded, its data due to be wiped)."""
    from cli.commands.common import DEMO_DIR
    from cli.commands.run import hold

    monkeypatch.chdir(tmp_path)
    first = hold(tmp_path / DEMO_DIR)  # as the first run holds it
    kept = tmp_path / DEMO_DIR / "state.db"
    kept.write_text("the first run's")
    try:
        code, _, err = run(capsys, "run", "--demo", "--duration", "1")
        assert code == 2 and err.startswith(f"shouwang: another `shouwang run` is using {tmp_path / DEMO_DIR}")
        assert kept.read_text() == "the first run's"
    finally:
        os.close(first)
    held_again = hold(tmp_path / DEMO_DIR)  # released with its descriptor
    os.close(held_again)


def test_retiring_someone_says_what_it_leaves_without_its_proper_recipient(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a tester: the last duty leader, the only admin and a red household's caseworker
    were each retired without a word; an alert was then routed to nobody."""
    for argv in (("grids", "add", "g-01", "东园网格"),
                 ("staff", "add", "wang.fang", "--name", "王芳", "--role", "grid_member", "--grid", "g-01"),
                 ("staff", "add", "zhou.hong", "--name", "周红", "--role", "duty_leader"),
                 ("staff", "add", "li.admin", "--name", "李主任", "--role", "admin")):
        assert run(capsys, *argv)[0] == 0
    code, out, err = run(capsys, "staff", "retire", "zhou.hong")
    assert code == 0 and "retired" in out
    assert "尚未登记值班领导" in err and "no duty leader is registered" in err
    code, _, err = run(capsys, "staff", "retire", "li.admin")
    assert code == 0 and "no admin is registered" in err and "duty leader" not in err  # only what is new
    assert run(capsys, "staff", "retire", "wang.fang")[2] == ""  # no grid has a household yet


def test_ids_the_api_refuses_are_refused_here_too_and_a_username_is_trimmed(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a tester: `grids add 'g 03'`, an empty grid name and `staff add ' ma.li '` were
    accepted; the API refuses the first two, and she could never sign in on the page."""
    code, _, err = run(capsys, "grids", "add", "g 03", "南园网格")
    assert code == 2 and "grid id 'g 03' is not valid" in err
    code, _, err = run(capsys, "grids", "add", "g-03", " ")
    assert code == 2 and "give it a name" in err
    assert run(capsys, "grids", "add", "g-03", "南园网格")[0] == 0
    assert run(capsys, "staff", "add", " ma.li ", "--name", "马丽", "--role", "grid_member", "--grid", "g-03")[0] == 0
    assert "ma.li" in run(capsys, "staff", "list")[1].split()
    code, _, err = run(capsys, "staff", "add", "马丽", "--name", "马丽", "--role", "grid_member", "--grid", "g-03")
    assert code == 2 and "username '马丽' is not valid" in err
    code, _, err = run(capsys, "staff", "add", "chen.jing", "--name", "陈静", "--role", "caseworker", "--grid", "g-03")
    assert code == 2 and "a caseworker takes no grid" in err  # shown under the grid, seeing none of it


def test_a_production_store_missing_its_driver_or_out_of_reach_is_one_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a tester: after the README's install, a PostgreSQL URL ended in a traceback
    (`No module named 'psycopg'`), and so did a database that does not exist."""
    monkeypatch.setenv("SHOUWANG_STORAGE__STATE_URL",
                       "postgresql+psycopg://postgres@127.0.0.1:5432/shouwang_no_such_database")
    code, _, err = run(capsys, "staff", "list")
    assert code == 2 and err.startswith("shouwang: the store cannot be reached: ") and "Traceback" not in err

    def missing(url: str) -> None:
        raise ModuleNotFoundError("No module named 'psycopg'", name="psycopg")

    monkeypatch.setattr("shouwang.storage.state.StateStore.open", missing)
    code, _, err = run(capsys, "staff", "list")
    assert code == 2 and "the PostgreSQL driver is not installed: pip install -e '.[postgres]'" in err


def test_a_misspelt_top_level_variable_is_refused_naming_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a tester: SHOUWANG_COMMUNTY was silently ignored, where a nested misspelling is refused."""
    monkeypatch.setenv("SHOUWANG_COMMUNTY", "利民社区")
    code, _, err = run(capsys, "staff", "list")
    assert code == 2 and "invalid settings (SHOUWANG_COMMUNTY in the environment is not a setting" in err
    monkeypatch.delenv("SHOUWANG_COMMUNTY")
    monkeypatch.setenv("SHOUWANG_TEST_ANYTHING", "x")  # the tests' own variables are no settings
    assert run(capsys, "staff", "list")[0] == 0


def test_changes_made_on_the_command_line_are_in_the_audit_trail(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a tester: staff, grids, hubs and imports changed here left no trace in the trail,
    where the same changes through the API do; a second `grids add` renamed a grid silently."""
    assert run(capsys, "grids", "add", "g-01", "东园网格")[0] == 0
    code, out, _ = run(capsys, "grids", "add", "g-01", "东苑网格")
    assert code == 0 and "renamed from 东园网格 to 东苑网格" in out
    assert run(capsys, "staff", "add", "wang.fang", "--name", "王芳", "--role", "grid_member", "--grid", "g-01")[0] == 0
    assert run(capsys, "staff", "update", "wang.fang", "--phone", "13800000001")[0] == 0
    sheet = tmp_path / "homes.csv"
    sheet.write_text("id,colour,grid,hub\nhh-1,red,g-01,h-1\n", encoding="utf-8")
    assert run(capsys, "households", "import", str(sheet))[0] == 0
    assert run(capsys, "hubs", "add", "h-2", "--household", "hh-1")[0] == 0
    assert run(capsys, "staff", "retire", "wang.fang")[0] == 0
    state = StateStore.open(f"sqlite:///{data_dir / 'state.db'}")
    try:
        trail = [(e.actor, e.action) for e in state.audit.since(0)]
    finally:
        state.close()
    assert [a for who, a in trail if who == "cli"] == [
        "grid_added", "grid_renamed", "staff_added", "staff_changed", "imported", "hub_added", "staff_retired"]
