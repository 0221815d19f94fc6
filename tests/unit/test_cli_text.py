"""What the command line prints lines up, Chinese names included."""

from __future__ import annotations

from cli.commands.common import pad


def test_a_chinese_name_is_padded_by_the_columns_it_takes() -> None:
    assert pad("东园网格", 10) == "东园网格  "  # four characters, eight columns
    assert pad("g-01", 6) == "g-01  "
    assert pad("很长很长的名字", 4) == "很长很长的名字"
