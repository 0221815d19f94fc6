"""A state store lost beside its community's data is refused at start, not made afresh."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from cli.bootstrap import build
from cli.main import main
from shouwang.domain.errors import ShouwangError
from shouwang.domain.model import Grid, Household, StoredReading, Tier
from shouwang.settings import Settings
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore


def settings(folder: Path) -> Settings:
    return Settings(storage={"data_dir": folder})  # type: ignore[arg-type]


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_state_store_lost_beside_the_communitys_readings_is_refused_with_what_to_do(
        tmp_path: Path, how: str) -> None:
    """Found by a storage tester: a state.db deleted, or left 0 bytes by a disk fault, was made
    afresh in silence; alerts, households, consent and staff were gone, the system said it was
    running, and every hub's readings from then on became `unknown_hub` dead letters."""
    folder = tmp_path / "data"
    state = StateStore.open(f"sqlite:///{folder / 'state.db'}")
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_household(Household("hh-1", Tier.RED, "g-1"), now=time.time())
    state.close()
    readings = SqliteReadingStore(folder / "readings.db")
    readings.write([StoredReading("hh-1", "h-1", "water", time.time(), 1.0)])
    readings.close()
    build(settings(folder), with_api=False).stop()  # the community as it was: it starts
    if how == "deleted":
        (folder / "state.db").unlink()
    else:
        (folder / "state.db").write_bytes(b"")
    for extra in folder.glob("state.db-*"):
        extra.unlink()
    with pytest.raises(ShouwangError, match=r"state store .* is empty, but this community's data is here: "
                                            r".*readings\.db \(readings\)\. Restore the state store"):
        build(settings(folder), with_api=False)
    if how == "deleted":
        assert not (folder / "state.db").exists(), "a refused start leaves no empty store behind"


def test_no_command_fills_an_empty_state_store_beside_a_community_either(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a regression tester: `init --force` or a `staff add` on the folder filled the empty
    store enough that `run` then started the community afresh beside its readings."""
    folder = tmp_path / "data"
    readings = SqliteReadingStore(folder / "readings.db")
    readings.write([StoredReading("hh-1", "h-1", "water", time.time(), 1.0)])
    readings.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(folder))
    assert main(["staff", "add", "wang", "--name", "王芳", "--role", "duty_leader"]) == 2
    assert "this community's data is here" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["init", "--community", "利民社区", "--admin", "li", "--admin-name", "李主任",
                 "--data-dir", str(folder), "--password-stdin", "--force"]) == 2
    assert "this community's data is here" in capsys.readouterr().err
    assert not (folder / "state.db").exists() and not (tmp_path / "shouwang.toml").exists()


def test_a_fresh_folder_starts(tmp_path: Path) -> None:
    build(settings(tmp_path / "new"), with_api=False).stop()
    build(settings(tmp_path / "new"), with_api=False).stop()  # and again, still without anyone in it
