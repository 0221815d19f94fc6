"""Importing a community's spreadsheet into a real state store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Grid, Role
from shouwang.registration import import_households
from shouwang.storage.state import StateStore

NOW = 1_750_000_000.0
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    store.registry.add_grid(Grid("g-01", "东园网格"))
    store.registry.add_staff(username="chen", name="陈静", role=Role.CASEWORKER, now=NOW)
    store.registry.add_staff(username="wang", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-01"], now=NOW)
    yield store
    store.close()


def test_households_and_hubs_are_added_then_updated_never_duplicated(state: StateStore) -> None:
    first = import_households(state, "id,colour,grid,hub,alias,caseworker\nhh-1,红色,g-01,h-1,王秀英,chen\n"
                              "hh-2,yellow,g-01,h-2,李桂英,\n", now=NOW, tz=TZ)
    assert (first.added, first.updated, first.hubs_added) == (2, 0, 2)
    again = import_households(state, "id,colour,grid,hub,alias\nhh-1,red,g-01,h-1,王秀英（东园3号）\n", now=NOW, tz=TZ)
    assert (again.added, again.updated, again.hubs_added) == (0, 1, 0)
    assert state.registry.household("hh-1").alias == "王秀英（东园3号）"
    assert again.changed == ("hh-1: alias 王秀英 → 王秀英（东园3号）",)
    assert [h.id for h in state.registry.hubs()] == ["h-1", "h-2"]


def test_a_reimport_leaves_what_its_file_has_no_column_for_and_changes_no_colour(state: StateStore) -> None:
    """Found by a tester: an installer's sheet of hubs (id,colour,grid,hub only) emptied a red
    household's caseworker, alias and address; last month's sheet turned it green; the audit said
    only "1 updated"."""
    state.registry.add_grid(Grid("g-02", "西园网格"))
    import_households(state, "id,colour,grid,hub,alias,address,caseworker\n"
                      "hh-1,red,g-01,h-1,王秀英,东园3-2-101,chen\n", now=NOW, tz=TZ)
    hubs_only = import_households(state, "id,colour,grid,hub\nhh-1,red,g-01,h-1\n", now=NOW, tz=TZ)
    home = state.registry.household("hh-1")
    assert (home.caseworker_id, home.alias, home.address) == (state.registry.staff_by_username("chen").id,
                                                              "王秀英", "东园3-2-101")
    assert hubs_only.changed == ()
    with pytest.raises(InvalidInput) as refused:
        import_households(state, "id,colour,grid,hub\nhh-1,green,g-02,h-1\n", now=NOW, tz=TZ)
    assert "line 2: household hh-1 is red and this file makes it green" in str(refused.value)
    assert "shouwang households colour hh-1 green --reason" in str(refused.value)
    assert state.registry.household("hh-1").grid_id == "g-01", "nothing imported"
    moved = import_households(state, "id,colour,grid,hub,caseworker\nhh-1,red,g-02,h-1,\n", now=NOW, tz=TZ)
    assert moved.changed == ("hh-1: grid g-01 → g-02; caseworker chen → (none)",)


def test_a_row_with_more_cells_than_the_header_is_a_problem_of_its_line_and_empty_rows_are_skipped(
        state: StateStore) -> None:
    """Found by a tester: an address typed with an unquoted comma gave a traceback (a 500 through
    the API); Excel's empty rows saved as ",,," refused the whole file."""
    with pytest.raises(InvalidInput) as refused:
        import_households(state, "id,colour,grid,hub,address\nhh-1,red,g-01,h-1,东园3,2,101\n", now=NOW, tz=TZ)
    assert "line 2: 7 cells but the header has 5 columns (a comma inside a cell must be quoted)" in str(refused.value)
    report = import_households(state, "id,colour,grid,hub\nhh-1,red,g-01,h-1\n,,,\n,,,\n", now=NOW, tz=TZ)
    assert report.added == 1


def test_every_problem_in_the_file_is_reported_at_once_and_nothing_is_imported(state: StateStore) -> None:
    text = ("id,colour,grid,hub,caseworker\n"
            "hh-1,red,g-01,h-1,chen\n"
            "hh-2,purple,g-01,h-2,\n"
            "hh-1,red,g-01,h-3,\n"
            "hh-4,red,g-09,h-4,\n"
            "hh-5,red,g-01,h-5,nobody\n"
            "hh-6,red,g-01,h-6,wang\n")
    with pytest.raises(InvalidInput) as refused:
        import_households(state, text, now=NOW, tz=TZ)
    message = str(refused.value)
    for expected in ("line 3: column colour: unknown colour 'purple'", "line 4: household hh-1 repeats line 2",
                     "line 5: grid g-09 does not exist", "line 6: caseworker nobody is not registered",
                     "line 7: wang is a grid_member, not a caseworker"):
        assert expected in message
    assert message.index("line 3") < message.index("line 4") < message.index("line 7")
    assert state.registry.households() == []


def test_a_new_grid_is_created_only_when_the_file_names_it(state: StateStore) -> None:
    report = import_households(state, "id,colour,grid,grid_name,hub\nhh-1,green,g-02,西园网格,h-1\n", now=NOW, tz=TZ)
    assert report.grids_added == 1
    assert Grid("g-02", "西园网格") in state.registry.grids()


def test_consent_columns_record_who_agreed_once(state: StateStore) -> None:
    text = ("id,colour,grid,hub,consent_by,consent_relationship,consent_date,share_with_family\n"
            "hh-1,red,g-01,h-1,王秀英,self,2026-11-01,是\nhh-2,blue,g-01,h-2,,,,\n")
    report = import_households(state, text, now=NOW, tz=TZ)
    assert report.consents_recorded == 1
    assert state.consent.consenting() == {"hh-1"}
    consent = state.consent.current("hh-1")
    assert consent is not None and consent.share_with_family and consent.given_by == "王秀英"
    assert import_households(state, text, now=NOW + 60, tz=TZ).consents_recorded == 0


def test_a_consent_date_without_who_agreed_is_refused(state: StateStore) -> None:
    with pytest.raises(InvalidInput, match="consent_by"):
        import_households(state, "id,colour,grid,hub,consent_date\nhh-1,red,g-01,h-1,2026-11-01\n",
                          now=NOW, tz=TZ)


def test_what_a_write_would_refuse_is_found_first_so_nothing_is_imported(state: StateStore) -> None:
    """Found by a tester: a bad hub id stopped the import at its row, after the rows before it
    (and that household, without its hub) were written; a re-import after a household was retired
    moved it back to its old grid, then stopped at its retired hub."""
    import_households(state, "id,colour,grid,hub,alias\nhh-1,red,g-01,h-1,王秀英\n", now=NOW, tz=TZ)
    with pytest.raises(InvalidInput) as refused:
        import_households(state, "id,colour,grid,hub\nhh-2,red,g-01,h-2\nhh-3,red,g-01,h/3\nhh 4,red,g 5,h-4\n",
                          now=NOW, tz=TZ)
    said = str(refused.value)
    assert "line 3: column hub: hub id 'h/3' is not valid" in said
    assert "line 4: column id: household id 'hh 4' is not valid" in said
    assert [h.id for h in state.registry.households()] == ["hh-1"]
    state.registry.retire_household("hh-1", now=NOW)
    with pytest.raises(InvalidInput) as refused:
        import_households(state, "id,colour,grid,hub,alias\nhh-1,red,g-01,h-1,改了\nhh-5,red,g-01,h-1,\n",
                          now=NOW, tz=TZ)
    said = str(refused.value)
    assert "line 2: household hh-1 was retired" in said and "line 3: hub h-1 was retired" in said
    assert state.registry.household("hh-1").alias == "王秀英"
