"""Ladders as data, pure: who is told at each step of an alert's ladder, after what wait, how often
they are reminded, and who really answers when the person named is off.

A ladder is chosen per colour and alert kind (`LadderPolicy.ladder`). Its step is a list of names:
the household's grid members, its caseworker, its grid head, the duty leader, a named staff member
(`staff:USERNAME`) or its family contacts. Cover is applied at the moment of calling: someone on
leave is replaced by their deputy, or without one by the duty leader on duty; the duty leader is
the one the weekly roster puts on duty now (all duty leaders when the roster leaves the hour open).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shouwang.domain.alerts import AlertKind
from shouwang.domain.cover import MAX_DEPUTY_HOPS, NO_COVER, Cover, FamilyContact
from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.settings import DispatchSettings, LadderSettings, ladder_key

NAMES = {"grid_member": "grid member", "caseworker": "caseworker", "grid_head": "grid head",
         "duty_leader": "duty leader", "family": "family"}


@dataclass(frozen=True, slots=True)
class Step:
    after_s: float
    """Unacknowledged this long after the previous step, the alert climbs to this one."""
    who: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ladder:
    steps: tuple[Step, ...]
    remind_every_s: float | None = None
    """The current step is told again this often until someone acknowledges; None: never."""

    @property
    def waits_s(self) -> tuple[float, ...]:
        """The wait before each step after the first, as the alert lifecycle climbs them."""
        return tuple(step.after_s for step in self.steps[1:])

    @property
    def top(self) -> int:
        return len(self.steps) - 1


@dataclass(frozen=True, slots=True)
class Called:
    """A staff member called at a step, and why them (for `dispatch explain` and the trail)."""

    staff: Staff
    why: str


def default_ladder(tier: Tier, waits_min: Sequence[float]) -> Ladder:
    """Today's ladder: the grid members (and a red household's caseworker), then the grid head,
    then the duty leader, after the colour's waits."""
    first = ("grid_member", "caseworker") if tier is Tier.RED else ("grid_member",)
    names = [first, ("grid_head",), ("duty_leader",)]
    waits = [0.0, *(60.0 * w for w in waits_min)]
    return Ladder(tuple(Step(waits[i], names[i]) for i in range(min(len(names), len(waits)))))


def help_ladder(tier: Tier) -> Ladder:
    """The help button: the first step and the grid head at once, the duty leader two minutes
    later, reminders every minute."""
    first = ("grid_member", "caseworker", "grid_head") if tier is Tier.RED else ("grid_member", "grid_head")
    return Ladder((Step(0.0, first), Step(120.0, ("duty_leader",))), remind_every_s=60.0)


def from_settings(ladder: LadderSettings) -> Ladder:
    return Ladder(tuple(Step(60.0 * s.after_min, tuple(s.who)) for s in ladder.steps),
                  None if ladder.remind_every_min is None else 60.0 * ladder.remind_every_min)


class LadderPolicy:
    """Which ladder an alert climbs: the most specific configured one, else the default."""

    def __init__(self, *, waits_min: Mapping[str, Sequence[float]],
                 configured: Mapping[str, LadderSettings] | None = None) -> None:
        self._waits_min = waits_min
        self._configured = {ladder_key(key): from_settings(value)
                            for key, value in (configured or {}).items()}

    @classmethod
    def of(cls, settings: DispatchSettings) -> LadderPolicy:
        return cls(waits_min=settings.ladders_min, configured=settings.ladders)

    def configured(self) -> list[Ladder]:
        return list(self._configured.values())

    def ladder(self, tier: Tier, kind: AlertKind) -> Ladder:
        return self.chosen(tier, kind)[1]

    def chosen(self, tier: Tier, kind: AlertKind) -> tuple[str, Ladder]:
        """The ladder for this colour and kind, and where it comes from (for `dispatch explain`)."""
        # A kind's own ladder (the help button's) stays urgent even where a colour's is changed.
        for key, name in (((tier, kind), f"{tier.colour}.{kind.value}"), ((None, kind), kind.value)):
            if key in self._configured:
                return f"settings: dispatch.ladders.{name}", self._configured[key]
        if kind is AlertKind.HELP:
            return "default: the help button's", help_ladder(tier)
        if (tier, None) in self._configured:
            return f"settings: dispatch.ladders.{tier.colour}", self._configured[(tier, None)]
        return f"default: {tier.colour}'s (dispatch.ladders_min)", default_ladder(
            tier, self._waits_min[tier.colour])


def _named(name: str, household: Household, active: Sequence[Staff]) -> list[Called]:
    if name == "grid_member":
        found = [s for s in active if s.role is Role.GRID_MEMBER and household.grid_id in s.grid_ids]
    elif name == "grid_head":
        found = [s for s in active if s.role is Role.GRID_HEAD and household.grid_id in s.grid_ids]
    elif name == "caseworker":
        found = [s for s in active if s.id == household.caseworker_id]
    elif name == "duty_leader":
        found = [s for s in active if s.role is Role.DUTY_LEADER]
    elif name.startswith("staff:"):
        found = [s for s in active if s.username == name.removeprefix("staff:")]
    else:
        found = []
    return [Called(s, NAMES.get(name, name)) for s in found]


def _duty_leaders(active: Sequence[Staff], cover: Cover, at: float) -> list[Called]:
    """The duty leaders on duty at `at`: the roster's, or every one when it leaves the hour open."""
    rostered = cover.on_duty(at)
    on_duty = [s for s in active if s.id in rostered]
    if on_duty:
        return [Called(s, "duty leader on duty (roster)") for s in on_duty]
    return [Called(s, "duty leader") for s in active if s.role is Role.DUTY_LEADER]


def _present(called: Called, active: Sequence[Staff], cover: Cover, at: float) -> list[Called]:
    """`called` if they are at work at `at`, else whoever stands in for them."""
    person, why, hops = called.staff, called.why, 0
    by_id = {s.id: s for s in active}
    while (leave := cover.leave(person.id, at)) is not None:
        deputy = by_id.get(leave.deputy_id) if leave.deputy_id is not None else None
        if deputy is None or hops >= MAX_DEPUTY_HOPS:
            off = f"for {person.username} (on leave, no deputy)"
            stand_ins = [c for c in _duty_leaders(active, cover, at)
                         if c.staff.id != person.id and cover.leave(c.staff.id, at) is None]
            return [Called(c.staff, f"{c.why} {off}") for c in stand_ins]
        why, person, hops = f"deputy for {person.username} (on leave)", deputy, hops + 1
    return [Called(person, why)]


def step_staff(step: Step, household: Household, roster: Sequence[Staff], cover: Cover,
               at: float) -> list[Called]:
    """The staff a step calls at `at`, after cover; each person once (their first reason)."""
    active = [s for s in roster if s.active]
    named: list[Called] = []
    for name in step.who:
        if name == "duty_leader" and cover.has_roster:
            named += _duty_leaders(active, cover, at)
        else:
            named += _named(name, household, active)
    found: dict[int, Called] = {}
    for called in named:
        for present in _present(called, active, cover, at):
            found.setdefault(present.staff.id, present)
    return sorted(found.values(), key=lambda c: c.staff.id)


def step_family(level: int, ladder: Ladder, contacts: Sequence[FamilyContact]) -> list[FamilyContact]:
    """The household's family contacts standing at step `level`."""
    names_family = 0 <= level < len(ladder.steps) and "family" in ladder.steps[level].who
    return [c for c in contacts if c.active and (c.step == level or (c.step is None and names_family))]


@dataclass(frozen=True, slots=True)
class Rung:
    """Who an alert reaching step `level` calls: `step` is the step that answered (a step with
    nobody on it falls through to the next), None when only the admins are left."""

    level: int
    step: int | None
    staff: tuple[Called, ...]
    family: tuple[FamilyContact, ...] = ()


def rung(level: int, ladder: Ladder, household: Household, roster: Sequence[Staff], *,
         cover: Cover = NO_COVER, at: float = 0.0, contacts: Sequence[FamilyContact] = ()) -> Rung:
    """Who to tell when an alert reaches `level`: that step, or the next one with anybody on it,
    or the community's admins, so an alert reaches someone whenever anyone is registered."""
    for index in range(min(level, ladder.top), ladder.top + 1):
        staff = step_staff(ladder.steps[index], household, roster, cover, at)
        family = step_family(index, ladder, contacts)
        if staff or family:
            return Rung(level, index, tuple(staff), tuple(family))
    admins = [Called(s, "admin (nobody else on the ladder)") for s in roster
              if s.active and s.role is Role.ADMIN]
    return Rung(level, None, tuple(admins))
