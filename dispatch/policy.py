"""Routing policy, pure: who hears about an alert at each rung of the ladder.

Rung 0: the household's grid members, and for a red household its caseworker.
Rung 1: the grid head. Rung 2: the community's duty leader. A rung with nobody on it falls
through to the next; a ladder with nobody on it at all reaches the community's admins, so an
alert reaches someone whenever anyone is registered.
"""

from __future__ import annotations

from collections.abc import Sequence

from shouwang.domain.delivery import Channel
from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url

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
    return [s for s in roster if s.active and s.role is Role.ADMIN]


def channels(staff: Staff) -> list[Channel]:
    """The kinds of channel they are told on, in their order."""
    return [c.kind for c in staff.reached_by]


def addresses(level: int, household: Household, roster: Sequence[Staff]) -> list[tuple[int, Channel]]:
    return [(s.id, c) for s in recipients(level, household, roster) for c in channels(s)]


def coverage_gaps(households: Sequence[Household], roster: Sequence[Staff]) -> list[str]:
    """What in the registry would leave an alert without its proper first recipient."""
    gaps = []
    if not any(s.active and s.role is Role.DUTY_LEADER for s in roster):
        gaps.append("no duty leader is registered: escalations stop at the grid head "
                    "(add one with `shouwang staff add ... --role duty_leader`)")
    uncovered = sorted({h.grid_id for h in households if not _rung(0, h, roster)})
    if uncovered:
        gaps.append(f"grid {', '.join(uncovered)} has no grid member: its alerts go straight "
                    "up the ladder (add one with `shouwang staff add ... --role grid_member --grid ...`)")
    unladdered = sorted({h.grid_id for h in households if not any(_rung(r, h, roster) for r in range(TOP_RUNG + 1))})
    if unladdered:
        admins = [s.username for s in roster if s.active and s.role is Role.ADMIN]
        whom = f"only the admins ({', '.join(admins)})" if admins else "NOBODY"
        gaps.append(f"grid {', '.join(unladdered)} has no grid member, grid head or duty leader: its alerts "
                    f"reach {whom}")
    for member in roster:
        if member.active and member.webhook_url:
            try:
                check_webhook_url(member.webhook_url, allow_http=True)
            except InvalidWebhook as exc:
                gaps.append(f"{exc}: {member.username}'s webhook notifications are given up at once; "
                            f"fix it with `shouwang staff update {member.username} --webhook URL`")
    unclaimed = [h.id for h in households if h.tier is Tier.RED and h.caseworker_id is None]
    if unclaimed:
        shown = ", ".join(unclaimed[:5]) + (" …" if len(unclaimed) > 5 else "")
        gaps.append(f"{len(unclaimed)} red household(s) have no caseworker: {shown}")
    return gaps
