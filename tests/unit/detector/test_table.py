"""The household table's storage: rows kept across growth, new rows at each column's fill."""

from __future__ import annotations

import numpy as np

from detector.table import HouseholdTable


def test_reserving_room_keeps_every_row_and_fills_the_new_ones() -> None:
    table = HouseholdTable()
    first = table.row("hh-1")
    table.last_sign[first] = 1_750_000_000.0
    table.counts[first, 5] = 2.5
    table.reserve(1000)
    assert table.capacity == 1000 and len(table) == 1
    assert table.last_sign[first] == 1_750_000_000.0 and table.counts[first, 5] == 2.5
    second = table.row("hh-2")
    assert second == 1 and table.capacity == 1000  # no growth while there is room
    assert np.isnan(table.last_sign[second]) and table.tier[second] == 5 and table.day_exposure[second, 0] == 1.0
    table.reserve(10)  # never shrinks
    assert table.capacity == 1000
