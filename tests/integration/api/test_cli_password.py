"""`shouwang staff password`: an administrator gives someone a password for the web page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cli.main import main
from shouwang.storage.state import StateStore


def test_a_password_set_from_the_command_line_signs_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path))
    assert main(["staff", "add", "li.na", "--name", "李娜", "--role", "volunteer"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["staff", "password", "li.na", "--stdin"]) == 0
    assert "password set for li.na" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "password", "li.na", "--stdin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert state.credentials.sign_in("li.na", "a long passphrase") is not None
        assert state.credentials.sign_in("li.na", "short") is None
    finally:
        state.close()
