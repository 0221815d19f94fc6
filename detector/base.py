"""What every detector offers the service and the evaluation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from detector.context import Context
from detector.signs import HomeState, SignOfLife
from shouwang.domain.alerts import Finding


class Detector(Protocol):
    """Learns from signs of life; assessing (what is wrong now) is separate from learning.

    The service (and the evaluation) calls `learn_one` for every sign of life, `observe` after
    every reading with the tracker's state of that home, and `assess` once per tick.
    """

    name: str

    def learn_one(self, sign: SignOfLife) -> None: ...

    def learn(self, signs: Iterable[SignOfLife]) -> None:
        """Learn from many signs, oldest first, without changing them."""
        ...

    def observe(self, home: HomeState, *, hub_id: str, at: float) -> None:
        """A reading from `hub_id` arrived at clock time `at`; `home` is the tracker after it."""
        ...

    def history_days(self, household_id: str) -> int:
        """How many days of the household's history the detector has learned from."""
        ...

    def assess(
        self, now: float, homes: Mapping[str, HomeState], contexts: Mapping[str, Context]
    ) -> list[Finding]: ...
