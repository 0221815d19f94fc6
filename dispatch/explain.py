"""`shouwang dispatch explain`, pure: the effective ladder of a household's alert, in words.

Each step is worked out at the moment it would be called (opening time plus the waits before it),
so the roster's duty leader and the deputies of people on leave are the ones of that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from dispatch import policy
from dispatch.ladders import Ladder, rung
from shouwang.domain.alerts import AlertKind
from shouwang.domain.cover import Cover, FamilyContact
from shouwang.domain.model import Household, Staff


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"


def explain(household: Household, kind: AlertKind, *, source: str, ladder: Ladder, roster: Sequence[Staff],
            cover: Cover, contacts: Sequence[FamilyContact], at: float, tz: tzinfo) -> list[str]:
    """Lines saying who would be called, on which channels, when, and how often reminded."""
    opened = datetime.fromtimestamp(at, tz)
    lines = [f"{household.id} ({household.alias or 'no alias'}, {household.tier.colour}, grid "
             f"{household.grid_id}): an alert of kind {kind.value} opened {opened:%a %Y-%m-%d %H:%M} ({tz})",
             f"ladder: {source}; reminders: "
             + (f"every {_minutes(ladder.remind_every_s)} to the current step until acknowledged"
                if ladder.remind_every_s else "none")]
    when = at
    for level, step in enumerate(ladder.steps):
        when += step.after_s if level else 0.0
        wait = "at once" if level == 0 else (
            f"after {_minutes(step.after_s)} more unacknowledged ({_minutes(when - at)} in, "
            f"{datetime.fromtimestamp(when, tz):%H:%M})")
        lines.append(f"step {level}  {wait}: {', '.join(step.who)}")
        reached = rung(level, ladder, household, roster, cover=cover, at=when, contacts=contacts)
        if reached.step is None:
            lines.append("    nobody on this or any later step: the admins")
        elif reached.step != level:
            lines.append(f"    nobody here: falls through to step {reached.step}")
        for called in reached.staff:
            channels = ", ".join(c.value for c in policy.channels(called.staff)) or "NOTHING (no channel set up)"
            lines.append(f"    {called.staff.username} {called.staff.name} — {called.why}; by {channels}")
        for contact in reached.family:
            lines.append(f"    family: {contact.name} ({contact.relation}) — by {contact.channel} "
                         f"{contact.address}; consent from {contact.consent_by}")
    return lines
