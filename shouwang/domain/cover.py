"""Who is on duty and who is away: the weekly duty roster, leave with its deputy, family contacts.

Pure values; `dispatch.ladders` reads them to decide who is really called.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class DutySlot:
    """`staff_id` is the duty leader on `weekday` (0 = Monday) from `start_h` to `end_h` local time;
    an `end_h` not after `start_h` runs past midnight into the next day (night duty: 18 → 8)."""

    staff_id: int
    weekday: int
    start_h: int
    end_h: int
    id: int | None = None

    def hours_of_week(self) -> list[int]:
        """The hours of the week (0 = Monday 00:00) this slot covers."""
        length = (self.end_h - self.start_h) % 24 or 24
        return [(self.weekday * 24 + self.start_h + h) % 168 for h in range(length)]


@dataclass(frozen=True, slots=True)
class Leave:
    """`staff_id` is off from `starts_at` to `ends_at`; `deputy_id` receives what they would."""

    staff_id: int
    starts_at: float
    ends_at: float
    deputy_id: int | None = None
    reason: str | None = None
    id: int | None = None

    def covers(self, at: float) -> bool:
        return self.starts_at <= at < self.ends_at


MAX_DEPUTY_HOPS = 5
"""A deputy on leave hands on to their own deputy, this many times at most (a loop stops here)."""


def stood_in_for(staff_id: int, leaves: Iterable[Leave], at: float) -> list[int]:
    """The colleagues on leave at `at` for whom `staff_id` stands in: those whose deputy they are,
    and, through a deputy on leave too, theirs, as far as dispatch follows a chain (found by a
    tester: the end of a chain was called and could neither be told nor open the alert)."""
    live = [leave for leave in leaves if leave.covers(at) and leave.deputy_id is not None]
    found: list[int] = []
    frontier = {staff_id}
    for _ in range(MAX_DEPUTY_HOPS):
        nearer = {leave.staff_id for leave in live if leave.deputy_id in frontier} - set(found) - {staff_id}
        if not nearer:
            break
        found += sorted(nearer)
        frontier = nearer
    return found


@dataclass(frozen=True, slots=True)
class FamilyContact:
    """A relative who agreed to be called, standing on the household's ladder at `step`
    (None: wherever the ladder names `family`), reached on `channel` at `address`."""

    id: int
    household_id: str
    name: str
    relation: str
    channel: str
    address: str
    consent_by: str
    consent_at: float
    step: int | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Cover:
    """The roster and the leaves in force, and the community's time zone to read hours in."""

    slots: tuple[DutySlot, ...] = ()
    leaves: tuple[Leave, ...] = ()
    tz: tzinfo = UTC
    _by_hour: dict[int, frozenset[int]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_hour: dict[int, set[int]] = {}
        for slot in self.slots:
            for hour in slot.hours_of_week():
                by_hour.setdefault(hour, set()).add(slot.staff_id)
        self._by_hour.update({h: frozenset(s) for h, s in by_hour.items()})

    @property
    def has_roster(self) -> bool:
        return bool(self.slots)

    def hour_of_week(self, at: float) -> int:
        local = datetime.fromtimestamp(at, self.tz)
        return local.weekday() * 24 + local.hour

    def on_duty(self, at: float) -> frozenset[int]:
        """Who the roster puts on duty at `at` (empty when the roster leaves that hour open)."""
        return self._by_hour.get(self.hour_of_week(at), frozenset())

    def on_duty_hour(self, hour_of_week: int) -> frozenset[int]:
        return self._by_hour.get(hour_of_week, frozenset())

    def leave(self, staff_id: int, at: float) -> Leave | None:
        """The leave `staff_id` is on at `at`, if any."""
        return next((lv for lv in self.leaves if lv.staff_id == staff_id and lv.covers(at)), None)


def hour_name(hour_of_week: int) -> str:
    """168 hours of the week, as "tue 03:00"."""
    return f"{WEEKDAYS[hour_of_week // 24]} {hour_of_week % 24:02d}:00"


NO_COVER = Cover()
"""No roster and nobody on leave: every duty leader is on duty and everyone is at work."""


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A hub, or a whole grid, is being worked on until `until`: its hub-offline alerts are expected."""

    id: int
    hub_id: str | None
    grid_id: str | None
    starts_at: float
    until: float
    reason: str
    created_by: int | None = None
    cancelled_at: float | None = None

    def live(self, now: float) -> bool:
        return self.cancelled_at is None and self.starts_at <= now < self.until

    def covers(self, *, grid_id: str, hub_ids: frozenset[str], now: float) -> bool:
        """Whether this window silences a hub-offline alert of a household in `grid_id` with these hubs."""
        return self.live(now) and (self.grid_id == grid_id or (self.hub_id is not None and self.hub_id in hub_ids))
