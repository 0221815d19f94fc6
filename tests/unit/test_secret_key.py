"""The community's secret, generated once beside the data: never empty, never two of them."""

from __future__ import annotations

import logging
import multiprocessing
import stat
from pathlib import Path

import pytest

from cli.bootstrap import ensure_secret
from shouwang.domain.errors import ShouwangError
from shouwang.settings import Settings


def settings(folder: Path) -> Settings:
    return Settings(storage={"data_dir": folder})  # type: ignore[arg-type]


def test_a_secret_is_made_once_whole_and_private(tmp_path: Path) -> None:
    first = ensure_secret(settings(tmp_path / "data"))
    path = tmp_path / "data" / "secret_key"
    assert len(first) >= 32 and path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ensure_secret(settings(tmp_path / "data")) == first
    left = sorted(p.name for p in path.parent.iterdir())
    assert left == [".secret_key.lock", "secret_key"], "no temporary file left"


def test_an_empty_secret_file_left_by_a_full_disk_is_made_again_never_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a tester: a disk full at the first start left the file created and empty; the
    next start signed every acknowledgement link and webhook with the empty key, so anyone could
    make a link that resolves any alert."""
    monkeypatch.setattr(logging.getLogger("cli.bootstrap"), "disabled", True)
    path = tmp_path / "secret_key"
    path.write_text("\n")
    made = ensure_secret(settings(tmp_path))
    assert len(made) >= 32 and path.read_text() == made


def test_a_short_secret_written_by_hand_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("changeme\n")
    with pytest.raises(ShouwangError, match="shorter than 16 characters"):
        ensure_secret(settings(tmp_path))


def _secret_of(folder: str) -> str:
    return ensure_secret(settings(Path(folder)))


@pytest.mark.parametrize("start", ["no file", "an empty file"])
def test_roles_started_together_agree_on_one_secret(tmp_path: Path, start: str) -> None:
    """Found by a regression tester: with an empty file, roles started together could each make
    and use a different secret (2 starts in 30), so one role's links failed in another."""
    if start == "an empty file":
        (tmp_path / "secret_key").write_text("")
    context = multiprocessing.get_context("spawn")
    with context.Pool(6) as pool:
        made = pool.map(_secret_of, [str(tmp_path)] * 12)
    assert len(set(made)) == 1 and made[0] == (tmp_path / "secret_key").read_text()
