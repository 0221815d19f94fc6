import pytest

from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Tier
from shouwang.registry_csv import parse, spreadsheet_text

GOOD = """id,colour,grid,hub,alias,caseworker
hh-1,red,g-01,h-1,王秀英,chen
hh-2,3,g-02,h-2,,
"""


def test_colours_may_be_written_in_chinese() -> None:
    assert [r.tier for r in parse("id,colour,grid,hub\nhh-1,红色,g,h-1\nhh-2,绿,g,h-2\n")] == [
        Tier.RED, Tier.GREEN]


def test_rows_become_households_with_colours() -> None:
    rows = parse(GOOD)
    assert [(r.id, r.tier, r.hub_id, r.caseworker) for r in rows] == [
        ("hh-1", Tier.RED, "h-1", "chen"), ("hh-2", Tier.YELLOW, "h-2", None)]


def test_a_spreadsheet_bom_and_column_case_do_not_matter() -> None:
    assert parse("\ufeffID,Colour,Grid,Hub\nhh-1,Green,g,h\n")[0].tier is Tier.GREEN


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported() -> None:
    text = "id,colour,grid,hub\nhh-1,purple,g,h-1\nhh-2,red,,h-2\nhh-3,red,g,h-1\nhh-4,red,g,h-1\n"
    with pytest.raises(InvalidInput) as refused:
        parse(text)
    message = str(refused.value)
    assert "line 2" in message and "purple" in message
    assert "line 3" in message and "grid" in message
    assert "line 4: hub h-1 repeats line 2" in message
    assert "line 5: hub h-1 repeats line 2" in message


def test_missing_and_unknown_columns_are_named() -> None:
    with pytest.raises(InvalidInput, match="lacks hub"):
        parse("id,colour,grid\n")
    with pytest.raises(InvalidInput, match="unknown CSV columns shoe"):
        parse("id,colour,grid,hub,shoe\n")


def test_a_csv_saved_by_chinese_excel_is_read_and_anything_else_is_refused_with_advice() -> None:
    text = "id,colour,grid,hub,alias\nhh-1,红,g-01,h-1,王秀英\n"
    assert spreadsheet_text(text.encode("gbk"), source="homes.csv") == text
    assert spreadsheet_text(b"\xef\xbb\xbf" + text.encode(), source="homes.csv") == text
    assert parse(spreadsheet_text(text.encode("gbk"), source="homes.csv"))[0].alias == "王秀英"
    with pytest.raises(InvalidInput, match="save it from the spreadsheet as \"CSV UTF-8\""):
        spreadsheet_text(b"id,colour\n\xff\xfe\xff", source="homes.csv")


def test_a_bad_cell_is_named_by_its_line_and_column() -> None:
    text = "id,colour,grid,hub,report_interval_s\nhh-1,red,g-01,h-1,abc\nhh-2,red,g-01,h-2,5\n"
    with pytest.raises(InvalidInput) as refused:
        parse(text)
    message = str(refused.value)
    assert "line 2: column report_interval_s: 'abc' is not a number of seconds" in message
    assert "line 3: column report_interval_s: must be 10-3600 seconds, got 5" in message
