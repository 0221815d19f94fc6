"""What the API needs from the rest of the system, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from shouwang.clock import Clock
from shouwang.metrics import Metrics
from shouwang.settings import Settings
from shouwang.storage.ports import ReadingStore
from shouwang.storage.state import StateStore


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    state: StateStore
    readings: ReadingStore
    clock: Clock
    metrics: Metrics

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)
