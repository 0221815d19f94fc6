"""Order-independent learning: a day's signs teach the rhythm whatever order they arrive in."""

from __future__ import annotations

import numpy as np

from detector.learned import LearnedDetector
from detector.signs import HomeState, SignKind, SignOfLife
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.unit.detector.helpers import TZ, at, household

DAYS = 10


def day_of_signs(day: int, seed: int) -> list[SignOfLife]:
    """A day of water and power signs, in time order."""
    rng = np.random.default_rng(seed)
    hours = np.sort(np.concatenate([[6.5, 6.6, 6.9], rng.uniform(7.5, 21.3, 25), [21.4]]))
    kinds = [SignKind.WATER if rng.random() < 0.5 else SignKind.ELECTRICITY for _ in hours]
    return [SignOfLife("h-1", at(day, float(h)), k, k.value) for h, k in zip(hours, kinds,
                                                                               strict=True)]


def tick(detector: LearnedDetector, now: float) -> None:
    ctx = household()
    detector.observe(HomeState("h-1"), hub_id=ctx.hubs[0].id, at=now)
    detector.assess(now, {}, {"h-1": ctx})


def live(settings: DetectorSettings, *, sensor_by_sensor: bool) -> LearnedDetector:
    """Every day live, the hub heard every ten minutes. When `sensor_by_sensor`, on the last but
    one day the hub sends its readings once an hour, one sensor after the other (all the hour's
    water, then all its power); otherwise every sign arrives as it happens."""
    detector = LearnedDetector(settings, TZ)
    for day in range(DAYS + 1):
        signs = day_of_signs(day, seed=day) if day < DAYS else []
        hourly = sensor_by_sensor and day == DAYS - 2
        k = 0
        for minute in range(0, 24 * 60, 10):
            now = at(day, minute / 60)
            if hourly and minute % 60 == 0:
                past_hour = [s for s in signs if now - 3600 < s.ts <= now]
                for kind in (SignKind.WATER, SignKind.ELECTRICITY):
                    for sign in (s for s in past_hour if s.kind is kind):
                        detector.learn_one(sign)
            while not hourly and k < len(signs) and signs[k].ts <= now:
                detector.learn_one(signs[k])
                k += 1
            tick(detector, now)
            if day == DAYS and minute >= 7 * 60:
                break
        if day == DAYS - 1:
            detector.learn_one(SignOfLife("h-1", at(DAYS, 6.5), SignKind.WATER, "water"))
    return detector


def test_signs_flushed_sensor_by_sensor_teach_what_the_same_signs_in_order_do() -> None:
    settings = DetectorSettings()
    in_order = live(settings, sensor_by_sensor=False)
    flushed = live(settings, sensor_by_sensor=True)
    assert flushed.history_days("h-1") == in_order.history_days("h-1") >= DAYS - 2
    np.testing.assert_allclose(flushed.table.rhythm(0), in_order.table.rhythm(0))


def test_without_the_hold_the_late_sensors_signs_were_lost() -> None:
    settings = DetectorSettings(learned=LearnedSettings(reorder_hold_s=0))
    in_order = live(settings, sensor_by_sensor=False)
    flushed = live(settings, sensor_by_sensor=True)
    assert flushed.table.rhythm(0)[0].sum() < in_order.table.rhythm(0)[0].sum()
