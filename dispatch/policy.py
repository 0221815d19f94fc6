"""Routing policy, pure: who hears about an alert at each rung of its ladder, and what would
leave an alert without its proper recipient (coverage gaps).

The ladders themselves are data (`dispatch.ladders`); by default rung 0 is the household's grid
members, and for a red household its caseworker; rung 1 the grid head; rung 2 the duty leader.
A rung with nobody on it falls through to the next; a ladder with nobody on it at all reaches the
community's admins, so an alert reaches someone whenever anyone is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dispatch.ladders import Ladder, LadderPolicy, default_ladder, rung, step_staff
from shouwang.domain.alerts import AlertKind
from shouwang.domain.cover import NO_COVER, Cover, hour_name
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url
from shouwang.settings import DEFAULT_LADDERS_MIN

TOP_RUNG = 2
DEFAULT_POLICY = LadderPolicy(waits_min=DEFAULT_LADDERS_MIN)


def _rung(level: int, household: Household, roster: Sequence[Staff]) -> list[Staff]:
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


def _hour_ranges(hours: Sequence[int]) -> list[str]:
    """Hours of the week as ranges: "mon 00:00–08:00, tue 18:00–wed 08:00"."""
    ranges: list[list[int]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + 1
        else:
            ranges.append([hour, hour + 1])
    if len(ranges) > 1 and ranges[0][0] == 0 and ranges[-1][1] == 168:  # across Sunday midnight
        ranges[0][0] = ranges.pop()[0] - 168
    out = []
    for start, end in ranges:
        first, last = hour_name(start % 168), hour_name(end % 168)
        same_day = start // 24 == (end - 1) // 24 and end % 24 != 0
        out.append(f"{first}–{last[4:] if same_day else last}")
    return out


def cover_gaps(policy: LadderPolicy, households: Sequence[Household], roster: Sequence[Staff],
               cover: Cover, *, now: float, date: Callable[[float], str]) -> list[str]:
    """Holes in the roster and the leave: hours nobody is on duty, leave with nobody standing in,
    ladders naming someone who cannot be called."""
    gaps = []
    active = {s.id: s for s in roster if s.active}
    if cover.has_roster:
        open_hours = [h for h in range(168) if not any(i in active for i in cover.on_duty_hour(h))]
        if open_hours:
            gaps.append(f"the duty roster has nobody on duty {', '.join(_hour_ranges(open_hours))}: "
                        "escalations then reach every duty leader (`shouwang roster add USER DAY FROM-TO`)")
    for leave in cover.leaves:
        person = active.get(leave.staff_id)
        name = person.username if person else f"staff {leave.staff_id}"
        when = f"{date(leave.starts_at)} to {date(leave.ends_at)}"
        if leave.deputy_id is None:
            gaps.append(f"{name} is on leave {when} with no deputy: what they would receive goes to "
                        f"the duty leader on duty (`shouwang staff leave {name} --from … --to … "
                        "--deputy OTHER`)")
        elif leave.deputy_id not in active:
            gaps.append(f"{name}'s deputy while on leave {when} is not active staff: what they would "
                        "receive goes to the duty leader on duty")
    usernames = {s.username for s in active.values()}
    wanted = {name.removeprefix("staff:") for ladder in policy.configured() for step in ladder.steps
              for name in step.who if name.startswith("staff:")}
    for username in sorted(wanted - usernames):
        gaps.append(f"a ladder in the settings names staff:{username}, who is not active staff: "
                    "that step calls the others on it, or falls through")
    return gaps
