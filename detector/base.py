"""What every detector offers the service and the evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from detector.context import Context
from detector.signs import HomeState, SignOfLife
from shouwang.domain.alerts import Finding


class Detector(Protocol):
    """Learns from signs of life; assessing (what is wrong now) is separate from learning."""

    name: str

    def learn_one(self, sign: SignOfLife) -> None: ...

    def assess(
        self, now: float, homes: Mapping[str, HomeState], contexts: Mapping[str, Context]
    ) -> list[Finding]: ...
