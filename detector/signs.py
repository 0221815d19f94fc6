"""Signs of life: uses only a person makes, read from each home's readings.

Water or gas drawn (its register rose), electricity switched above the home's standby level
(the fridge cycling all day is not a person), a door opened or closed. Alongside, the tracker
keeps what the rules need: when each hub was last heard from and whether water or gas has
been running without a break.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from shouwang.domain.model import SensorKind, StoredReading

_EPS = 1e-9


class SignKind(enum.StrEnum):
    WATER = "water"
    ELECTRICITY = "electricity"
    GAS = "gas"
    DOOR = "door"
    VISIT = "visit"


@dataclass(frozen=True, slots=True)
class SignOfLife:
    household_id: str
    ts: float
    kind: SignKind
    sensor: str


@dataclass(slots=True)
class _Register:
    ts: float
    value: float


@dataclass(slots=True)
class HomeState:
    """Everything the tracker knows about one household, small enough for 100,000 homes."""

    household_id: str
    first_seen_at: float | None = None
    last_sign_at: float | None = None
    last_sign_kind: SignKind | None = None
    last_water_at: float | None = None
    last_door_at: float | None = None
    last_door_value: float | None = None
    hub_seen_at: dict[str, float] = field(default_factory=dict)
    runs: dict[SensorKind, tuple[float, float]] = field(default_factory=dict)  # (since, until)
    registers: dict[str, _Register] = field(default_factory=dict)
    power_w: dict[str, float] = field(default_factory=dict)
    doors: dict[str, float] = field(default_factory=dict)

    @property
    def hub_last_seen_at(self) -> float | None:
        return max(self.hub_seen_at.values(), default=None)

    def note_sign(self, sign: SignOfLife) -> None:
        if self.last_sign_at is None or sign.ts >= self.last_sign_at:
            self.last_sign_at = sign.ts
            self.last_sign_kind = sign.kind
        if sign.kind is SignKind.WATER and (self.last_water_at is None or sign.ts > self.last_water_at):
            self.last_water_at = sign.ts
        if sign.kind is SignKind.DOOR and (self.last_door_at is None or sign.ts > self.last_door_at):
            self.last_door_at = sign.ts


class SignReader:
    """Turns one home's readings, in arrival order, into signs of life and flow runs."""

    def __init__(self, *, standby_w: float, switch_step_w: float, min_flow_m3_per_h: float) -> None:
        self.standby_w = standby_w
        self.switch_step_w = switch_step_w
        self.min_flow_m3_per_h = min_flow_m3_per_h

    def read(self, home: HomeState, reading: StoredReading) -> list[SignOfLife]:
        seen = home.hub_seen_at.get(reading.hub_id)
        if seen is None or reading.ts > seen:
            home.hub_seen_at[reading.hub_id] = reading.ts
        if home.first_seen_at is None or reading.ts < home.first_seen_at:
            home.first_seen_at = reading.ts
        kind = reading.kind
        if kind is SensorKind.DOOR:
            signs = self._door(home, reading)
        elif kind is SensorKind.ELECTRICITY:
            signs = self._electricity(home, reading)
        else:
            signs = self._flow(home, reading, kind)
        for sign in signs:
            home.note_sign(sign)
        return signs

    def _sign(self, home: HomeState, reading: StoredReading, kind: SignKind) -> SignOfLife:
        return SignOfLife(home.household_id, reading.ts, kind, reading.sensor)

    def _door(self, home: HomeState, reading: StoredReading) -> list[SignOfLife]:
        previous = home.doors.get(reading.sensor)
        home.doors[reading.sensor] = reading.value
        home.last_door_value = reading.value
        if previous is None or previous == reading.value:
            return []  # the first report, or a heartbeat repeating the state
        return [self._sign(home, reading, SignKind.DOOR)]

    def _advance(self, home: HomeState, reading: StoredReading) -> _Register | None:
        """The previous register reading, if this one is newer; late readings are ignored."""
        previous = home.registers.get(reading.sensor)
        if previous is not None and reading.ts <= previous.ts:
            return None
        home.registers[reading.sensor] = _Register(reading.ts, reading.value)
        return previous

    def _flow(self, home: HomeState, reading: StoredReading, kind: SensorKind) -> list[SignOfLife]:
        previous = self._advance(home, reading)
        if previous is None:
            return []
        drawn = reading.value - previous.value
        hours = max(reading.ts - previous.ts, 1.0) / 3600.0
        if drawn > _EPS and drawn / hours >= self.min_flow_m3_per_h:
            since = home.runs.get(kind, (previous.ts, previous.ts))[0]
            home.runs[kind] = (since, reading.ts)
        else:
            home.runs.pop(kind, None)
        if drawn <= _EPS:
            return []
        return [self._sign(home, reading, SignKind(kind.value))]

    def _electricity(self, home: HomeState, reading: StoredReading) -> list[SignOfLife]:
        previous = self._advance(home, reading)
        if reading.power_w is not None:
            before = home.power_w.get(reading.sensor)
            home.power_w[reading.sensor] = reading.power_w
            if before is None:
                return []
            switched_on = before <= self.standby_w < reading.power_w
            stepped = abs(reading.power_w - before) >= self.switch_step_w
            if switched_on or stepped:
                return [self._sign(home, reading, SignKind.ELECTRICITY)]
            return []
        if previous is None:
            return []
        hours = (reading.ts - previous.ts) / 3600.0
        average_w = (reading.value - previous.value) * 1000.0 / hours if hours > 0 else 0.0
        if average_w > self.standby_w:
            return [self._sign(home, reading, SignKind.ELECTRICITY)]
        return []
