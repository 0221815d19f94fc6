from datetime import UTC

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.bridges import TRANSLATORS, shelly, tasmota, wmbus, z2m
from gateway.bridges.devices import BridgeReading, DeviceMap, SignKind, Translation, Translator, device_map, flag_resets

ALL = tuple(TRANSLATORS.values())
DEVICES = device_map([DeviceMap("entrance", SignKind.DOOR), DeviceMap("plug", SignKind.ELECTRICITY),
                      DeviceMap("33225544", SignKind.WATER), DeviceMap("help", SignKind.BUTTON)])


def test_a_device_map_entry_names_its_sensor_after_its_kind_unless_told() -> None:
    assert DeviceMap("entrance", SignKind.DOOR).sensor == "door"
    assert DeviceMap("balcony", SignKind.DOOR, "door.balcony").sensor == "door.balcony"
    with pytest.raises(ValueError, match="must be 'door'"):
        DeviceMap("balcony", SignKind.DOOR, "water.balcony")
    with pytest.raises(ValueError, match="1 to 128"):
        DeviceMap("", SignKind.MOTION)


def test_a_register_that_falls_is_flagged_as_a_reset_not_a_backwards_meter() -> None:
    plug = BridgeReading("h-1", "electricity", SignKind.ELECTRICITY, 2000.0, 0.004, 3.0)
    grown = BridgeReading("h-1", "electricity", SignKind.ELECTRICITY, 2000.0, 12.5)
    rounded = BridgeReading("h-1", "electricity", SignKind.ELECTRICITY, 2000.0, 12.3449999)
    door = BridgeReading("h-1", "door", SignKind.DOOR, 2000.0, 0.0)
    last = {("h-1", "electricity"): 12.345, ("h-1", "door"): 1.0}
    marked = flag_resets([plug, grown, rounded, door], last)
    assert [r.reset for r in marked] == [True, False, False, False]
    reading = marked[0].to_reading()
    assert reading is not None and reading.reset and reading.power_w == 3.0
    assert [r.reset for r in flag_resets([plug], {})] == [False]


def _settled(result: Translation) -> None:
    assert isinstance(result, Translation)
    for reading in result.readings:
        assert isinstance(reading, BridgeReading) and reading.value >= 0


@settings(max_examples=300, deadline=None)
@given(tail=st.text(max_size=60), payload=st.binary(max_size=400), which=st.sampled_from(ALL))
def test_any_bytes_on_any_tail_give_readings_rejections_or_nothing_never_an_exception(
        tail: str, payload: bytes, which: Translator) -> None:
    _settled(which("h-1", tail, payload, DEVICES, now=1000.0, tz=UTC))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["contact", "action", "last_seen", "Time", "ENERGY", "Total", "Power", "method",
                         "params", "ts", "switch:0", "aenergy", "total", "apower", "id", "media",
                         "total_m3", "timestamp", "energy", "power"]), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(document=JSONISH, which=st.sampled_from([
    (z2m.translate, "entrance"), (z2m.translate, "help"), (z2m.translate, "plug"),
    (tasmota.translate, "tele/plug/SENSOR"), (shelly.translate, "plug/events/rpc"), (wmbus.translate, "33225544")]))
def test_any_json_for_a_mapped_device_gives_a_reading_a_rejection_or_nothing(
        document: object, which: tuple[Translator, str]) -> None:
    import json
    translate, tail = which
    result = translate("h-1", tail, json.dumps(document).encode(), DEVICES, now=1000.0, tz=UTC)
    _settled(result)
    assert not [r for r in result.rejections if r.category == "internal"], result.rejections
    if tail == "entrance":  # a door always answers: its state, or why not
        assert len(result.readings) + len(result.rejections) == 1


def test_every_bridge_the_map_may_name_has_a_translator() -> None:
    from gateway.bridges import TRANSLATORS
    from shouwang.domain.devices import BRIDGES

    assert tuple(TRANSLATORS) == BRIDGES


def test_a_map_entry_refuses_an_unknown_bridge_and_fine_actions_on_anything_but_a_button() -> None:
    import pytest

    from shouwang.domain.devices import DeviceMap
    from shouwang.domain.model import SensorKind

    with pytest.raises(ValueError, match="bridge 'zwave'"):
        DeviceMap("x", SensorKind.DOOR, bridge="zwave")
    with pytest.raises(ValueError, match="only a button"):
        DeviceMap("x", SensorKind.DOOR, fine_actions=frozenset({"single"}))
