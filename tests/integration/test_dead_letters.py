"""The dead-letter table on SQLite and PostgreSQL: any text fits, and it stays within its caps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shouwang.storage.dead_letters import Caps, DeadLetter
from shouwang.storage.state import StateStore


@pytest.fixture
def state(any_state_url: str) -> Iterator[StateStore]:
    store = StateStore.open(any_state_url)
    yield store
    store.close()


def letter(hub: str | None, n: int = 0, **text: str) -> DeadLetter:
    fields = {"topic": f"p/hubs/{hub}/water", "reason": "bad", "payload": str(n)} | text
    return DeadLetter(float(n), fields["topic"], hub, fields["reason"], fields["payload"], category="bad_value")


def test_any_text_a_message_carries_is_stored(state: StateStore) -> None:
    """PostgreSQL refuses NUL characters and text longer than a column; SQLite unpaired surrogates."""
    long_hub = "h" * 100
    state.dead_letters.add([
        letter(long_hub, topic="p/hubs/" + long_hub + "/water" + "x" * 60_000),
        letter("h-1", payload="\x00garbage", reason="'ts' \ud800 is not RFC 3339"),
    ])
    kept = {d.hub_id: d for d in state.dead_letters.recent()}
    assert set(kept) == {"h" * 64, "h-1"}
    assert len(kept["h" * 64].topic) == 500
    assert "\x00" not in kept["h-1"].payload and "garbage" in kept["h-1"].payload


def test_the_oldest_are_dropped_beyond_the_caps_and_the_drops_are_counted(state: StateStore) -> None:
    caps = Caps(per_hub=50, total=120)
    for batch in range(10):
        state.dead_letters.add([letter("h-flood", batch * 100 + i) for i in range(100)], caps)
    state.dead_letters.add([letter("h-quiet", i) for i in range(30)], caps)
    state.dead_letters.add([letter(None, i) for i in range(80)], caps)
    assert state.dead_letters.count() == 120
    by_hub: dict[str | None, list[float]] = {}
    for d in state.dead_letters.recent(1000):
        by_hub.setdefault(d.hub_id, []).append(d.received_at)
    assert len(by_hub["h-flood"]) <= 50 and max(by_hub["h-flood"]) == 999.0  # the newest kept
    assert len(by_hub[None]) == 80
    drops = state.dead_letters.drops()
    assert drops["h-flood"] == 950
    assert sum(drops.values()) == 1000 + 30 + 80 - 120


def test_without_caps_nothing_is_dropped(state: StateStore) -> None:
    assert state.dead_letters.add([letter("h-1", i) for i in range(200)]) == 0
    assert state.dead_letters.count() == 200 and state.dead_letters.drops() == {}
