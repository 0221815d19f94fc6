from shouwang.contract.validate import Limits, Validator
from shouwang.domain.model import Reading, SensorKind

NOW = 1_700_000_000.0
HUBS = {"h-1": "hh-1"}


def water(ts: float, value: float, *, reset: bool = False, hub: str = "h-1") -> Reading:
    return Reading(hub, "water", SensorKind.WATER, ts, value, reset=reset)


def validator() -> Validator:
    return Validator(Limits(max_age_s=31 * 86400, max_future_s=300))


def test_good_readings_are_kept_with_their_household() -> None:
    verdict = validator().judge([water(NOW - 60, 1.0), water(NOW, 1.1)], hubs=HUBS, now=NOW)
    assert [r.household_id for r in verdict.accepted] == ["hh-1", "hh-1"]
    assert verdict.rejected == []


def test_an_unregistered_hub_is_refused_with_the_command_to_register_it() -> None:
    verdict = validator().judge([water(NOW, 1.0, hub="h-9")], hubs=HUBS, now=NOW)
    assert verdict.rejected[0].category == "unknown_hub"
    assert "shouwang hubs add h-9" in verdict.rejected[0].reason


def test_absurd_timestamps_are_refused_both_ways() -> None:
    verdict = validator().judge([water(NOW - 40 * 86400, 1.0), water(NOW + 3600, 1.0)],
                                hubs=HUBS, now=NOW)
    assert [r.category for r in verdict.rejected] == ["bad_timestamp", "bad_timestamp"]
    assert "days old" in verdict.rejected[0].reason
    assert "future" in verdict.rejected[1].reason


def test_a_register_running_backwards_is_refused_unless_reset() -> None:
    v = validator()
    v.judge([water(NOW - 120, 5.0)], hubs=HUBS, now=NOW)
    backwards = v.judge([water(NOW - 60, 4.0)], hubs=HUBS, now=NOW)
    assert backwards.rejected[0].category == "register_backwards"
    replaced = v.judge([water(NOW, 0.0, reset=True)], hubs=HUBS, now=NOW)
    assert replaced.accepted and not replaced.rejected


def test_a_late_reading_larger_than_a_newer_one_is_refused() -> None:
    v = validator()
    v.judge([water(NOW, 5.0)], hubs=HUBS, now=NOW)
    late = v.judge([water(NOW - 600, 4.0), water(NOW - 300, 6.0)], hubs=HUBS, now=NOW)
    assert [r.value for r in late.accepted] == [4.0]
    assert late.rejected[0].category == "register_backwards"


def test_a_repeated_reading_is_counted_as_a_duplicate_not_an_error() -> None:
    v = validator()
    v.judge([water(NOW, 5.0)], hubs=HUBS, now=NOW)
    again = v.judge([water(NOW, 5.0)], hubs=HUBS, now=NOW)
    assert (again.accepted, again.rejected, again.duplicates) == ([], [], 1)


def test_a_door_may_close_after_opening() -> None:
    door = [Reading("h-1", "door", SensorKind.DOOR, NOW - 10, 1.0),
            Reading("h-1", "door", SensorKind.DOOR, NOW, 0.0)]
    assert len(validator().judge(door, hubs=HUBS, now=NOW).accepted) == 2


def power(ts: float, kwh: float, watts: float | None = None) -> Reading:
    return Reading("h-1", "electricity", SensorKind.ELECTRICITY, ts, kwh, power_w=watts)


def test_one_impossible_reading_is_refused_and_does_not_lock_the_meter() -> None:
    v = validator()
    v.judge([water(NOW - 900, 10.0)], hubs=HUBS, now=NOW)
    outlier = v.judge([water(NOW - 600, 1e308)], hubs=HUBS, now=NOW)
    assert [r.category for r in outlier.rejected] == ["implausible"]
    later = v.judge([water(NOW - 300, 10.01), water(NOW, 10.02)], hubs=HUBS, now=NOW)
    assert [r.value for r in later.accepted] == [10.01, 10.02] and later.rejected == []


def test_a_register_rising_faster_than_any_household_meter_is_implausible() -> None:
    v = validator()
    v.judge([water(NOW - 3600, 10.0)], hubs=HUBS, now=NOW)
    verdict = v.judge([water(NOW - 1800, 30.0), water(NOW, 14.0)], hubs=HUBS, now=NOW)
    assert [r.category for r in verdict.rejected] == ["implausible"]
    assert "20 in 30.0 min" in verdict.rejected[0].reason and "10" in verdict.rejected[0].reason
    assert [r.value for r in verdict.accepted] == [14.0]  # 4 m³ in an hour: a lot, but possible


def test_a_register_step_within_a_second_is_judged_over_a_minute() -> None:
    v = validator()
    v.judge([water(NOW - 1, 10.0)], hubs=HUBS, now=NOW)
    assert v.judge([water(NOW, 10.1)], hubs=HUBS, now=NOW).accepted


def test_limits_per_kind_come_from_settings() -> None:
    from shouwang.settings import GatewaySettings

    v = Validator(Limits.from_settings(GatewaySettings(max_electricity_kw=10.0)))
    v.judge([power(NOW - 3600, 100.0)], hubs=HUBS, now=NOW)
    verdict = v.judge([power(NOW - 60, 111.0), power(NOW, 100.5, watts=12_000)], hubs=HUBS, now=NOW)
    assert [r.category for r in verdict.rejected] == ["implausible", "implausible"]
    assert "power 12000 W" in verdict.rejected[1].reason


def test_a_first_reading_beyond_any_register_is_implausible() -> None:
    verdict = validator().judge([water(NOW, 2e7)], hubs=HUBS, now=NOW)
    assert [r.category for r in verdict.rejected] == ["implausible"]


def test_another_value_for_a_time_already_seen_is_a_conflict() -> None:
    v = validator()
    v.judge([water(NOW - 120, 5.0), water(NOW - 60, 5.1), water(NOW, 5.2)], hubs=HUBS, now=NOW)
    verdict = v.judge([water(NOW - 60, 5.15), water(NOW - 120, 5.0)], hubs=HUBS, now=NOW)
    assert [r.category for r in verdict.rejected] == ["conflict"]
    assert "was already 5.1" in verdict.rejected[0].reason
    assert verdict.duplicates == 1 and verdict.accepted == []


def test_two_values_for_one_time_in_one_batch_keep_the_first_and_refuse_the_second() -> None:
    verdict = validator().judge([water(NOW, 5.0), water(NOW, 6.0)], hubs=HUBS, now=NOW)
    assert [r.value for r in verdict.accepted] == [5.0]
    assert [r.category for r in verdict.rejected] == ["conflict"]


def test_a_resent_reading_with_the_same_seq_is_a_duplicate_even_if_restamped() -> None:
    v = validator()
    v.judge([Reading("h-1", "water", SensorKind.WATER, NOW - 60, 5.0, seq=41)], hubs=HUBS, now=NOW)
    again = v.judge([Reading("h-1", "water", SensorKind.WATER, NOW - 59, 5.0, seq=41)], hubs=HUBS, now=NOW)
    assert (again.accepted, again.rejected, again.duplicates) == ([], [], 1)
    following = v.judge([Reading("h-1", "water", SensorKind.WATER, NOW, 5.0, seq=42)], hubs=HUBS, now=NOW)
    assert len(following.accepted) == 1


def test_a_hub_inventing_sensor_names_is_refused_beyond_what_any_home_has() -> None:
    from shouwang.contract.validate import MAX_SENSORS_PER_HUB

    doors = [Reading("h-1", f"door.d{i}", SensorKind.DOOR, NOW, 1.0) for i in range(MAX_SENSORS_PER_HUB + 3)]
    verdict = validator().judge(doors, hubs=HUBS, now=NOW)
    assert len(verdict.accepted) == MAX_SENSORS_PER_HUB
    assert [r.category for r in verdict.rejected] == ["bad_topic"] * 3


def test_after_a_start_a_batchs_new_registers_are_recalled_in_one_request_and_once() -> None:
    """A city's gateway restarting meets every meter again at once: one request to the store a
    batch, not one a meter (and never again for a meter recalled)."""
    from shouwang.domain.model import StoredReading

    asked: list[dict[tuple[str, str, str], float]] = []

    def recall(first: dict[tuple[str, str, str], float], since: float) -> dict[tuple[str, str, str],
                                                                              list[StoredReading]]:
        asked.append(dict(first))
        return {("hh-1", "h-1", "water"): [StoredReading("hh-1", "h-1", "water", NOW - 60, 10.0)]}

    hubs = {"h-1": "hh-1", "h-2": "hh-2"}
    v = Validator(Limits(max_age_s=31 * 86400, max_future_s=300), recall=recall)
    door = Reading("h-1", "door", SensorKind.DOOR, NOW, 1.0)
    verdict = v.judge([water(NOW, 5000.0), water(NOW + 1, 5000.0, hub="h-2"), door,
                       Reading("h-2", "gas", SensorKind.GAS, NOW, 3.0)], hubs=hubs, now=NOW)
    assert asked == [{("hh-1", "h-1", "water"): NOW, ("hh-2", "h-2", "water"): NOW + 1,
                      ("hh-2", "h-2", "gas"): NOW}]  # registers only: a door needs no past
    assert [r.category for r in verdict.rejected] == ["implausible"]  # 5000 m3 a minute after 10
    v.judge([water(NOW + 60, 10.01), water(NOW + 61, 5000.01, hub="h-2")], hubs=hubs, now=NOW + 60)
    assert len(asked) == 1


def test_a_hub_inventing_register_names_asks_for_no_more_than_it_may_keep() -> None:
    asked: list[int] = []

    def recall(first: dict[tuple[str, str, str], float], since: float) -> dict[tuple[str, str, str], list[object]]:
        asked.append(len(first))
        return {}

    v = Validator(Limits(max_age_s=31 * 86400, max_future_s=300), recall=recall)  # type: ignore[arg-type]
    v.judge([Reading("h-1", f"water_{k}", SensorKind.WATER, NOW, 1.0) for k in range(500)], hubs=HUBS, now=NOW)
    assert asked == [32]


def feed(v: Validator, *readings: Reading) -> list[bool]:
    """Each reading judged alone, in turn: whether it was accepted."""
    return [bool(v.judge([r], hubs=HUBS, now=NOW).accepted) for r in readings]


def test_a_register_that_starts_again_from_about_nothing_is_taken_once_a_reading_confirms_it() -> None:
    """Found by a tester of real hubs: a hub rebooted counts its pulses from 0, a meter rolls
    over (9999.999 to 0.004) or is replaced, without "reset": true; every reading after it was
    refused as running back, for ever, and the home looked silent, then its hub offline. The
    first reading near nothing waits for a second (a failed read given as 0 is not a restart)."""
    for before, after in ((104.48, 0.12), (9999.999, 0.004), (57.3, 0.0)):
        v = validator()
        assert feed(v, water(NOW - 3600, before - 0.01), water(NOW - 2700, before),
                    water(NOW - 1800, after), water(NOW - 900, after + 0.01), water(NOW, after + 0.02)) == [
            True, True, False, True, True]


def test_a_read_failing_as_zero_now_and_then_costs_only_itself() -> None:
    """Found by an attacker: taken at once as a restart, each 0 made the true value after it a
    new series, and the step between them was read as water drawn."""
    v = validator()
    got = feed(v, *(water(NOW - 3600 + 300 * i, 0.0 if i % 4 == 3 else 104.5) for i in range(12)))
    assert got == [True, True, True, False] * 3


def test_a_register_jumping_to_a_new_series_is_taken_once_three_newer_readings_agree() -> None:
    v = validator()
    # A meter replaced by one further on: refused until three newer readings agree, then kept.
    assert feed(v, water(NOW - 7200, 104.48), *(water(NOW - 3600 + 600 * i, 57.3 + i / 100) for i in range(5))) == [
        True, False, False, True, True, True]
    # A plausible outlier above had made the baseline: the honest readings after it win it back.
    v = validator()
    assert feed(v, water(NOW - 7200, 10.0), water(NOW - 5400, 14.0),
                *(water(NOW - 3600 + 600 * i, 10.1 + i / 100) for i in range(4))) == [
        True, True, False, False, True, True]


def test_readings_that_do_not_agree_never_make_a_new_series() -> None:
    """One outlier, jitter back, readings that do not rise together, or late ones cost only
    themselves: nothing a faulty or forged hub sends that way moves the baseline."""
    v = validator()
    got = feed(v, water(NOW - 7200, 50.0),
               water(NOW - 6600, 40.0), water(NOW - 6000, 30.0), water(NOW - 5400, 45.0),  # falling: apart
               water(NOW - 4800, 49.9999), water(NOW - 4200, 50.01),  # jitter back, then on
               water(NOW - 3600, 1e8), water(NOW - 3000, 1e8 + 1), water(NOW - 2400, 1e8 + 2))  # past any meter
    assert got == [True, False, False, False, False, True, False, False, False]
    late = validator()
    assert feed(late, water(NOW, 50.0), *(water(NOW - 3000 + 600 * i, 60.0 + i) for i in range(4))) == [
        True, False, False, False, False]
