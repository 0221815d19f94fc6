"""Dense homes: many motion signs an hour make a silence at home alarming sooner."""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from detector import density, limits, nights
from detector.learned import LearnedDetector
from detector.signs import HomeState, SignKind, SignOfLife, SignReader
from shouwang.domain.alerts import AlertKind, Finding
from shouwang.domain.model import StoredReading
from shouwang.settings import DetectorSettings
from tests.unit.detector.helpers import DAY, TZ, at, household, routine

DAYS = 21
ID = "h-1"


def moving(days: int, seed: int) -> Iterator[SignOfLife]:
    """`routine`'s uses, and a motion sensor seeing the elder every few minutes from getting
    up to bed, but for a nap after lunch (13:30-14:45) and television in the evening."""
    rng = np.random.default_rng(seed + 100)
    signs = list(routine(ID, days, seed=seed))
    for day in range(days):
        hour = 6.6
        while hour < 21.3:
            if not (13.5 <= hour < 14.75 or 19.0 <= hour < 20.0):
                signs.append(SignOfLife(ID, at(day, hour), SignKind.MOTION, "motion"))
            hour += float(rng.uniform(0.02, 0.07))  # minutes apart: one long episode
    yield from sorted(signs, key=lambda s: s.ts)


@lru_cache(maxsize=2)
def _trained(dense: bool) -> LearnedDetector:
    detector = LearnedDetector(DetectorSettings(), TZ)
    detector.learn(moving(DAYS, seed=1) if dense else routine(ID, DAYS, seed=1))
    return detector


def trained(*, dense: bool) -> LearnedDetector:
    """The same elder after three weeks, with or without a motion sensor (a fresh copy)."""
    return copy.deepcopy(_trained(dense))


def first_alert(detector: LearnedDetector, start: float, hours: float) -> tuple[float, Finding]:
    ctx = household(ID)
    for now in np.arange(start, start + hours * 3600 + 1, 600.0):
        detector.observe(HomeState(ID), hub_id=ctx.hubs[0].id, at=float(now))
        found = [f for f in detector.assess(float(now), {}, {ID: ctx})
                 if f.kind is AlertKind.INACTIVITY]
        if found:
            return float(now), found[0]
    raise AssertionError("no alert")


def morning(detector: LearnedDetector, until: float, *, motion: bool) -> None:
    for hour in (6.5, 6.6, 6.8, 7.5, 8.2, until):
        detector.learn_one(SignOfLife(ID, at(DAYS, hour), SignKind.WATER, "water"))
    if motion:
        for hour in np.arange(6.6, until, 0.05):
            detector.learn_one(SignOfLife(ID, at(DAYS, float(hour)), SignKind.MOTION, "motion"))


def test_a_dense_home_gets_quiet_limits_a_sparse_one_does_not() -> None:
    dense, sparse = trained(dense=True), trained(dense=False)
    assert density.motion_per_hour(dense.table, 0) > 5
    assert density.motion_per_hour(sparse.table, 0) == 0
    assert np.isnan(sparse.table.quiet_spell_limit_h(0)[0]).all()
    limits = dense.table.quiet_spell_limit_h(0)[0]
    # the mornings' quiet spells are minutes long (the floor, an hour); 13:00-14:00 holds the nap
    # (1 h 15 m): above it, with room that the predictive quantile leaves for three weeks' history
    # and the built-in tail (alone, no community lends one), heavier than this nap's, every day
    # the same
    assert limits[9] == limits[10] == 1.0
    assert 1.25 <= limits[13] < 6.0


def wandering(days: int, seed: int) -> Iterator[SignOfLife]:
    """`moving`, but each morning a quiet spell at home of uneven length (a quarter of an hour
    to two and more) begins between 09:00 and 11:00: a tail three weeks cannot pin down."""
    rng = np.random.default_rng(seed + 200)
    quiet = [(9.0 + 2.0 * float(rng.random()), float(rng.gamma(1.2, 0.45))) for _ in range(days)]
    for sign in moving(days, seed):
        day = int((sign.ts - at(0, 0.0)) // 86400)
        start, length = quiet[day]
        if sign.kind is not SignKind.MOTION or not at(day, start) < sign.ts < at(day, start + length):
            yield sign


def test_a_dense_home_alone_borrows_the_built_in_tail_not_its_own_few_weeks(monkeypatch) -> None:
    def limits() -> np.ndarray:
        detector = LearnedDetector(DetectorSettings(), TZ)
        detector.learn(wandering(DAYS, seed=3))
        return detector.table.quiet_spell_limit_h(0)[0]

    built_in = limits()
    monkeypatch.setattr(density, "BUILT_IN_EXCESSES", 0.0)  # its own spells' tail alone
    own = limits()
    mornings = slice(9, 12)
    assert np.isfinite(built_in[mornings]).all()
    assert (built_in[mornings] < own[mornings] - 0.5).all()
    assert (built_in[mornings] < 5.0).all()


def test_a_dense_homes_silence_alerts_sooner_than_the_same_silence_in_a_sparse_home() -> None:
    dense, sparse = trained(dense=True), trained(dense=False)
    morning(dense, 9.0, motion=True)
    morning(sparse, 9.0, motion=False)
    dense_at, found = first_alert(dense, at(DAYS, 9.0), 13)
    sparse_at, _ = first_alert(sparse, at(DAYS, 9.0), 8)
    assert dense_at <= at(DAYS, 10.5) < sparse_at
    assert found.details["limit"] == "day_rhythm"


def test_a_door_followed_by_silence_holds_as_probably_out_in_a_dense_home() -> None:
    dense = trained(dense=True)
    morning(dense, 9.0, motion=True)
    dense.learn_one(SignOfLife(ID, at(DAYS, 9.05), SignKind.DOOR, "door"))
    when, found = first_alert(dense, at(DAYS, 9.0), 13)
    limit = float(dense.table.quiet_spell_limit_h(0)[0, 0])
    assert when - at(DAYS, 9.05) > (limit + 0.25) * 3600  # not judged as a quiet spell at home
    assert found.details["limit"] == "outing_limit"


def test_the_quiet_limit_judges_the_evening_up_to_the_usual_bedtime_not_the_night() -> None:
    dense = trained(dense=True)
    t = dense.table
    bed = float(t.bed_h[0])
    rows = np.array([0, 0, 0])
    # the afternoon; an evening silence, judged on its hours before the usual bedtime (before,
    # the night window, opening 1½ h before bedtime, took it from the quiet limits); one that
    # began half an hour before bedtime, whose hours after it are the night's
    start = np.array([9.0, bed - 9.0, bed - 0.5])
    now_h = np.array([17.0, bed - 1.0, bed + 6.0])
    assert density.overdue(t, rows, start, now_h).tolist() == [True, True, False]
    woke_early = np.array([float(t.wake_h[0]) - 1.5])  # up at dawn, back to sleep: a night
    assert not density.overdue(t, rows[:1], woke_early, woke_early + 6.0)[0]
    # a quiet spell is counted until the usual bedtime after it: an early night's evening too
    assert density.spell_hours(20.0, 23.5, 22.0) == 2.0
    assert density.spell_hours(20.0, 30.5, 22.0) == 2.0  # to bed at 20:00, up at 06:30
    assert math.isclose(density.spell_hours(10.0, 11.5, 22.0), 1.5)


def test_an_evening_silence_in_a_dense_home_alerts_before_its_usual_bedtime() -> None:
    # still from 20:00, an hour and a half before the usual bedtime, where this home's evening
    # spells are short: before, the silence began in the night window (from 1½ h before
    # bedtime), which the quiet limits did not judge, and waited for the ceiling
    dense = trained(dense=True)
    t = dense.table
    bed = float(t.bed_h[0])
    assert bed - nights.EVENING_BEFORE_BED_H < 20.0 < bed - 1.0
    morning(dense, 20.0, motion=True)
    t.spells.quiet_spell_limit_h[int(t.dense_row[0]), 20] = 1.0  # its evenings' spells: short
    when, found = first_alert(dense, at(DAYS, 20.0), 13)
    assert when <= at(DAYS, 21.0)
    assert found.details["limit"] == "day_rhythm"


def test_a_motion_sensor_reporting_movement_is_a_sign_of_life() -> None:
    s = DetectorSettings()
    reader = SignReader(standby_w=s.standby_w, switch_step_w=s.switch_step_w,
                        min_flow_m3_per_h=s.min_flow_m3_per_h, tz=TZ)
    home = HomeState(ID)
    moved = reader.read(home, StoredReading(ID, "hub-1", "motion.hall", at(0, 9.0), 1.0))
    cleared = reader.read(home, StoredReading(ID, "hub-1", "motion.hall", at(0, 9.1), 0.0))
    assert [s.kind for s in moved] == [SignKind.MOTION] and cleared == []
    assert home.last_sign_at == at(0, 9.0)


def test_a_home_whose_motion_sensor_sees_the_return_may_stay_out_longer_than_the_ceiling() -> None:
    # Kasteren A's resident was away 13-48 h a few times a month; every such day ended at the
    # 12-hour ceiling in a false alert, although his motion sensors would have seen him come back
    # in. Where they do, an outing is held to its own limit, up to `max_outing_h` (a day); a
    # home without them keeps the ceiling: its "out" may be a fall at the door.
    dense, sparse = trained(dense=True), trained(dense=False)
    for detector in (dense, sparse):
        morning(detector, 9.0, motion=detector is dense)
        detector.learn_one(SignOfLife(ID, at(DAYS, 9.05), SignKind.DOOR, "door"))
        detector.table.outing_h[0] = 14.0  # its outings, learned
    when, found = first_alert(dense, at(DAYS, 9.0), 14.5)
    assert when >= at(DAYS, 9.05 + 14.0)
    assert found.details["limit"] == "outing_limit"
    assert "probably went out" in found.explanation
    when, found = first_alert(sparse, at(DAYS, 9.0), 14.5)
    assert when < at(DAYS, 9.05 + 12.25)
    assert found.details["limit"] == "safety_limit"
    # the limits themselves: the day's ceiling for a home with motion, the fixed one without
    s = dense.settings.learned
    for detector, most in ((dense, s.max_outing_h), (sparse, dense.settings.inactivity_h)):
        ceiling = limits.outing_ceiling_s(detector.table, np.array([0]), ceiling_s=detector.ceiling_s,
                                          max_outing_s=s.max_outing_h * 3600.0, min_motion=limits.min_motion(s))
        assert float(ceiling[0]) == most * 3600.0


WITHOUT = 28  # four weeks after the motion sensor was taken away (or its battery died)


def test_a_home_whose_motion_sensor_is_gone_for_weeks_is_held_to_the_ceiling_again() -> None:
    # found by a regression tester: `dense_row` says the home showed motion once, and is never cleared
    detector = trained(dense=True)                          # three weeks with a motion sensor
    later = [dataclasses.replace(s, ts=s.ts + DAYS * DAY)
             for s in routine(ID, WITHOUT, seed=7)]         # then four weeks of water and power only
    detector.learn(iter(later))
    day = DAYS + WITHOUT
    for hour in (6.5, 6.6, 6.8, 7.5, 8.2, 9.0):
        detector.learn_one(SignOfLife(ID, at(day, hour), SignKind.WATER, "water"))
    detector.learn_one(SignOfLife(ID, at(day, 9.05), SignKind.DOOR, "door"))   # a door, then nothing
    detector.table.outing_h[0] = 14.0                       # its outings, learned (as in test_density)
    s = detector.settings.learned
    ceiling = float(limits.outing_ceiling_s(detector.table, np.array([0]), ceiling_s=detector.ceiling_s,
                                            max_outing_s=s.max_outing_h * 3600.0,
                                            min_motion=limits.min_motion(s))[0])
    when, found = first_alert(detector, at(day, 9.0), 14.5)
    # before, the outing limit stayed at a day and the first alert came after the learned 14 h
    # outing, not at the 12 h ceiling: nothing could "see her come back in"
    assert ceiling == detector.ceiling_s and when < at(day, 9.05 + 12.25), (
        f"outing ceiling {ceiling / 3600:.0f} h; first alert {(when - at(day, 9.05)) / 3600:.1f} h after the door "
        f"({found.details.get('limit')})")
