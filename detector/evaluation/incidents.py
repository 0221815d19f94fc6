"""Seeded incidents for an evaluation of the simulated population, and what counts as caught.

Per home, after the learning days, on distinct days at least two days apart: two
incapacitations at random at-home daytime moments (found 16 hours later), and for some homes a
trip away (announced, as staff would record it), a hub power loss, a network outage (the hub
replays its backlog), a tap left running, gas left on. One building also loses power for three
hours at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from simulator.home import SimulatedHome
from simulator.incidents import Incident, IncidentKind
from simulator.population import SimHousehold

FOUND_AFTER_H = 16.0
DAYTIME = (7.0, 21.0)


@dataclass(frozen=True, slots=True)
class Schedule:
    incidents: list[Incident]
    building_cut: tuple[str, float, float] | None
    """(building, start, end) of the building-wide power cut, if any."""


def _at_home_moment(home: SimulatedHome, rng: np.random.Generator, midnight: float,
                    hours: tuple[float, float] = DAYTIME) -> float:
    for _ in range(50):
        ts = midnight + float(rng.uniform(*hours)) * 3600.0
        if not home.is_out(ts):
            return ts
    return midnight + 10.5 * 3600.0


def _days(rng: np.random.Generator, first: int, last: int, count: int) -> list[int]:
    """Up to `count` distinct days in [first, last), at least two apart, in random order."""
    count = min(count, max(0, (last - first + 1) // 2))
    for _ in range(200):
        picked = sorted(int(d) for d in rng.choice(np.arange(first, last), size=count,
                                                   replace=False))
        if all(b - a >= 2 for a, b in itertools.pairwise(picked)):
            return [int(d) for d in rng.permutation(picked)]
    return list(range(first, last, 2))[:count]


def schedule(households: list[SimHousehold], homes: list[SimulatedHome], *, seed: int,
             start: float, learning_days: int, days: int) -> Schedule:
    """Every incident of an evaluation run (see the module docstring)."""
    rng = np.random.default_rng([seed, 17])
    incidents: list[Incident] = []
    for n, (household, home) in enumerate(zip(households, homes, strict=True)):
        kinds = [IncidentKind.INCAPACITATION, IncidentKind.INCAPACITATION]
        if n % 3 == 0:
            kinds.append(IncidentKind.AWAY)
        if n % 4 == 1:
            kinds.append(IncidentKind.HUB_POWER_LOSS)
        if n % 5 == 2:
            kinds.append(IncidentKind.NETWORK_OUTAGE)
        if n % 2 == 0:
            kinds.append(IncidentKind.TAP_RUNNING)
        if n % 3 == 1 and household.profile.cooks_with_gas and "gas" in household.profile.sensors:
            kinds.append(IncidentKind.GAS_LEFT_ON)
        for kind, day in zip(kinds, _days(rng, learning_days, days - 1, len(kinds)), strict=False):
            incidents.append(_one(kind, home, rng, start + day * 86400.0))
    building = households[0].building if len(households) >= 6 else None
    cut = None
    if building is not None:
        at = start + (learning_days + 0.5 + float(rng.integers(days - learning_days - 2))) * 86400
        cut = (building, at, at + 3 * 3600.0)
        incidents += [Incident(h.home_id, IncidentKind.HUB_POWER_LOSS, cut[1], cut[2])
                      for h in households if h.building == building]
    return Schedule(sorted(incidents, key=lambda i: i.start), cut)


def _one(kind: IncidentKind, home: SimulatedHome, rng: np.random.Generator,
         midnight: float) -> Incident:
    if kind is IncidentKind.INCAPACITATION:
        at = _at_home_moment(home, rng, midnight)
        return Incident(home.home_id, kind, at, at + FOUND_AFTER_H * 3600.0)
    if kind is IncidentKind.AWAY:
        at = midnight + float(rng.uniform(9, 11)) * 3600.0
        return Incident(home.home_id, kind, at, at + float(rng.uniform(1.0, 1.5)) * 86400.0)
    if kind is IncidentKind.HUB_POWER_LOSS:
        at = midnight + float(rng.uniform(8, 18)) * 3600.0
        return Incident(home.home_id, kind, at, at + float(rng.uniform(2, 6)) * 3600.0)
    if kind is IncidentKind.NETWORK_OUTAGE:
        at = midnight + float(rng.uniform(8, 18)) * 3600.0
        return Incident(home.home_id, kind, at, at + float(rng.uniform(1, 3)) * 3600.0)
    at = _at_home_moment(home, rng, midnight, (8.0, 19.0))
    minutes = rng.uniform(30, 120) if kind is IncidentKind.TAP_RUNNING else rng.uniform(60, 180)
    return Incident(home.home_id, kind, at, at + float(minutes) * 60.0)
