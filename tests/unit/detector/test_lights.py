"""Lights left on: an evening fall leaves them on, a night switches them off (`detector.lights`)."""

from __future__ import annotations

import numpy as np

from detector import lights
from detector.learned import LearnedDetector
from detector.signs import HomeState, SignReader
from shouwang.domain.alerts import AlertKind, Finding
from shouwang.domain.model import StoredReading
from shouwang.settings import DetectorSettings
from tests.unit.detector.helpers import TZ, at, household

DAYS = 21  # learned; day 21 is under test
ROUTER_W, FRIDGE_W, LIGHTS_W, TV_W = 8.0, 90.0, 40.0, 110.0


class Home:
    """One elder's hub: a water meter and an electricity meter with `power_w` (a router, a
    fridge whose compressor runs 12 minutes in 35, the evening's lights and television),
    reporting when power moves by 20 W and every 15 minutes, read and learned as production
    does."""

    def __init__(self) -> None:
        settings = DetectorSettings()
        self.detector = LearnedDetector(settings, TZ)
        self.reader = SignReader(standby_w=settings.standby_w, switch_step_w=settings.switch_step_w,
                                 min_flow_m3_per_h=settings.min_flow_m3_per_h, tz=TZ)
        self.home = HomeState("h-1")
        self.ctx = {"h-1": household()}
        self.water = 0.0
        self.reported = (-1e9, -1.0)  # (time, power)

    def read(self, reading: StoredReading) -> None:
        for sign in self.reader.read(self.home, reading):
            self.detector.learn_one(sign)
        self.detector.observe(self.home, hub_id="hub-h-1", at=reading.ts)

    def minute(self, ts: float, load_w: float, water_l: float = 0.0) -> None:
        fridge = FRIDGE_W if (ts / 60.0) % 35 < 12 else 0.0
        watts = ROUTER_W + fridge + load_w
        last_at, last_w = self.reported
        if abs(watts - last_w) >= 20.0 or ts - last_at >= 900.0:
            self.read(StoredReading("h-1", "hub-h-1", "electricity", ts, 0.0, watts))
            self.reported = (ts, watts)
        if water_l > 0:
            self.water += water_l / 1000.0
            self.read(StoredReading("h-1", "hub-h-1", "water", ts, self.water))

    def day(self, day: int, rng: np.random.Generator, *, bed: float, lit_night: bool = False,
            fall_at: float | None = None, down_until: float = 0.0) -> list[tuple[float, Finding]]:
        """Day `day` minute by minute from 04:00 to 04:00: up about 06:30, lights at 18:00, the
        television from 19:00, the toilet then lights off at `bed` (left on if `lit_night`);
        from `fall_at` (hours; a glass of water just before), or until `down_until` with the
        lights and the television on, nothing but what was on. Judged every 10 minutes; the
        inactivity findings, by hour."""
        wake = 6.5 + rng.normal(0, 0.2)
        uses = sorted([wake, wake + 0.3, *rng.uniform(wake + 1, 17.5, size=6), bed - 0.1,
                       *([fall_at - 0.05] if fall_at is not None else [])])
        found = []
        frozen: float | None = None
        for minute in range(4 * 60, 28 * 60):
            hour = minute / 60.0
            ts = at(day, hour)
            load = ((LIGHTS_W if 18.0 <= hour < bed or (lit_night and hour >= bed) else 0.0)
                    + (TV_W if 19.0 <= hour < bed - 0.2 else 0.0))
            water = 6.0 if any(0 <= hour - u < 1 / 60 for u in uses) else 0.0
            if fall_at is not None and hour >= fall_at:
                frozen = load if frozen is None else frozen
                load, water = frozen, 0.0
            if hour < down_until:
                load, water = LIGHTS_W + TV_W, 0.0  # as she left them the evening before
            self.minute(ts, load, water)
            if minute % 10 == 0 and day >= DAYS:
                found += [(hour, f) for f in self.detector.assess(ts, {"h-1": self.home}, self.ctx)
                          if f.kind is AlertKind.INACTIVITY]
        return found


def learned(*, lit_every: int = 0) -> tuple[Home, np.random.Generator]:
    home, rng = Home(), np.random.default_rng(3)
    # a community whose thousand nights seen at 01:00 were all dark (`detector.lights` holds
    # the rule for nobody without one)
    home.detector.population.power_nights = 1000.0
    for day in range(DAYS):
        home.day(day, rng, bed=21.5 + rng.normal(0, 0.2),
                 lit_night=lit_every > 0 and day % lit_every == 1)
    return home, rng


def test_an_evening_fall_with_the_lights_on_alerts_at_the_late_bedtime_limit() -> None:
    home, rng = learned()
    t, i = home.detector.table, home.detector.row("h-1")
    assert bool(t.lit_ok[i])
    assert float(t.night_power_w[i]) == ROUTER_W
    # she falls at 20:45, 45 minutes before her usual bedtime, after the early bedtime limit:
    # the clock alone takes it for the night (the night window), and finds her only at her wake
    # limit the next morning
    found = home.day(DAYS, rng, bed=21.5, fall_at=20.75)
    assert found, "never alerted"
    hour, finding = found[0]
    late = float(t.bed_late_h[i])
    assert finding.details["limit"] == "lights_on", finding.explanation
    assert 21.5 < hour <= late + 0.2 < 24.0, (hour, late)
    assert finding.explanation.startswith("lights left on"), finding.explanation
    assert "灯一直没关" in (finding.explanation_zh or "")


def test_a_night_that_switches_the_lights_off_is_not_alerted() -> None:
    home, rng = learned()
    found = home.day(DAYS, rng, bed=21.0)  # to bed half an hour early, as she sometimes does
    assert not found, [(h, f.explanation) for h, f in found]


def test_a_household_that_sleeps_with_the_lights_on_now_and_then_gets_no_such_rule() -> None:
    home, rng = learned(lit_every=5)
    t, i = home.detector.table, home.detector.row("h-1")
    assert lights.count(t.ring_lit[i:i + 1])[0] >= 3
    assert not bool(t.lit_ok[i])
    found = home.day(DAYS, rng, bed=21.3, lit_night=True)  # asleep with the lights on, again
    assert not found, [(h, f.explanation) for h, f in found]
    found = home.day(DAYS + 1, rng, bed=21.5, fall_at=20.75)  # her fall waits for the morning
    assert all(f.details["limit"] != "lights_on" for _, f in found)


def test_a_fall_night_is_not_learned_as_a_night_slept_with_the_lights_on() -> None:
    home, rng = learned()
    t, i = home.detector.table, home.detector.row("h-1")
    home.day(DAYS, rng, bed=21.5, fall_at=19.5)  # lit until found at 13:00, past every limit
    home.day(DAYS + 1, rng, bed=21.5, down_until=13.0)
    home.day(DAYS + 2, rng, bed=21.5)
    assert lights.count(t.ring_lit[i:i + 1])[0] == 0
    assert float(t.night_power_w[i]) < ROUTER_W + 1.0
    assert bool(t.lit_ok[i])


def test_without_a_community_the_rule_waits() -> None:
    home, rng = Home(), np.random.default_rng(3)
    for day in range(DAYS):
        home.day(day, rng, bed=21.5 + rng.normal(0, 0.2))
    t, i = home.detector.table, home.detector.row("h-1")
    assert lights.count(t.ring_dark[i:i + 1])[0] >= DAYS - 5  # from her second night
    assert not bool(t.lit_ok[i])  # 21 dark nights of her own cannot show one lit in 2,000


def test_bits_are_counted_per_ring() -> None:
    masks = np.array([0, 1, 0b1011, 2**28 - 1], dtype=np.uint32)
    assert lights.count(masks).tolist() == [0, 1, 3, 28]
