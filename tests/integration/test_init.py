"""`shouwang init` sets a community up from nothing; `shouwang run` will not start as the demo's."""

from __future__ import annotations

import io
import socket
import stat
from pathlib import Path

import pytest

from cli.main import main
from shouwang.settings import Settings
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder as the current one, with no SHOUWANG_* variable leaking in."""
    monkeypatch.chdir(tmp_path)
    for name in ("SHOUWANG_COMMUNITY", "SHOUWANG_STORAGE__DATA_DIR", "SHOUWANG_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def init(monkeypatch: pytest.MonkeyPatch, password: str, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["init", "--community", "利民社区", "--timezone", "Asia/Urumqi", "--admin", "li",
                 "--admin-name", "李主任", "--password-stdin", *extra])


def test_init_writes_the_settings_secret_and_first_admin(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assert init(monkeypatch, "a long enough password") == 0
    out = capsys.readouterr().out
    assert "shouwang households import" in out and "shouwang run" in out
    settings = Settings.load(here / "shouwang.toml")
    assert (settings.community, settings.timezone) == ("利民社区", "Asia/Urumqi")
    secret = here / "shouwang-data" / "secret_key"
    assert len(secret.read_text()) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    state = StateStore.open(settings.storage.state_database_url())
    try:
        admin = state.registry.staff_by_username("li")
        assert admin.role.value == "admin" and admin.name == "李主任"
        assert state.credentials.sign_in("li", "a long enough password") == admin
    finally:
        state.close()


def test_every_command_beside_the_file_reads_it(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assert init(monkeypatch, "a long enough password") == 0
    capsys.readouterr()
    assert main(["settings"]) == 0
    assert '"community": "利民社区"' in capsys.readouterr().out


def test_init_refuses_a_short_password_before_writing_anything(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assert init(monkeypatch, "short") == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert not (here / "shouwang.toml").exists() and not (here / "shouwang-data").exists()


def test_init_does_not_overwrite_a_community_already_set_up(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assert init(monkeypatch, "a long enough password") == 0
    before = (here / "shouwang.toml").read_text()
    assert init(monkeypatch, "another long password") == 2
    assert "exists already" in capsys.readouterr().err
    assert (here / "shouwang.toml").read_text() == before


def test_init_without_a_terminal_names_the_missing_flag(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["init", "--admin-name", "李主任", "--password-stdin"]) == 2
    assert "--community is needed" in capsys.readouterr().err


def test_run_outside_the_demo_refuses_the_demo_community_and_names_init(
    here: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--duration", "0"]) == 2
    assert "shouwang init" in capsys.readouterr().err


def test_run_names_every_port_that_is_taken_at_once(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as mqtt, socket.socket() as api:
        for s in (mqtt, api):
            s.bind(("127.0.0.1", 0))
            s.listen()
        monkeypatch.setenv("SHOUWANG_COMMUNITY", "利民社区")
        monkeypatch.setenv("SHOUWANG_MQTT__EMBEDDED_PORT", str(mqtt.getsockname()[1]))
        monkeypatch.setenv("SHOUWANG_API__PORT", str(api.getsockname()[1]))
        assert main(["run", "--duration", "0"]) == 2
    err = capsys.readouterr().err
    assert "SHOUWANG_MQTT__EMBEDDED_PORT" in err and "SHOUWANG_API__PORT" in err


def test_the_first_admin_goes_where_the_environment_puts_the_state_store(
    here: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str,
) -> None:
    """Found by a tester: with SHOUWANG_STORAGE__STATE_URL (PostgreSQL) set, `init` said the admin
    was created, into a SQLite file of its own; the store the roles use had no staff."""
    monkeypatch.setenv("SHOUWANG_STORAGE__STATE_URL", sqlite_url)
    assert init(monkeypatch, "a long enough password") == 0
    state = StateStore.open(sqlite_url)
    try:
        assert state.registry.staff_by_username("li").role.value == "admin"
    finally:
        state.close()
    assert not (here / "shouwang-data" / "state.db").exists()


def test_a_settings_file_named_from_another_folder_finds_its_community(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a tester: `--settings /srv/community/shouwang.toml` run elsewhere made a new, empty
    community in the current folder ("staff member li.qiang was not found")."""
    (here / "community").mkdir()
    monkeypatch.chdir(here / "community")
    assert init(monkeypatch, "a long enough password") == 0
    (here / "elsewhere").mkdir()
    monkeypatch.chdir(here / "elsewhere")
    capsys.readouterr()
    assert main(["--settings", str(here / "community" / "shouwang.toml"), "staff", "list"]) == 0
    assert "li " in capsys.readouterr().out
    assert list((here / "elsewhere").iterdir()) == []


def test_the_stores_are_readable_by_their_user_only(
    here: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a tester: `init` left state.db readable by every user of the machine (0644);
    an elder's readings show when she is home."""
    assert init(monkeypatch, "a long enough password") == 0
    settings = Settings.load(here / "shouwang.toml")
    SqliteReadingStore(settings.storage.readings_file()).close()
    data = here / "shouwang-data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("state.db", "readings.db"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
