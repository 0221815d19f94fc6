from gateway.validate import Limits, Validator
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
