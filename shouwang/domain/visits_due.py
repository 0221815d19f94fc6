"""The five visits (五色五访): when each household is next due a visit, by whom, and how late it is.

Pure: the repository hands in the households, their last visits, the roster and the time. Each
colour's cadence is claimed by a role (DESIGN's table): red by its caseworker, orange by the grid
head, yellow by the grid members, blue by the volunteers who visit it, green by the building heads
(the grid members stand in, as Shouwang keeps no building heads). Whoever claimed it is the person
reminded; where nobody holds that role the grid members are, so an overdue visit always has someone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shouwang.domain.model import Household, Role, Staff, Tier


@dataclass(frozen=True, slots=True)
class VisitDue:
    household_id: str
    tier: Tier
    last_visit_at: float | None
    due_at: float
    every_s: float
    claimed_by: tuple[int, ...]
    """The staff who claimed this household's visits (reminded when it is overdue)."""
    now: float

    @property
    def overdue(self) -> bool:
        return self.now > self.due_at

    @property
    def overdue_s(self) -> float:
        return max(0.0, self.now - self.due_at)

    @property
    def period(self) -> int:
        """0 while not overdue; then 1 for the first missed period, 2 once another has passed, …

        A reminder is sent once per period, so a red household unvisited for three days reminds
        its caseworker three times, not at every dispatch round."""
        if not self.overdue:
            return 0
        return 1 + math.floor(self.overdue_s / self.every_s)


class Claims:
    """Who claimed which household's visits, looked up without walking the roster each time."""

    def __init__(self, roster: Sequence[Staff]) -> None:
        self._by_id: dict[int, Staff] = {}
        self._members: dict[str, list[Staff]] = {}
        self._heads: dict[str, list[Staff]] = {}
        self._volunteers: dict[str, list[Staff]] = {}
        for s in sorted((s for s in roster if s.active), key=lambda s: s.id):
            self._by_id[s.id] = s
            if s.role in (Role.GRID_MEMBER, Role.GRID_HEAD):
                into = self._members if s.role is Role.GRID_MEMBER else self._heads
                for grid in s.grid_ids:
                    into.setdefault(grid, []).append(s)
            elif s.role is Role.VOLUNTEER:
                for household in s.household_ids:
                    self._volunteers.setdefault(household, []).append(s)

    def of(self, household: Household) -> list[Staff]:
        """Who claimed the household's visits, per its colour; the grid members where nobody did."""
        members = self._members.get(household.grid_id, [])
        claimed: list[Staff]
        if household.tier is Tier.RED:
            caseworker = self._by_id.get(household.caseworker_id) if household.caseworker_id else None
            claimed = [caseworker] if caseworker is not None else []
        elif household.tier is Tier.ORANGE:
            claimed = self._heads.get(household.grid_id, [])
        elif household.tier is Tier.BLUE:
            claimed = self._volunteers.get(household.id, [])
        else:
            claimed = members
        return list(claimed or members)


def claimants(household: Household, roster: Sequence[Staff]) -> list[Staff]:
    """Who claimed the household's visits, per its colour; the grid members where nobody did."""
    return Claims(roster).of(household)


def visit_due(household: Household, last_visit_at: float | None, roster: Sequence[Staff] | Claims, *,
              every_s: float, now: float) -> VisitDue:
    """When `household` is next due a visit: a cadence after the last one (or after it came under
    watch, when nobody has visited it yet)."""
    start = next(t for t in (last_visit_at, household.monitoring_since, now) if t is not None)
    claims = roster if isinstance(roster, Claims) else Claims(roster)
    return VisitDue(household.id, household.tier, last_visit_at, start + every_s, every_s,
                    tuple(s.id for s in claims.of(household)), now)


def visits_due(households: Iterable[Household], last_visits: Mapping[str, float],
               roster: Sequence[Staff], every_s: Mapping[Tier, float], *, now: float) -> list[VisitDue]:
    """Every active household's next visit, most overdue first."""
    claims = Claims(roster)
    found = [visit_due(h, last_visits.get(h.id), claims, every_s=every_s[h.tier], now=now)
             for h in households if h.is_active]
    return sorted(found, key=lambda d: (d.due_at, int(d.tier), d.household_id))


def overdue_for(staff: Staff, dues: Iterable[VisitDue]) -> list[VisitDue]:
    """The overdue visits `staff` claimed."""
    return [d for d in dues if d.overdue and staff.id in d.claimed_by]
