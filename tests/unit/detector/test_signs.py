"""Signs of life from readings: machines are not people; runs are continuous only when shown."""

from __future__ import annotations

import pytest

from detector.signs import CHATTER_CHANGES, CHATTER_WINDOW_S, REST_S, RESTLESS_S, HomeState, SignKind, SignReader
from shouwang.domain.model import SensorKind, StoredReading
from tests.unit.detector.helpers import TZ, at


def reader() -> SignReader:
    return SignReader(standby_w=150.0, switch_step_w=100.0, min_flow_m3_per_h=0.012, tz=TZ)


def power(home: HomeState, r: SignReader, ts: float, watts: float) -> list[SignKind]:
    reading = StoredReading(home.household_id, "hub", "electricity", ts, 0.0, watts)
    return [s.kind for s in r.read(home, reading)]


def test_the_fridge_cycling_at_night_is_learned_as_a_machine_not_a_person() -> None:
    r, home = reader(), HomeState("h-1")
    for night in range(3):  # the compressor, 90 W on and off every half hour, 01:00-05:00
        for k in range(8):
            power(home, r, at(night, 1.0 + k / 2), 98.0 if k % 2 == 0 else 8.0)
    # evening: the TV (110 W) is on; the fridge still cycles under it
    assert power(home, r, at(3, 19.0), 118.0) == [SignKind.ELECTRICITY]  # TV switched on
    assert power(home, r, at(3, 19.3), 208.0) == []  # the fridge, not a person
    assert power(home, r, at(3, 19.6), 118.0) == []
    assert power(home, r, at(3, 20.0), 158.0) == [SignKind.ELECTRICITY]  # a lamp, 40 W


def test_before_any_night_is_heard_only_large_steps_count() -> None:
    r, home = reader(), HomeState("h-1")
    power(home, r, at(0, 19.0), 118.0)
    assert power(home, r, at(0, 19.3), 208.0) == [SignKind.ELECTRICITY]  # crosses 150 W
    assert power(home, r, at(0, 19.6), 248.0) == []  # 40 W: too small to be sure


def water(home: HomeState, r: SignReader, ts: float, m3: float) -> list[SignKind]:
    return [s.kind for s in r.read(home, StoredReading("h-1", "hub", "water", ts, m3))]


def test_water_drawn_is_a_sign_and_a_run_lasts_while_reports_are_close() -> None:
    r, home = reader(), HomeState("h-1")
    water(home, r, at(0, 10.0), 1.0)
    for minute in range(1, 6):  # a tap at 2 litres a minute, reported every minute
        assert water(home, r, at(0, 10.0) + 60 * minute, 1.0 + 0.002 * minute) == [SignKind.WATER]
    assert home.runs[SensorKind.WATER] == (at(0, 10.0), at(0, 10.0) + 300)


def test_two_uses_minutes_apart_are_two_runs_not_one() -> None:
    r, home = reader(), HomeState("h-1")
    water(home, r, at(0, 10.0), 1.0)
    water(home, r, at(0, 10.0) + 60, 1.006)  # a flush
    water(home, r, at(0, 10.0) + 600, 1.012)  # another use nine minutes later
    since, until = home.runs[SensorKind.WATER]
    assert (since, until) == (at(0, 10.0) + 540, at(0, 10.0) + 600)


def door(home: HomeState, r: SignReader, ts: float, value: float) -> list[SignKind]:
    return [s.kind for s in r.read(home, StoredReading("h-1", "hub", "door", ts, value))]


def test_a_hubs_first_door_opening_is_a_sign_of_life_but_a_first_closed_report_is_not() -> None:
    r = reader()
    assert door(HomeState("h-1"), r, at(0, 8.0), 1.0) == [SignKind.DOOR]
    home = HomeState("h-1")
    assert door(home, r, at(0, 8.0), 0.0) == []  # may be the hub saying how the door rests
    assert door(home, r, at(0, 8.5), 0.0) == []  # a heartbeat
    assert door(home, r, at(0, 9.0), 1.0) == [SignKind.DOOR]
    assert door(home, r, at(0, 9.1), 0.0) == [SignKind.DOOR]


def event(home: HomeState, r: SignReader, sensor: str, ts: float, value: float) -> list[SignKind]:
    return [s.kind for s in r.read(home, StoredReading("h-1", "hub", sensor, ts, value))]


def test_movement_and_every_button_press_are_signs_of_life_but_motion_clearing_is_not() -> None:
    r, home = reader(), HomeState("h-1")
    assert event(home, r, "motion", at(0, 8.0), 1.0) == [SignKind.MOTION]
    assert event(home, r, "motion", at(0, 8.05), 0.0) == []
    assert event(home, r, "motion.hall", at(0, 9.0), 1.0) == [SignKind.MOTION]
    assert event(home, r, "button", at(0, 10.0), 2.0) == [SignKind.ACTIVITY]  # "I am fine"
    assert event(home, r, "button", at(0, 11.0), 1.0) == [SignKind.ACTIVITY]  # help: alive, and asking
    assert home.last_sign_at == at(0, 11.0)


def test_a_door_contact_chattering_is_a_fault_whose_changes_stop_counting_until_it_calms() -> None:
    """Found by a tester of real hubs: a contact flipping every 20 s (a loose magnet) was taken
    for the elder three times a minute, and her collapse was never alerted on."""
    r, home = reader(), HomeState("h-1")
    start = at(0, 8.0)
    counted = [bool(door(home, r, start + 20 * i, float((i + 1) % 2))) for i in range(360)]  # two hours
    assert all(counted[:CHATTER_CHANGES]) and not any(counted[CHATTER_CHANGES:])
    assert home.last_sign_at == start + 20 * (CHATTER_CHANGES - 1)  # her silence runs from there
    assert len(home.door_changes["door"]) <= CHATTER_CHANGES + 1  # memory stays bounded
    # Calm for the window, the door is hers again; a person's day of doors never reaches it.
    assert door(home, r, start + 7200 + CHATTER_WINDOW_S, 1.0) == [SignKind.DOOR]
    busy = HomeState("h-2")
    assert all(door(busy, r, at(0, 9.0) + 60 * i, float((i + 1) % 2)) for i in range(CHATTER_CHANGES))


def test_a_register_taken_on_a_new_series_is_a_new_baseline_not_water_drawn() -> None:
    """Found by an attacker: after a read failing as 0, the true value came back as a new series,
    and the jump of 104.5 m³ in five minutes was read as water drawn, a sign of life."""
    r, home = reader(), HomeState("h-1")
    def water(ts: float, value: float) -> list[SignKind]:
        return [s.kind for s in r.read(home, StoredReading("h-1", "hub", "water", ts, value))]
    assert water(at(0, 8.0), 0.0) == []
    assert water(at(0, 8.0) + 300, 104.5) == [] and SensorKind.WATER not in home.runs
    assert water(at(0, 8.0) + 600, 104.52) == [SignKind.WATER]  # a use after it is one


def kwh(home: HomeState, r: SignReader, ts: float, total: float) -> list[SignKind]:
    return [s.kind for s in r.read(home, StoredReading(home.household_id, "hub", "electricity", ts, total))]


def test_a_sensor_that_never_rests_is_a_machine_whose_signs_stop_counting_until_it_rests() -> None:
    """Found by a tester: a heater on a meter that reports only kWh (every minute above the
    standby level is a sign) and a motion sensor stuck reporting movement each gave a sign a
    minute, and the elder's silence was never alerted on, not even at the safety limit."""
    r, home = reader(), HomeState("h-1")
    start, total = at(0, 8.0), 1000.0
    counted = []
    for minute in range(int((RESTLESS_S + 6 * 3600) / 60)):  # 1.5 kW without a break, 26 hours
        total += 1.5 / 60
        counted.append(bool(kwh(home, r, start + 60 * minute, round(total, 3))))
    first_dropped = counted.index(False, 1)
    assert all(counted[1:first_dropped]) and not any(counted[first_dropped:])
    assert first_dropped * 60 == pytest.approx(RESTLESS_S, abs=120)
    assert home.last_sign_at == pytest.approx(start + RESTLESS_S, abs=120)  # her silence runs from there
    # Other sensors still count; the heater, rested for an hour, counts again.
    assert event(home, r, "motion", start + RESTLESS_S + 3 * 3600, 1.0) == [SignKind.MOTION]
    rested = start + 26 * 3600 + REST_S + 60
    assert kwh(home, r, rested, round(total, 3)) == []  # nothing used: the meter stood still
    assert kwh(home, r, rested + 60, round(total + 0.025, 3)) == [SignKind.ELECTRICITY]
    # A person's busiest day (signs every few minutes from 06:00 to 23:30, then sleep) never reaches it.
    busy = HomeState("h-2")
    for day in range(3):
        assert all(event(busy, r, "motion", at(day, 6.0) + 300 * i, 1.0) for i in range(210))


def test_a_motion_sensor_stuck_reporting_movement_is_not_the_elder(caplog: pytest.LogCaptureFixture) -> None:
    r, home = reader(), HomeState("h-1")
    start = at(0, 22.0)
    seen = [bool(event(home, r, "motion", start + 90 * i, 1.0)) for i in range(int(30 * 3600 / 90))]
    assert sum(seen) == int(RESTLESS_S / 90) + 1
    warnings = [rec for rec in caplog.records if "signs.sensor_restless" in rec.getMessage()]
    assert len(warnings) == 1 and "sensor=motion" in warnings[0].getMessage()  # said once, not each minute


class KwhMeter:
    """A meter reporting only its kWh register, to the Wh, every minute it moves: a base load
    and whatever else draws at that minute."""

    def __init__(self, home: HomeState, r: SignReader, base_w: float = 60.0) -> None:
        self.home, self.r, self.base_w, self.wh, self.at = home, r, base_w, 1_000_000.0, None

    def minute(self, ts: float, extra_w: float = 0.0) -> list[SignKind]:
        self.wh += (self.base_w + extra_w) / 60.0
        return kwh(self.home, self.r, ts, round(self.wh) / 1000.0)


def heater_w(ts: float, start: float) -> float:
    """A 2 kW storage water heater reheating itself for ten minutes every two hours."""
    return 2000.0 if (ts - start) % 7200 < 600 else 0.0


def test_a_water_heater_reheating_day_and_night_on_a_kwh_only_meter_is_learned_as_a_machine() -> None:
    """Found by a tester: its reheats, every two hours, were each a sign of life; a collapsed
    elder's alert was cleared four times ("life resumed at 10:00 (power)")."""
    r, home = reader(), HomeState("h-1")
    meter, start = KwhMeter(home, r), at(0, 0.0)
    for minute in range(3 * 24 * 60):  # three days and nights of the heater alone
        meter.minute(start + 60 * minute, heater_w(start + 60 * minute, start))
    day = start + 3 * 86400
    reheats = [meter.minute(day + 8 * 3600 + 60 * m, heater_w(day + 8 * 3600 + 60 * m, start)) for m in range(240)]
    assert not any(reheats), "the heater's reheats by day are not her"
    assert meter.minute(day + 12 * 3600, 2000.0 + 2200.0) == [SignKind.ELECTRICITY]  # her kettle, during a reheat


def test_a_kwh_only_meter_without_a_night_machine_keeps_reading_uses_above_standby() -> None:
    r, home = reader(), HomeState("h-1")
    meter, start = KwhMeter(home, r), at(0, 0.0)
    tv = []
    for day in range(5):  # nothing above standby at night; the TV (150 W) in the evenings
        for minute in range(24 * 60):
            ts = start + day * 86400 + 60 * minute
            tv.append(bool(meter.minute(ts, 150.0 if 19 * 60 <= minute < 21 * 60 else 0.0)))
    assert all(tv[4 * 1440 + 19 * 60:4 * 1440 + 21 * 60]) and not any(tv[4 * 1440:4 * 1440 + 19 * 60])
    # A meter that reports only when it moves (a minute's report while something draws 1.2 kW),
    # and once at 03:00 for a kettle: its days still count.
    rare, home2 = reader(), HomeState("h-2")
    total, kinds = 500.0, []
    for day in range(6):
        for hour in (3.0, 8.0, 12.0) if day == 2 else (8.0, 12.0):
            for minute in range(5):
                total += 0.02
                kinds = [s.kind for s in rare.read(home2, StoredReading(
                    "h-2", "hub", "electricity", at(day, hour) + 60 * minute, round(total, 3)))]
    assert kinds == [SignKind.ELECTRICITY], "one night's use is no machine"
    assert home2.night_draw["electricity"].nights >= 4


def test_an_elders_own_kettle_at_night_is_no_machine_and_her_days_still_count() -> None:
    """Found by a tester: her kettle at 02:30 most nights (insomnia) set the bar for a person at
    2,140 W, and from the third day nothing she did on that meter was a sign."""
    r, home = reader(), HomeState("h-1")
    meter, start, day_signs = KwhMeter(home, r, base_w=40.0), at(0, 0.0), []
    for minute in range(6 * 24 * 60):
        ts, of_day = start + 60 * minute, minute % 1440
        kettle = 2000.0 if 150 <= of_day < 153 or 420 <= of_day < 423 else 0.0  # 02:30 and 07:00
        rice = 700.0 if 690 <= of_day < 720 else 0.0
        signs = meter.minute(ts, kettle + rice)
        if not 60 <= of_day < 300 and signs:
            day_signs.append(minute // 1440)
    assert sorted(set(day_signs)) == [0, 1, 2, 3, 4, 5], "every day's uses still count"
