"""What the detector remembers of each household across restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shouwang.domain.model import Grid, Household, Tier
from shouwang.storage.memory import HouseholdMemory
from shouwang.storage.state import StateStore

NOW = 1_750_000_000.0


@pytest.fixture
def state(any_state_url: str) -> Iterator[StateStore]:
    store = StateStore.open(any_state_url)
    store.registry.add_grid(Grid("g-a", "A"))
    for household_id in ("hh-1", "hh-2"):
        store.registry.add_household(Household(household_id, Tier.RED, "g-a"), now=NOW)
    yield store
    store.close()


def test_the_memory_of_each_household_is_kept_and_updated_in_place(state: StateStore) -> None:
    memory = state.memory
    assert memory.all() == {}
    first = HouseholdMemory("hh-1", NOW - 86400, first_heard_at=NOW - 80000, updated_at=NOW)
    memory.save([first, HouseholdMemory("hh-2", NOW - 3600, updated_at=NOW)])
    later = HouseholdMemory("hh-1", NOW - 86400, first_heard_at=NOW - 80000,
                            last_water_at=NOW + 30, updated_at=NOW + 60)
    memory.save([later])
    assert memory.all() == {"hh-1": later,
                            "hh-2": HouseholdMemory("hh-2", NOW - 3600, updated_at=NOW)}
