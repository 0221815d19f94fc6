"""When a household's genuine alerts pile up, suggest a hotter colour; a person decides.

Pure. A genuine alert is one staff closed having found something: not a false alarm, a device
fault or an elder who was away, and not one that cleared itself before anyone looked (nobody
found anything then). Three in thirty days (settings) say the household needs closer watching
than its colour gives it; the suggestion goes to the person who looks after it, and only a
person's decision (`change_tier`, kept in the audit trail with who and why) changes the colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shouwang.domain.alerts import Alert, Outcome
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Household, Role, Staff, Tier

NOT_GENUINE = frozenset({Outcome.FALSE_ALARM, Outcome.DEVICE_FAULT, Outcome.WAS_AWAY,
                         Outcome.CLEARED_ITSELF})


@dataclass(frozen=True, slots=True)
class TierSuggestion:
    household_id: str
    from_tier: Tier
    to_tier: Tier
    alert_ids: tuple[int, ...]
    """The genuine alerts that led to it, oldest first."""


@dataclass(frozen=True, slots=True)
class StoredSuggestion:
    id: int
    household_id: str
    from_tier: Tier
    to_tier: Tier
    alert_ids: tuple[int, ...]
    created_at: float
    state: str
    """"open", "accepted" (the colour was raised) or "declined"."""
    decided_at: float | None = None
    decided_by: int | None = None
    reason: str | None = None


def genuine(alert: Alert) -> bool:
    """Staff resolved it having found a real need (or nothing they could dismiss)."""
    return alert.is_resolved and alert.outcome is not None and alert.outcome not in NOT_GENUINE


def suggest(household: Household, alerts: Iterable[Alert], *, threshold: int, window_s: float,
            after: float | None, now: float) -> TierSuggestion | None:
    """A hotter colour for `household` if `threshold` genuine alerts opened in the window.

    `after`: when the household's last suggestion was made; alerts opened before it were already
    put to someone, so a declined suggestion is not repeated on the same alerts."""
    if household.tier is Tier.RED or not household.is_active:
        return None
    start = max(now - window_s, after if after is not None else -float("inf"))
    counted = sorted((a for a in alerts
                      if a.household_id == household.id and genuine(a) and a.opened_at > start),
                     key=lambda a: (a.opened_at, a.id))
    if len(counted) < threshold:
        return None
    return TierSuggestion(household.id, household.tier, Tier(int(household.tier) - 1),
                          tuple(a.id for a in counted))


def check_tier_change(household: Household, to: Tier, reason: str) -> None:
    """A colour change is a decision with a reason, and a change."""
    if not reason.strip():
        raise InvalidInput("say why the colour changes (reason), for the audit trail")
    if to is household.tier:
        raise InvalidInput(f"household {household.id} is already {to.colour}")


def may_change_tier(staff: Staff, household: Household, to: Tier) -> bool:
    """Leaders and admins move a colour either way; the household's own grid staff and caseworker
    may make it hotter (closer watching, more visits), never cooler."""
    if not staff.active:
        return False
    if staff.role in (Role.ADMIN, Role.DUTY_LEADER):
        return True
    return staff.role in (Role.GRID_MEMBER, Role.GRID_HEAD, Role.CASEWORKER) and to < household.tier


def advisees(household: Household, roster: Iterable[Staff]) -> list[Staff]:
    """Who is told of a suggestion: the household's caseworker, else its grid members, else its
    grid head (someone who knows the household)."""
    active = [s for s in roster if s.active]
    for wanted in ([s for s in active if s.id == household.caseworker_id],
                   [s for s in active if s.role is Role.GRID_MEMBER and household.grid_id in s.grid_ids],
                   [s for s in active if s.role is Role.GRID_HEAD and household.grid_id in s.grid_ids]):
        if wanted:
            return sorted(wanted, key=lambda s: s.id)
    return []
