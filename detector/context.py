"""What the detector is told about each household besides its readings."""

from __future__ import annotations

from dataclasses import dataclass

from shouwang.domain.model import Household, Hub


@dataclass(frozen=True, slots=True)
class Context:
    household: Household
    hubs: tuple[Hub, ...]
    watching_since: float
    """When this detector could first have heard from the home (registration or start-up)."""

    @property
    def tier(self) -> int:
        return int(self.household.tier)

    def is_away(self, now: float) -> bool:
        return self.household.away_until is not None and self.household.away_until > now
