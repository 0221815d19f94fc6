"""Households, hubs, grids, staff and readings: the nouns of Shouwang."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from shouwang.domain.channels import StaffChannel, legacy
from shouwang.domain.errors import Conflict, InvalidInput

HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A hub id as it appears in MQTT topics, and as wide as the hub id columns (64) on every database."""
ID = HUB_ID
"""A household's or a grid's id: the same rule, so every id fits a URL path and a topic."""
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_id(what: str, value: str, rule: re.Pattern[str] = ID) -> str:
    """`value` if it is a valid id of `what` (household, grid, hub, username); else InvalidInput.
    Found by a tester: the command line accepted ids the API refuses (`hh/105` has no page, no
    visits, no consent over the API; ` ma.li ` could never sign in on the page)."""
    if not rule.fullmatch(value):
        longest = 100 if rule is USERNAME else 64
        raise InvalidInput(f"{what} {value[:80]!r} is not valid: use letters, digits, _ . - (starting "
                           f"with a letter or digit), at most {longest} characters")
    return value


def check_hub_id(value: str) -> str:
    """A valid hub id that is not a staff member's MQTT login (`staff-<id>`, `contract.topics`:
    the two share the broker's usernames); else InvalidInput."""
    check_id("hub id", value, HUB_ID)
    if value.lower().startswith("staff-"):
        raise InvalidInput(f"hub id {value[:80]!r} is not valid: ids beginning with staff- are "
                           "the MQTT logins of staff members' phone apps")
    return value


class Tier(enum.IntEnum):
    """The five risk colours; the hotter the colour, the lower the number."""

    RED = 1
    ORANGE = 2
    YELLOW = 3
    BLUE = 4
    GREEN = 5

    @property
    def colour(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str | int) -> Tier:
        """Accept a colour name ("red" or "红"/"红色"), its tier number (1) or "1"."""
        if isinstance(text, int) or (isinstance(text, str) and text.strip().isdigit()):
            number = int(text)
            try:
                return cls(number)
            except ValueError:
                raise ValueError(f"tier must be 1-5, got {number}") from None
        name = str(text).strip().removesuffix("色").upper()
        name = _CHINESE_COLOURS.get(name, name)
        try:
            return cls[name]
        except KeyError:
            colours = ", ".join(t.colour for t in cls)
            raise ValueError(f"unknown colour {text!r}; use one of {colours} (or 1-5, or 红 橙 黄 蓝 绿)") from None


_CHINESE_COLOURS = {"红": "RED", "橙": "ORANGE", "黄": "YELLOW", "蓝": "BLUE", "绿": "GREEN"}


class SensorKind(enum.StrEnum):
    WATER = "water"
    ELECTRICITY = "electricity"
    GAS = "gas"
    DOOR = "door"
    MOTION = "motion"
    """A PIR: 1 = it saw movement, 0 = its occupancy cleared."""
    BUTTON = "button"
    """A press of the elder's button: `HELP_PRESS` (求助) or `FINE_PRESS` (平安键, "I am fine")."""

    @property
    def is_register(self) -> bool:
        """Water, gas and electricity report cumulative registers; the others report an event or state."""
        return self in (SensorKind.WATER, SensorKind.ELECTRICITY, SensorKind.GAS)


HELP_PRESS = 1.0
"""A button reading's value when the elder asked for help."""
FINE_PRESS = 2.0
"""A button reading's value when the elder pressed "I am fine" (平安键)."""


class Role(enum.StrEnum):
    GRID_MEMBER = "grid_member"
    GRID_HEAD = "grid_head"
    CASEWORKER = "caseworker"
    DUTY_LEADER = "duty_leader"
    ADMIN = "admin"
    VOLUNTEER = "volunteer"

    @property
    def sees_everything(self) -> bool:
        return self in (Role.DUTY_LEADER, Role.ADMIN)

    @property
    def sees_readings(self) -> bool:
        """Volunteers visit and keep company; how a home uses water and power is not theirs."""
        return self is not Role.VOLUNTEER


GRID_ROLES = (Role.GRID_MEMBER, Role.GRID_HEAD)
"""The roles that work in grids; every other role takes none."""


def grids_problem(role: Role, grid_ids: Collection[str]) -> str | None:
    """Why `role` may not have these grids, or None (found by a tester: a grid member imported
    with no grid was told of nothing; a caseworker with one was shown under it, seeing none of it)."""
    if role in GRID_ROLES and not grid_ids:
        return f"a {role.value} works in a grid"
    if role not in GRID_ROLES and grid_ids:
        return (f"a {role.value} takes no grid (only grid members and grid heads do)"
                + ("; a caseworker sees the red households she claims (the caseworker column of the "
                   "household import, or PATCH /households/ID)" if role is Role.CASEWORKER else ""))
    return None


@dataclass(frozen=True, slots=True)
class Grid:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Household:
    id: str
    tier: Tier
    grid_id: str
    caseworker_id: int | None = None
    alias: str | None = None
    address: str | None = None
    building: str | None = None
    away_until: float | None = None
    monitoring_since: float | None = None
    retired_at: float | None = None

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


@dataclass(frozen=True, slots=True)
class Hub:
    id: str
    household_id: str
    report_interval_s: float = 900.0


@dataclass(frozen=True, slots=True)
class Staff:
    id: int
    username: str
    name: str
    role: Role
    grid_ids: frozenset[str] = field(default_factory=frozenset)
    phone: str | None = None
    webhook_url: str | None = None
    notify_mqtt: bool = True
    active: bool = True
    household_ids: frozenset[str] = field(default_factory=frozenset)
    """For a volunteer: the households they visit."""
    channels: tuple[StaffChannel, ...] | None = None
    """Their channels in order; None: registered before channel lists, see `reached_by`."""
    covering: tuple[Staff, ...] = ()
    """The colleagues on leave they stand in for now (their deputy): they see what those see
    (`access.can_see`). Set per request by the API; never stored."""

    @property
    def reached_by(self) -> tuple[StaffChannel, ...]:
        """Every channel they are told on, in their order (their webhook and MQTT if they never set one)."""
        if self.channels is not None:
            return self.channels
        return legacy(self.webhook_url, self.notify_mqtt)


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement from a hub, as the contract defines it."""

    hub_id: str
    sensor: str
    kind: SensorKind
    ts: float
    value: float
    power_w: float | None = None
    seq: int | None = None
    reset: bool = False


@dataclass(frozen=True, slots=True)
class StoredReading:
    """A validated reading with the household it belongs to."""

    household_id: str
    hub_id: str
    sensor: str
    ts: float
    value: float
    power_w: float | None = None
    seq: int | None = None

    @property
    def kind(self) -> SensorKind:
        return SensorKind(self.sensor.split(".", 1)[0])


@dataclass(frozen=True, slots=True)
class Visit:
    """A staff member saw the elder: a sign of life the sensors could not give."""

    household_id: str
    at: float
    staff_id: int | None = None
    note: str | None = None
    id: int | None = None
    how: str = "visit"
    """"visit" (in person: counts for the five visits) or "call" (spoke with the elder by phone).

    Either is a sign of life and a contact for the 369 limits; only a visit in person is one of
    the colour's visits (五色五访)."""


@dataclass(frozen=True, slots=True)
class HubPresence:
    hub_id: str
    state: str
    ts: float | None
    battery: float | None = None


def still_watched(household: Household) -> Household:
    """`household`, unless it was retired: nothing new is fitted or agreed for a home no longer
    watched (found by a tester: a hub, a family contact and a consent, "monitoring starts now",
    were each taken for a retired household)."""
    if household.retired_at is not None:
        raise Conflict(f"household {household.id} was retired and is no longer watched; a home watched "
                       "again is registered under a new id")
    return household
