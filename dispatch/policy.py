"""Routing policy, pure: who hears about an alert at each rung of its ladder (what would leave
an alert without its proper recipient: `dispatch.gaps`).

The ladders themselves are data (`dispatch.ladders`); by default rung 0 is the household's grid
members, and for a red household its caseworker; rung 1 the grid head; rung 2 the duty leader.
A rung with nobody on it falls through to the next; a ladder with nobody on it at all reaches the
community's admins, so an alert reaches someone whenever anyone is registered.
"""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.ladders import Ladder, LadderPolicy, default_ladder, rung, step_staff
from shouwang.domain.alerts import AlertKind
from shouwang.domain.cover import NO_COVER, Cover
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Household, Staff
from shouwang.settings import DEFAULT_LADDERS_MIN

TOP_RUNG = 2
DEFAULT_POLICY = LadderPolicy(waits_min=DEFAULT_LADDERS_MIN)


def default_rung_staff(level: int, household: Household, roster: Sequence[Staff]) -> list[Staff]:
    """Who stands on rung `level` of the default ladder (what coverage gaps are judged by)."""
    ladder = default_ladder(household.tier, DEFAULT_LADDERS_MIN[household.tier.colour])
    return [c.staff for c in step_staff(ladder.steps[level], household, roster, Cover(), 0.0)]


def recipients(level: int, household: Household, roster: Sequence[Staff], *,
               ladder: Ladder | None = None, cover: Cover = NO_COVER, at: float = 0.0) -> list[Staff]:
    """Staff to tell when an alert reaches `level`; falls through empty rungs."""
    chosen = ladder or DEFAULT_POLICY.ladder(household.tier, AlertKind.INACTIVITY)
    return [c.staff for c in rung(level, chosen, household, roster, cover=cover, at=at).staff]


def channels(staff: Staff) -> list[Channel]:
    """The kinds of channel they are told on, in their order."""
    return [c.kind for c in staff.reached_by]


def addresses(level: int, household: Household, roster: Sequence[Staff], *,
              ladder: Ladder | None = None, cover: Cover = NO_COVER,
              at: float = 0.0) -> list[tuple[int, Channel]]:
    return [(s.id, c) for s in recipients(level, household, roster, ladder=ladder, cover=cover, at=at)
            for c in channels(s)]
