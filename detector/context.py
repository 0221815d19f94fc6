"""What the detector is told about each household besides its readings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from detector.availability import HomeDevices
from shouwang.domain.alerts import AlertKind
from shouwang.domain.model import Household, Hub


@dataclass(frozen=True, slots=True)
class Context:
    household: Household
    hubs: tuple[Hub, ...]
    watching_since: float
    """When this detector could first have heard from the home (registration or start-up)."""
    checked: Mapping[AlertKind, float] = field(default_factory=dict)
    """When staff last closed an alert of each kind: someone checked then, so a new silence
    (or run, or outage) counts from that moment instead of reopening the alert at once."""
    down: tuple[float, float] | None = None
    """When the detector itself was down (from its last save to its restart), if it was: a hub
    heard until then counts as heard at the restart (the outage was ours, not the hub's)."""
    devices: HomeDevices = field(default_factory=HomeDevices)
    """What the bridges say of the home's mapped devices: which are down (`detector.availability`)."""

    def counted_from(self, kind: AlertKind, since: float) -> float:
        return max(since, self.checked.get(kind, since))

    @property
    def tier(self) -> int:
        return int(self.household.tier)

    def is_away(self, now: float) -> bool:
        return self.household.away_until is not None and self.household.away_until > now
