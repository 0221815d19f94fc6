"""What the command line prints lines up, Chinese names included."""

from __future__ import annotations

from cli.commands.common import pad


def test_a_chinese_name_is_padded_by_the_columns_it_takes() -> None:
    assert pad("东园网格", 10) == "东园网格  "  # four characters, eight columns
    assert pad("g-01", 6) == "g-01  "
    assert pad("很长很长的名字", 4) == "很长很长的名字"


def test_a_gap_is_printed_in_chinese_first_with_the_english_beneath_it_aligned() -> None:
    from cli.commands.common import gap_lines
    from dispatch.gaps import Gap

    assert gap_lines(Gap("nobody on duty", "无人值班"), "gap: ") == ["gap: 无人值班", "     nobody on duty"]
