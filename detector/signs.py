"""Signs of life: uses only a person makes, read from each home's readings.

Water or gas drawn (its register rose), an appliance switched (a step in `power_w`), a door
opened or closed. The machines of a home switch themselves all day and night (the fridge's
compressor, a water heater): each home learns which power steps recur at night, when people
sleep, and from then on such steps are not a person. Until it has heard a few nights, a step
counts only if it is large or crosses the fixed standby level. Alongside, the tracker keeps what
the rules need: when each hub was last heard from and whether water or gas has been running
without a break.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from shouwang.contract.plausible import SHORTEST_INTERVAL_S, Plausible
from shouwang.domain.model import SensorKind, StoredReading

_EPS = 1e-9
RUN_GAP_S = 120.0
"""Reports further apart than this cannot show that water ran in between (hubs report every
minute a meter moves): a run is continuous only across closer reports, and a run starting after
a longer gap is dated from one minute before the report that shows it."""
NIGHT_H = (1, 5)
"""Local hours when steps in power are taken to be machines switching themselves."""
STEP_BIN_W = 10.0
MACHINE_STEPS_PER_NIGHT = 1.0
NIGHTS_TO_LEARN = 2.0
NIGHT_MEMORY = 0.9
MIN_STEP_W = 25.0
CHATTER_CHANGES = 120
CHATTER_WINDOW_S = 3600.0
"""A door contact changing state more than CHATTER_CHANGES times within CHATTER_WINDOW_S (one
every half minute for an hour) is a fault, not a person: a loose magnet, a bouncing reed switch.
Its changes are not signs of life until it has been calmer for the window."""
REST_S = 3600.0
RESTLESS_S = 20 * 3600.0
"""A sensor whose signs have come for RESTLESS_S with never REST_S between two of them is a
machine or a fault, not an elder living alone, who sleeps: a motion sensor facing a curtain in a
draught or stuck reporting movement, a heater on a meter that reports only kWh (each minute above
the standby level is a sign). Its signs are not signs of life until it has rested for REST_S. In
the recorded homes one person's sensors rest within 8.2 h; the longest run is a family's whole-
house water meter, 18.1 h (AMPds2)."""
RESTLESS_KINDS = frozenset({SensorKind.MOTION, SensorKind.ELECTRICITY, SensorKind.DOOR})
"""The sensors judged so: those whose fault is a signal that never stops. Water and gas are not (a
dripping tap under the running threshold would make every use of the elder's only water meter no
sign: found by a tester, false "no water" alerts)."""
log = logging.getLogger(__name__)
PLAUSIBLE = Plausible()
"""The most a household meter passes (the gateway's defaults: a community's own limits only lower
what reaches the detector)."""


class SignKind(enum.StrEnum):
    WATER = "water"
    ELECTRICITY = "electricity"
    GAS = "gas"
    DOOR = "door"
    ACTIVITY = "activity"
    """Any other sign: a motion sensor saw movement, the elder pressed a button, or a recording's
    own (a cupboard contact)."""
    VISIT = "visit"
    """A member of staff saw the elder: a sign of life, though not part of the home's rhythm."""
    MOTION = "motion"
    """A motion sensor saw someone move (counted with `activity` in a day's features)."""


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
class _NightDraw:
    """What a meter that reports only kWh draws at night, when people sleep. A machine that runs
    then (a water heater reheating itself, a radiator on its thermostat) runs by day too, and each
    minute of it above the standby level was taken for a person (found by a tester: a 2 kW heater
    reheating every two hours cleared a collapsed elder's alert four times, "life resumed")."""

    night: int = -1
    tonight_w: float = 0.0
    tonight_hours: int = 0
    """Bits of the night's hours (01:00-05:00) that drew above the standby level."""
    nights: float = 0.0
    above: float = 0.0
    """Nights (decayed as `nights`) that drew more than the standby level."""
    peak_w: float = 0.0
    """The most such a night drew in one report, decaying by NIGHT_MEMORY a night."""

    def note(self, moment: datetime, average_w: float, standby_w: float) -> None:
        """A report at local `moment`: nights are counted by the calendar, so a meter reporting
        only when it moves, silent on nights nothing ran, is not taken for one that always runs."""
        in_window = NIGHT_H[0] <= moment.hour < NIGHT_H[1]
        night = moment.toordinal() - (1 if moment.hour < NIGHT_H[0] else 0)  # the latest window begun
        if night > self.night:
            if self.night >= 0:
                self._close(standby_w, quiet_nights=min(night - self.night - 1, 60))
            self.night, self.tonight_w, self.tonight_hours = night, 0.0, 0
        if in_window and night == self.night and average_w > standby_w:
            self.tonight_w = max(self.tonight_w, average_w)
            self.tonight_hours |= 1 << (moment.hour - NIGHT_H[0])

    def _close(self, standby_w: float, *, quiet_nights: int) -> None:
        self.nights = self.nights * NIGHT_MEMORY + 1.0
        self.above *= NIGHT_MEMORY
        if self.tonight_w > standby_w and self.tonight_hours.bit_count() >= 2:
            # in two hours of the night or more: a machine's cycle, not her kettle at 02:30
            # (found by a tester: an insomniac's night kettle made her every use by day no sign)
            self.above += 1.0
            self.peak_w = max(self.tonight_w, self.peak_w * NIGHT_MEMORY)
        for _ in range(quiet_nights):  # nights it did not report: it drew nothing
            self.nights = self.nights * NIGHT_MEMORY + 1.0
            self.above *= NIGHT_MEMORY

    def person_above(self, standby_w: float, step_w: float) -> float:
        """The draw above which a report is a person: the standby level, or, where most nights
        draw more (a machine of the home's own), a step above the most they draw."""
        if self.nights < NIGHTS_TO_LEARN or self.above < 0.5 * self.nights:
            return standby_w
        return max(standby_w, self.peak_w + step_w)


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
    door_changes: dict[str, deque[float]] = field(default_factory=dict)
    """Per door sensor, the times of its changes within the last CHATTER_WINDOW_S."""
    busy: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    """Per hub sensor giving signs: since when without a rest of REST_S, and its newest sign."""
    night_draw: dict[str, _NightDraw] = field(default_factory=dict)
    """Per meter reporting only kWh, what it draws at night."""
    night_steps: dict[int, float] = field(default_factory=dict)
    """Decayed count of power steps per 10 W bin seen at night: the home's own machines."""
    nights: float = 0.0
    night_day: int = -1

    @property
    def hub_last_seen_at(self) -> float | None:
        return max(self.hub_seen_at.values(), default=None)

    def note_sign(self, sign: SignOfLife) -> None:
        if self.last_sign_at is None or sign.ts >= self.last_sign_at:
            self.last_sign_at = sign.ts
            self.last_sign_kind = sign.kind
        water = self.last_water_at
        if sign.kind is SignKind.WATER and (water is None or sign.ts > water):
            self.last_water_at = sign.ts
        door = self.last_door_at
        if sign.kind is SignKind.DOOR and (door is None or sign.ts > door):
            self.last_door_at = sign.ts


class SignReader:
    """Turns one home's readings, in arrival order, into signs of life and flow runs."""

    def __init__(self, *, standby_w: float, switch_step_w: float, min_flow_m3_per_h: float,
                 tz: tzinfo = UTC) -> None:
        self.standby_w = standby_w
        self.switch_step_w = switch_step_w
        self.min_flow_m3_per_h = min_flow_m3_per_h
        self.tz = tz
        self.replay_from: float | None = None
        """Set while stored readings from this moment are replayed (`_restless`)."""

    def read(self, home: HomeState, reading: StoredReading) -> list[SignOfLife]:
        seen = home.hub_seen_at.get(reading.hub_id)
        if seen is None or reading.ts > seen:
            home.hub_seen_at[reading.hub_id] = reading.ts
        if home.first_seen_at is None or reading.ts < home.first_seen_at:
            home.first_seen_at = reading.ts
        kind = reading.kind
        if kind is SensorKind.DOOR:
            signs = self._door(home, reading)
        elif kind is SensorKind.MOTION:
            signs = self._motion(home, reading)
        elif kind is SensorKind.BUTTON:
            signs = [self._sign(home, reading, SignKind.ACTIVITY)]  # help or "I am fine": she is there
        elif kind is SensorKind.ELECTRICITY:
            signs = self._electricity(home, reading)
        else:
            signs = self._flow(home, reading, kind)
        if signs and kind in RESTLESS_KINDS and _restless(home, reading, self.replay_from):
            return []
        for sign in signs:
            home.note_sign(sign)
        return signs

    def _sign(self, home: HomeState, reading: StoredReading, kind: SignKind) -> SignOfLife:
        return SignOfLife(home.household_id, reading.ts, kind, reading.sensor)

    def _motion(self, home: HomeState, reading: StoredReading) -> list[SignOfLife]:
        """Every report of movement is a sign (dense ones: see density.py); "no movement" (the
        sensor clearing) is not."""
        return [self._sign(home, reading, SignKind.MOTION)] if reading.value >= 0.5 else []

    def _door(self, home: HomeState, reading: StoredReading) -> list[SignOfLife]:
        previous = home.doors.get(reading.sensor)
        home.doors[reading.sensor] = reading.value
        home.last_door_value = reading.value
        if previous == reading.value:
            return []  # a heartbeat repeating the state
        if previous is None and reading.value < 0.5:
            # A door first heard closed may be a heartbeat; first heard open, someone opened it
            # (a door rests closed), so a new hub's first opening counts.
            return []
        if _chattering(home, reading):
            return []
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
        if _new_baseline(drawn, reading.ts - previous.ts, kind):
            home.runs.pop(kind, None)
            return []
        if drawn > _EPS and drawn / hours >= self.min_flow_m3_per_h:
            close = reading.ts - previous.ts <= RUN_GAP_S
            run = home.runs.get(kind)
            since = run[0] if run is not None and close else (
                previous.ts if close else reading.ts - 60.0)
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
            if self._by_hand(home, reading.ts, before, reading.power_w):
                return [self._sign(home, reading, SignKind.ELECTRICITY)]
            return []
        if previous is None or _new_baseline(reading.value - previous.value, reading.ts - previous.ts,
                                             SensorKind.ELECTRICITY):
            return []
        hours = (reading.ts - previous.ts) / 3600.0
        average_w = (reading.value - previous.value) * 1000.0 / hours if hours > 0 else 0.0
        draw = home.night_draw.get(reading.sensor)
        if draw is None:
            draw = home.night_draw[reading.sensor] = _NightDraw()
        draw.note(datetime.fromtimestamp(reading.ts, self.tz), average_w, self.standby_w)
        if average_w > draw.person_above(self.standby_w, self.switch_step_w):
            return [self._sign(home, reading, SignKind.ELECTRICITY)]
        return []

    def _by_hand(self, home: HomeState, ts: float, before: float, after: float) -> bool:
        """Whether a power step is a person switching something (see the module docstring)."""
        step = abs(after - before)
        moment = datetime.fromtimestamp(ts, self.tz)
        if NIGHT_H[0] <= moment.hour < NIGHT_H[1]:
            self._note_night_step(home, moment.toordinal(), step)
        if home.nights < NIGHTS_TO_LEARN:
            return before <= self.standby_w < after or step >= self.switch_step_w
        if step < MIN_STEP_W:
            return False
        at = round(step / STEP_BIN_W)
        machine = max(home.night_steps.get(b, 0.0) for b in (at - 1, at, at + 1))
        return machine < MACHINE_STEPS_PER_NIGHT * home.nights

    def _note_night_step(self, home: HomeState, night: int, step: float) -> None:
        if night != home.night_day:
            home.night_day = night
            home.nights = home.nights * NIGHT_MEMORY + 1.0
            for b in list(home.night_steps):
                home.night_steps[b] *= NIGHT_MEMORY
                if home.night_steps[b] < 0.05:
                    del home.night_steps[b]
        if step >= MIN_STEP_W:
            b = round(step / STEP_BIN_W)
            home.night_steps[b] = home.night_steps.get(b, 0.0) + 1.0


def _chattering(home: HomeState, reading: StoredReading) -> bool:
    """Whether this change of a door contact is one of too many to be a person's (found by a
    tester of real hubs: a contact flipping every 20 s was taken for the elder three times a
    minute, and her collapse was never alerted on, not even at the safety limit)."""
    changes = home.door_changes.setdefault(reading.sensor, deque())
    changes.append(reading.ts)
    while changes and changes[0] < reading.ts - CHATTER_WINDOW_S:
        changes.popleft()
    if len(changes) <= CHATTER_CHANGES:
        return False
    if len(changes) == CHATTER_CHANGES + 1:
        log.warning("signs.door_chattering household=%s hub=%s sensor=%s changes=%d window_s=%.0f: "
                    "its changes are not signs of life until it calms; have the contact checked",
                    home.household_id, reading.hub_id, reading.sensor, len(changes), CHATTER_WINDOW_S)
    while len(changes) > CHATTER_CHANGES + 1:  # enough to know; memory stays bounded
        changes.popleft()
    return True


def _restless(home: HomeState, reading: StoredReading, replay_from: float | None) -> bool:
    """Whether this sign comes from a sensor that has not rested for RESTLESS_S (found by a tester:
    a motion sensor stuck reporting movement, or a heater on a kWh-only meter, gave a sign every
    minute, and the elder's silence was never alerted on, not even at the safety limit).

    In a replay from `replay_from` (a detector's warm-up), a sensor first heard within REST_S of its
    start may have been busy long before it: it is presumed restless until it rests (found by a
    tester: after a restart, a sensor stuck for days counted again for 20 hours, and the open
    alert of an elder silent since the morning was cleared as "life resumed")."""
    key = (reading.hub_id, reading.sensor)
    presumed = replay_from is not None and reading.ts - replay_from < REST_S
    since, newest = home.busy.get(key, (reading.ts - RESTLESS_S - REST_S if presumed else reading.ts,
                                        reading.ts))
    if reading.ts - newest >= REST_S:
        since = reading.ts
    home.busy[key] = (since, max(newest, reading.ts))
    if reading.ts - since <= RESTLESS_S:
        return False
    if newest - since <= RESTLESS_S:
        log.warning("signs.sensor_restless household=%s hub=%s sensor=%s busy_h=%.1f: it has given signs "
                    "without an hour's rest since %.0f; they are not signs of life until it rests; have it "
                    "checked (a stuck motion sensor, a machine on a meter)", home.household_id,
                    reading.hub_id, reading.sensor, (reading.ts - since) / 3600.0, since)
    return True


def _new_baseline(rise: float, seconds: float, kind: SensorKind) -> bool:
    """Whether a register's rise is more than any household meter passes in the time: a register
    taken on a new series (`shouwang.contract.validate`), not a use. Found by an attacker: a meter
    whose reads failed as 0 now and then made each true value after one a jump read as water
    drawn, a sign of life that hid a collapse."""
    rate = PLAUSIBLE.max_rate_per_h.get(kind)
    return rate is not None and rise > rate * max(seconds, SHORTEST_INTERVAL_S) / 3600.0
