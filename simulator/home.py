"""One simulated home and its hub: meters as cumulative registers, a door, reports per contract.

The hub reports a meter at the end of every minute it moved and at least every
`report_interval_s` when nothing happens; electricity also when power changes by 20 W or more;
the door on every opening and closing; a motion sensor (a home whose profile has one) each
movement it sees (`simulator.routine.movements`; its clearing is not reported). The help button
reports a press when a `help_press` incident says so; a home with an "I am fine" button
(`fine_press_h`) presses it every day at that local hour, unless the elder is out, away or cannot.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from shouwang.domain.model import FINE_PRESS, HELP_PRESS
from simulator.incidents import Incident, IncidentKind
from simulator.routine import MINUTE, Profile, local_midnight, movements, plan_day

POWER_REPORT_STEP_W = 20.0
ROUTER_W = 8.0
FRIDGE_W = 90.0
TAP_LEFT_RUNNING_LPM = 2.0
STOVE_LEFT_ON_M3H = 0.35


@dataclass(frozen=True, slots=True)
class Report:
    """A reading as the hub publishes it, or a presence change (`sensor == "status"`)."""

    ts: float
    sensor: str
    payload: dict[str, object]


@dataclass
class _Day:
    midnight: float
    water_lpm: np.ndarray
    gas_m3h: np.ndarray
    power_w: np.ndarray
    doors: list[tuple[float, float]]
    outings: list[tuple[float, float]]
    asleep: list[tuple[float, float]]
    motion: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """When the motion sensor sees the elder (sorted; none without one)."""
    per_minute: list[tuple[float, float, float]] = field(default_factory=list)
    """(water, gas, power) of each minute as Python floats: what `_step` reads, minute by minute."""
    door_times: list[float] = field(default_factory=list)
    """The times of `doors`, to find a minute's events by bisection."""

    def __post_init__(self) -> None:
        self.per_minute = list(zip(self.water_lpm.tolist(), self.gas_m3h.tolist(),
                                   self.power_w.tolist(), strict=True))
        self.door_times = [ts for ts, _ in self.doors]


@dataclass
class _Sensor:
    value: float = 0.0
    reported_at: float = float("-inf")
    reported_power: float = -1.0
    seq: int = 0


@dataclass
class SimulatedHome:
    home_id: str
    hub_id: str
    profile: Profile
    seed: int
    tz: ZoneInfo
    start: float
    incidents: list[Incident] = field(default_factory=list)
    report_interval_s: float = 900.0
    fine_press_h: float | None = None
    """Local hour of the daily "I am fine" press (平安键), for a home with that button."""
    bridged: bool = False
    """Equipped from a shop's shelf: published as its bridges would (see `simulator.devices`)."""

    def __post_init__(self) -> None:
        self._t = self.start - self.start % MINUTE
        self._days: dict[float, _Day] = {}
        rng = np.random.default_rng(self.seed)
        self._fridge_phase = float(rng.uniform(0, 35))
        self._sensors = {
            "water": _Sensor(round(float(rng.uniform(10, 300)), 3)),
            "gas": _Sensor(round(float(rng.uniform(10, 200)), 3)),
            "electricity": _Sensor(round(float(rng.uniform(500, 5000)), 1)),
            "door": _Sensor(0.0),
            "motion": _Sensor(1.0),
        }
        self._buffer: list[Report] = []
        self._frozen_power: float | None = None
        self._today: _Day | None = None
        self._today_end = float("-inf")
        self._by_kind = {k: [i for i in self.incidents if i.kind is k] for k in IncidentKind}
        self._filtered = len(self.profile.sensors) < 4  # a home with fewer meters (only water, say)

    @property
    def now(self) -> float:
        return self._t

    def _day(self, ts: float) -> _Day:
        today = self._today
        if today is not None and today.midnight <= ts < self._today_end:
            return today
        midnight_dt = local_midnight(ts, self.tz)
        midnight = midnight_dt.timestamp()
        day = self._days.get(midnight)
        if day is None:
            rng = np.random.default_rng([self.seed, int(midnight)])
            plan = plan_day(self.profile, midnight_dt, rng)
            day = self._days[midnight] = self._build(midnight, plan)
            if "motion" in self.profile.sensors:  # its own draws: the routine's stay as they were
                end = local_midnight(midnight + 27 * 3600, self.tz).timestamp()
                day.motion = np.array(movements(self.profile, plan, midnight, end,
                                                np.random.default_rng([self.seed, int(midnight), 1])))
            for old in [k for k in self._days if k < midnight - 86400]:
                del self._days[old]
        self._today = day
        self._today_end = local_midnight(midnight + 27 * 3600, self.tz).timestamp()
        return day

    def _build(self, midnight: float, plan: list) -> _Day:  # type: ignore[type-arg]
        minutes = 1500  # a DST day can have 25 hours
        water, gas, power = np.zeros(minutes), np.zeros(minutes), np.zeros(minutes)
        doors: list[tuple[float, float]] = []
        outings = [(a.start, a.end) for a in plan if a.outing]
        asleep = [(a.start, a.end) for a in plan if a.label == "asleep"]
        for a in plan:
            if a.outing:
                if a.doors[0]:
                    doors += [(a.start, 1.0), (a.start + 15, 0.0)]
                if a.doors[1]:
                    doors += [(a.end, 1.0), (a.end + 15, 0.0)]
                continue
            first, last = int((a.start - midnight) // MINUTE), int((a.end - midnight) // MINUTE)
            water[first:last] += a.water_lpm
            gas[first:last] += a.gas_m3h
            power[first:last] += a.power_w
        return _Day(midnight, water, gas, power, sorted(doors), outings, asleep)

    def _planned(self, ts: float) -> _Day:
        """The local day containing `ts` as its routine plans it (ground truth, not the cache)."""
        midnight = local_midnight(ts, self.tz)
        rng = np.random.default_rng([self.seed, int(midnight.timestamp())])
        return self._build(midnight.timestamp(), plan_day(self.profile, midnight, rng))

    def plan_at(self, ts: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The outings and sleep spans of the local day containing `ts` (ground truth)."""
        day = self._planned(ts)
        return day.outings, day.asleep

    def last_use_and_next_door(self, ts: float) -> tuple[float | None, float | None]:
        """On the local day of `ts` and before it: when water, gas or power was last drawn, and
        when a door was first opened after that (ground truth from the routine)."""
        day = self._planned(ts)
        used = np.flatnonzero(day.water_lpm + day.gas_m3h + day.power_w > 0)
        used = used[day.midnight + used * MINUTE < ts]
        last = float(day.midnight + used[-1] * MINUTE) if used.size else None
        doors = [at for at, value in day.doors if value == 1.0 and (last is None or at > last) and at < ts]
        return last, min(doors) if doors else None

    def on_trip(self, ts: float) -> bool:
        """Whether the routine has the elder away on a trip of several days at `ts`."""
        midnight = local_midnight(ts, self.tz)
        rng = np.random.default_rng([self.seed, int(midnight.timestamp())])
        return any(a.label == "trip" and a.start <= ts < a.end
                   for a in plan_day(self.profile, midnight, rng))

    def is_out(self, ts: float) -> bool:
        """Whether the routine has the elder out of the home at `ts`."""
        return any(a <= ts < b for a, b in self.plan_at(ts)[0])

    def _incident(self, kind: IncidentKind, ts: float) -> Incident | None:
        incidents = self._by_kind[kind]
        if not incidents:  # (most kinds, in most homes: a minute's step asks seven times)
            return None
        for incident in incidents:
            if incident.covers(ts):
                return incident
        return None

    def advance(self, until: float) -> list[Report]:
        """Every report the hub publishes up to `until`, minute by minute."""
        out: list[Report] = []
        while self._t + MINUTE <= until:
            self._t += MINUTE
            self._step(self._t, out)
        return out

    def _step(self, t: float, out: list[Report]) -> None:
        day = self._day(t - 1)
        i = int((t - 1 - day.midnight) // MINUTE)
        fridge_on = ((t / MINUTE + self._fridge_phase) % 35) < 12
        base = ROUTER_W + (FRIDGE_W if fridge_on else 0.0)
        water, gas, power = day.per_minute[i]
        times = day.door_times
        doors = day.doors[bisect_right(times, t - MINUTE):bisect_right(times, t)]
        away = self._incident(IncidentKind.AWAY, t)
        down = self._incident(IncidentKind.INCAPACITATION, t)
        if not down:
            self._frozen_power = None
        if away or down:
            water = gas = 0.0
            power = 0.0 if away else self._freeze(power)
            doors = [] if down else doors
        # a trip's door: leaving at its start, coming home at its end (the minute after it)
        trips = [(ts, v) for i in self._by_kind[IncidentKind.AWAY]
                 for ts, v in ((i.start, 1.0), (i.start + 15, 0.0), ((i.end or 0), 1.0),
                               ((i.end or 0) + 15, 0.0)) if t - MINUTE < ts <= t]
        doors = trips if away else sorted(doors + trips) if trips else doors
        if self._incident(IncidentKind.TAP_RUNNING, t):
            water += TAP_LEFT_RUNNING_LPM
        if self._incident(IncidentKind.GAS_LEFT_ON, t):
            gas += STOVE_LEFT_ON_M3H
        reports: list[Report] = []
        self._meter(t, "water", water / 1000.0, reports)
        self._meter(t, "gas", gas / 60.0, reports)
        self._electricity(t, base + power, reports)
        self._door(t, doors, reports)
        if day.motion.size and not (away or down):
            seen = day.motion[np.searchsorted(day.motion, t - MINUTE, "right"):
                              np.searchsorted(day.motion, t, "right")]
            reports += [self._reading(float(ts), "motion", self._sensors["motion"]) for ts in seen]
        self._buttons(t, day, bool(away or down), reports)
        self._publish(t, reports, out)

    def _buttons(self, t: float, day: _Day, unable: bool, reports: list[Report]) -> None:
        for incident in self._by_kind[IncidentKind.HELP_PRESS]:
            if t - MINUTE < incident.start <= t:
                reports.append(Report(incident.start, "button", {"ts": incident.start, "value": HELP_PRESS}))
        if self.fine_press_h is None or unable:
            return
        at = day.midnight + self.fine_press_h * 3600
        if t - MINUTE < at <= t and not any(a <= at < b for a, b in day.outings):
            reports.append(Report(at, "button.fine", {"ts": at, "value": FINE_PRESS}))

    def _freeze(self, power: float) -> float:
        if self._frozen_power is None:
            self._frozen_power = float(power)  # whatever was on stays on
        return self._frozen_power

    def _meter(self, t: float, name: str, used: float, reports: list[Report]) -> None:
        sensor = self._sensors[name]
        if used:  # (nothing used: the register, already rounded, stays as it is)
            sensor.value = round(sensor.value + float(used), 6)
        if used > 0 or t - sensor.reported_at >= self.report_interval_s:
            reports.append(self._reading(t, name, sensor))

    def _electricity(self, t: float, power_w: float, reports: list[Report]) -> None:
        sensor = self._sensors["electricity"]
        power_w = float(power_w)
        sensor.value = round(sensor.value + power_w * MINUTE / 3.6e6, 6)
        due = t - sensor.reported_at >= self.report_interval_s
        if due or abs(power_w - sensor.reported_power) >= POWER_REPORT_STEP_W:
            sensor.reported_power = power_w
            reports.append(self._reading(t, "electricity", sensor, power_w=power_w))

    def _door(self, t: float, events: list[tuple[float, float]], reports: list[Report]) -> None:
        sensor = self._sensors["door"]
        for ts, value in events:
            sensor.value = value
            reports.append(self._reading(ts, "door", sensor))
        if t - sensor.reported_at >= self.report_interval_s:
            reports.append(self._reading(t, "door", sensor))

    def _reading(self, ts: float, name: str, sensor: _Sensor, **extra: float) -> Report:
        sensor.seq += 1
        sensor.reported_at = ts
        payload: dict[str, object] = {"ts": ts, "value": sensor.value, "seq": sensor.seq, **extra}
        return Report(ts, name, payload)

    def _publish(self, t: float, reports: list[Report], out: list[Report]) -> None:
        if self._filtered:
            reports = [r for r in reports if r.sensor in self.profile.sensors or r.sensor.startswith("button")]
        lost = self._incident(IncidentKind.HUB_POWER_LOSS, t)
        cut = self._incident(IncidentKind.NETWORK_OUTAGE, t)
        was_down = self._incident(IncidentKind.HUB_POWER_LOSS, t - MINUTE)
        if lost:
            if not was_down:
                out.append(Report(t, "status", {"state": "offline"}))
            return
        if was_down:
            out.append(Report(t, "status", {"state": "online", "ts": t}))
        if cut:
            self._buffer.extend(reports)
            return
        if self._buffer:
            out.extend(self._buffer)  # the backlog, replayed after the network returns
            self._buffer = []
        out.extend(reports)
