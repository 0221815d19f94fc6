"""wmbusmeters JSON lines → water and gas register readings.

Shape per the wmbusmeters README (https://github.com/wmbusmeters/wmbusmeters#readme): a JSON object
with `media`, `meter`, `name`, `id`, `total_m3` and a UTC `timestamp`.
"""

from datetime import UTC

from gateway.bridges import wmbus
from gateway.bridges.devices import DeviceMap, SignKind, Translation, device_map

NOW = 1_732_269_600.0
DEVICES = device_map([
    DeviceMap("33225544", SignKind.WATER),
    DeviceMap("gasmeter", SignKind.GAS),
    DeviceMap("front", SignKind.DOOR),
])
# The README's example line for an iperl water meter
WATER = (b'{"media":"water","meter":"iperl","name":"MyTapWater","id":"33225544",'
         b'"max_flow_m3h":0,"total_m3":123.529,"timestamp":"2024-03-03T18:37:00Z"}')


def run(tail: str, payload: bytes) -> Translation:
    return wmbus.translate("h-1", tail, payload, DEVICES, now=NOW, tz=UTC)


def test_a_water_meter_line_becomes_the_water_register_at_its_utc_time() -> None:
    result = run("MyTapWater", WATER)
    assert result.rejections == []
    assert [(r.sensor, r.kind, r.value, r.ts, r.device) for r in result.readings] == [
        ("water", SignKind.WATER, 123.529, 1_709_491_020.0, "33225544")]
    reading = result.readings[0].to_reading()
    assert reading is not None and reading.value == 123.529


def test_a_gas_meter_is_found_by_the_topic_when_the_line_has_no_id_it_is_mapped_by() -> None:
    line = (b'{"media":"gas","meter":"x","name":"gasmeter","id":"77665544","total_m3":45.1,'
            b'"timestamp":"2024-03-03T18:37:00Z"}')
    assert [(r.kind, r.value) for r in run("gasmeter", line).readings] == [(SignKind.GAS, 45.1)]


def test_a_media_that_contradicts_the_map_is_refused() -> None:
    result = run("33225544", WATER.replace(b'"media":"water"', b'"media":"gas"'))
    assert result.readings == [] and result.rejections[0].category == "wrong_kind"
    assert "'media'" in result.rejections[0].reason and "'33225544'" in result.rejections[0].reason
    warm = run("33225544", WATER.replace(b'"media":"water"', b'"media":"warm water"'))
    assert len(warm.readings) == 1


def test_unmapped_and_malformed_lines_are_rejected_naming_the_meter_and_field() -> None:
    unmapped = run("neighbour", WATER.replace(b"33225544", b"11112222"))
    assert unmapped.rejections[0].category == "unmapped" and "11112222" in unmapped.rejections[0].reason
    no_total = run("x", WATER.replace(b'"total_m3":123.529,', b""))
    local_time = run("x", WATER.replace(b"18:37:00Z", b"18:37:00"))
    as_text = run("x", b"MyTapWater 33225544 123.529 m3 0 m3/h 2024-03-03 19:36:22")
    door = run("front", b'{"media":"water","total_m3":1.0,"timestamp":"2024-03-03T18:37:00Z"}')
    assert "'total_m3'" in no_total.rejections[0].reason and "'33225544'" in no_total.rejections[0].reason
    assert "'timestamp'" in local_time.rejections[0].reason
    assert as_text.rejections[0].category == "malformed"
    assert door.rejections[0].category == "wrong_kind"
