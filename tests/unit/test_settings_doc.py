"""The README's settings table is the settings class, not a copy that drifts from it."""

from __future__ import annotations

from pathlib import Path

from shouwang import settings_doc

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_settings_table_matches_the_settings_class() -> None:
    current = settings_doc.section_in(README.read_text(encoding="utf-8"))
    assert current == settings_doc.markdown(), (
        "README.md's settings table differs from shouwang/settings.py; replace it with the output of "
        "`shouwang settings --markdown`")


def test_every_setting_has_a_row_with_its_default() -> None:
    table = settings_doc.markdown()
    assert "| `SHOUWANG_DETECTOR__LEARNED__MIN_HISTORY_DAYS` | `3` |" in table
    assert "| `SHOUWANG_MQTT__URL` | unset |" in table
    assert "| `SHOUWANG_SECRET_KEY` | unset |" in table
    assert '"red": [5, 15]' in table


def test_a_table_without_its_markers_is_missing_not_equal() -> None:
    assert settings_doc.section_in("# no table here") == ""

