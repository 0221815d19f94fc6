"""The interfaces services depend on; adapters implement them, tests may fake them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shouwang.domain.model import StoredReading

SensorKey = tuple[str, str, str]
"""(household id, hub id, sensor)."""


class ReadingStoreUnavailable(Exception):
    """The reading store cannot take writes now (down, unreachable, overloaded, out of disk), as
    opposed to refusing these readings: the writer should wait and try again, not give up on them."""


class ReadingStore(Protocol):
    """Where every reading is kept: SQLite on one machine, InfluxDB 2 at scale."""

    def write(self, readings: Sequence[StoredReading]) -> int:
        """Store readings; return how many were new (duplicates are ignored). Raises
        ReadingStoreUnavailable when the store cannot take them now, whatever they are."""
        ...

    def query(
        self, *, household_id: str, start: float, end: float, sensor: str | None = None
    ) -> list[StoredReading]:
        """A household's readings with start <= ts < end, oldest first."""
        ...

    def latest(
        self, keys: Sequence[SensorKey], *, since: float, limit: int, before: float | None = None,
    ) -> dict[SensorKey, list[StoredReading]]:
        """Each hub sensor's newest `limit` readings with since <= ts (< before), newest first (what
        a gateway judges a hub's next reading against after a restart), in one request; a key
        with none is left out."""
        ...

    def close(self) -> None: ...
