"""The simulator's space of routines: each kind is what it says, every home its own."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from detector.evaluation.replay import HomeResult
from detector.evaluation.simulated import SimOutcome, by_kind
from simulator.home import SimulatedHome
from simulator.incidents import Incident, IncidentKind
from simulator.population import population
from simulator.routine import PIR_BLIND_S, Profile, plan_day
from simulator.routines import KINDS, draw_profile

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 3, 4, tzinfo=TZ)


def reports(profile: Profile, days: int, seed: int = 5) -> list[tuple[float, str, object]]:
    home = SimulatedHome("h", "hub", profile, seed, TZ, START.timestamp())
    return [(r.ts, r.sensor, r.payload.get("value")) for r in
            home.advance(START.timestamp() + days * 86400.0)]


def test_a_varied_population_takes_every_kind_in_turn_each_home_its_own_values() -> None:
    homes = population(2 * len(KINDS), seed=3, routines="varied")
    assert [h.kind for h in homes] == list(KINDS) * 2
    twins = [h for h in homes if h.kind == "early_riser"]
    assert twins[0].profile.wake_h != twins[1].profile.wake_h
    assert all(h.profile.kind == h.kind for h in homes)


def test_the_classic_population_is_unchanged_by_the_space_of_routines() -> None:
    rng = np.random.default_rng(11)
    rng.integers(20), rng.integers(12)  # the elder's name comes first
    homes = population(3, seed=11)
    assert homes[0].profile == Profile.draw(rng)
    assert {h.kind for h in homes} == {"classic"}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_plans_days_with_uses_and_nights(kind: str) -> None:
    profile = draw_profile(kind, np.random.default_rng(1))
    labels = set()
    for d in range(14):
        day = START + timedelta(days=d)
        labels |= {a.label for a in plan_day(profile, day, np.random.default_rng([1, d]))}
    assert "toilet" in labels and "asleep" in labels


def test_a_long_night_without_toilet_trips_is_silent_from_evening_to_morning() -> None:
    profile = draw_profile("long_night", np.random.default_rng(2))
    plan = plan_day(profile, START, np.random.default_rng([2, 0]))
    night = [a for a in plan if a.start < START.timestamp() + profile.wake_h * 3600 - 1800
             and a.label not in ("asleep",)]
    assert not night  # nothing between midnight and getting up
    assert 20.0 < profile.sleep_h < 21.0 and 7.5 < profile.wake_h < 8.7


def test_a_water_only_home_reports_only_its_water_meter() -> None:
    profile = draw_profile("water_only", np.random.default_rng(4))
    assert {sensor for _, sensor, _ in reports(profile, 2)} == {"water"}


def test_a_trip_of_several_days_leaves_and_returns_through_the_door_once() -> None:
    profile = draw_profile("traveller", np.random.default_rng(6))
    profile = Profile(**{f: getattr(profile, f) for f in Profile.__dataclass_fields__}
                      | {"trip_every_days": 3.0})
    home = SimulatedHome("h", "hub", profile, 5, TZ, START.timestamp())
    away = [d for d in range(30)
            if home.on_trip(START.timestamp() + d * 86400.0 + 13 * 3600.0)]
    assert away
    doors = [ts for ts, sensor, value in reports(profile, 30) if sensor == "door" and value == 1.0]
    first = min(away)
    on_trip_doors = [ts for ts in doors
                     if START.timestamp() + (first + 0.5) * 86400 <= ts
                     and home.on_trip(ts - 60) and home.on_trip(ts + 60)]
    assert not on_trip_doors  # no door at the midnights in between


def test_results_are_pooled_by_kind_of_routine() -> None:
    outcome = SimOutcome(homes={"learned": [HomeResult("a", "learned", 1.0, [2.0]),
                                            HomeResult("b", "learned", 2.0, [4.0]),
                                            HomeResult("c", "learned", 1.5, [1.0])]},
                         kinds={"a": "sparse", "b": "sparse", "c": "napper"})
    pooled = {r.home_id: r for r in by_kind(outcome)["learned"]}
    assert pooled["sparse"].household_months == 3.0 and pooled["sparse"].delays_h == [2.0, 4.0]
    assert pooled["napper"].delays_h == [1.0]


def _motion_home(seed: int = 7, incidents: list[Incident] | None = None) -> SimulatedHome:
    profile = draw_profile("motion", np.random.default_rng(seed))
    return SimulatedHome("h", "hub", profile, seed, TZ, START.timestamp(), incidents=incidents or [])


def test_a_motion_sensor_sees_the_elder_up_at_home_and_not_out_nor_asleep_but_for_the_toilet() -> None:
    home = _motion_home()
    got = home.advance(START.timestamp() + 7 * 86400.0)
    moved = [r.ts for r in got if r.sensor == "motion"]
    water = [r.ts for r in got if r.sensor == "water"]
    assert all(r.payload["value"] == 1.0 for r in got if r.sensor == "motion")
    assert min(np.diff(moved)) >= PIR_BLIND_S  # the PIR's blind time
    awake_h, in_bed = 0.0, []
    for d in range(7):
        outings, asleep = home.plan_at(START.timestamp() + (d + 0.5) * 86400.0)
        assert not [t for t in moved if any(a <= t < b for a, b in outings)]
        in_bed += [t for t in moved if any(a <= t < b for a, b in asleep)]
        awake_h += 24.0 - sum(b - a for a, b in outings + asleep) / 3600.0
    # in bed, only on the way to the toilet: its flush is reported within the next minutes
    assert all(any(t <= w <= t + 180.0 for w in water) for t in in_bed)
    per_h = (len(moved) - len(in_bed)) / awake_h
    assert 2.0 <= per_h <= 12.0, per_h  # a dense home: many signs an hour while she is up


def test_a_motion_home_keeps_its_routine_and_other_homes_are_unchanged() -> None:
    # the sensor's own draws: the meters report the same as the classic routine drawn alike
    home = _motion_home()
    plain = SimulatedHome("h", "hub", dataclasses.replace(home.profile, sensors=("water", "electricity", "gas", "door"),
                                                          motion_per_h=0.0), 7, TZ,
                          START.timestamp())
    until = START.timestamp() + 3 * 86400.0
    assert ([r for r in home.advance(until) if r.sensor != "motion"]
            == [r for r in plain.advance(until)])


def test_an_elder_who_cannot_move_is_seen_by_no_motion_sensor() -> None:
    down = Incident("h", IncidentKind.INCAPACITATION, START.timestamp() + 86400.0 + 9 * 3600.0,
                    START.timestamp() + 86400.0 + 20 * 3600.0)
    got = _motion_home(incidents=[down]).advance(START.timestamp() + 3 * 86400.0)
    moved = [r.ts for r in got if r.sensor == "motion"]
    assert moved and not [t for t in moved if down.start <= t < (down.end or 0.0)]
