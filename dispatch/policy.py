"""Routing policy, pure: who hears about an alert at each rung of the ladder.

Rung 0: the household's grid members, and for a red household its caseworker.
Rung 1: the grid head. Rung 2: the community's duty leader. A rung with nobody on it falls
through to the next, so an alert always reaches someone.
"""

from __future__ import annotations

from collections.abc import Sequence

from shouwang.domain.delivery import Channel
from shouwang.domain.model import Household, Role, Staff, Tier

TOP_RUNG = 2


def _rung(level: int, household: Household, roster: Sequence[Staff]) -> list[Staff]:
    active = [s for s in roster if s.active]
    if level == 0:
        people = [s for s in active if s.role is Role.GRID_MEMBER and household.grid_id in s.grid_ids]
        if household.tier is Tier.RED and household.caseworker_id is not None:
            people += [s for s in active if s.id == household.caseworker_id]
        return people
    if level == 1:
        return [s for s in active if s.role is Role.GRID_HEAD and household.grid_id in s.grid_ids]
    return [s for s in active if s.role is Role.DUTY_LEADER]


def recipients(level: int, household: Household, roster: Sequence[Staff]) -> list[Staff]:
    """Staff to tell when an alert reaches `level`; falls through empty rungs."""
    for rung in range(min(level, TOP_RUNG), TOP_RUNG + 1):
        people = _rung(rung, household, roster)
        if people:
            return sorted({s.id: s for s in people}.values(), key=lambda s: s.id)
    return []


def channels(staff: Staff) -> list[Channel]:
    found = []
    if staff.webhook_url:
        found.append(Channel.WEBHOOK)
    if staff.notify_mqtt:
        found.append(Channel.MQTT)
    return found


def addresses(level: int, household: Household, roster: Sequence[Staff]) -> list[tuple[int, Channel]]:
    return [(s.id, c) for s in recipients(level, household, roster) for c in channels(s)]
