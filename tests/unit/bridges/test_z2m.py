"""Zigbee2MQTT device messages → readings.

Payload shapes follow the Zigbee2MQTT documentation: device messages are JSON objects of the device's
exposed values (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html), availability
is published to `FRIENDLY_NAME/availability`
(https://www.zigbee2mqtt.io/guide/configuration/device-availability.html).
"""

from datetime import UTC

from gateway.bridges import z2m
from gateway.bridges.devices import EVERY_ACTION, DeviceMap, SignKind, Translation, device_map
from shouwang.domain.model import FINE_PRESS, HELP_PRESS, SensorKind

NOW = 1_732_269_600.0
DEVICES = device_map([
    DeviceMap("entrance", SignKind.DOOR),
    DeviceMap("balcony/door", SignKind.DOOR, "door.balcony"),
    DeviceMap("hall pir", SignKind.MOTION),
    DeviceMap("help", SignKind.BUTTON),
    DeviceMap("fine", SignKind.BUTTON, "button.fine", frozenset({EVERY_ACTION})),
    DeviceMap("both", SignKind.BUTTON, "button.both", frozenset({"single"})),
    DeviceMap("kettle plug", SignKind.ELECTRICITY),
    DeviceMap("tap", SignKind.WATER),
])


def run(tail: str, payload: bytes) -> Translation:
    return z2m.translate("h-1", tail, payload, DEVICES, now=NOW, tz=UTC)


def test_a_door_contact_that_opens_becomes_door_1_and_closing_door_0() -> None:
    # A door/window sensor exposes `contact`: "Indicates if the contact is closed (= true) or open (= false)",
    # https://www.zigbee2mqtt.io/devices/ZS110050078.html
    opened = run("entrance", b'{"battery":100,"contact":false,"linkquality":120,"voltage":3005}')
    closed = run("entrance", b'{"battery":100,"contact":true,"linkquality":117,"voltage":3005}')
    assert [(r.sensor, r.kind, r.value, r.ts) for r in opened.readings] == [("door", SignKind.DOOR, 1.0, NOW)]
    assert [r.value for r in closed.readings] == [0.0]
    assert opened.rejections == closed.rejections == []
    reading = opened.readings[0].to_reading()
    assert reading is not None and reading.kind is SensorKind.DOOR and reading.value == 1.0


def test_a_friendly_name_with_a_slash_and_a_named_sensor() -> None:
    # "You can use the / separator in friendly_name":
    # https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
    result = run("balcony/door", b'{"contact":false}')
    assert [(r.sensor, r.value) for r in result.readings] == [("door.balcony", 1.0)]


def test_last_seen_is_used_as_the_time_when_the_bridge_adds_it() -> None:
    # `last_seen` as ISO_8601 or epoch (ms): https://www.zigbee2mqtt.io/guide/configuration/device-availability.html
    iso = run("entrance", b'{"contact":true,"last_seen":"2024-11-22T10:00:00+08:00"}')
    epoch = run("entrance", b'{"contact":true,"last_seen":1732240800000}')
    assert iso.readings[0].ts == epoch.readings[0].ts == 1_732_240_800.0


def test_occupancy_becomes_motion() -> None:
    # Human body movement sensor (RTCGQ01LM) publishes {"occupancy": true}:
    # https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
    result = run("hall pir", b'{"occupancy":true,"battery":91,"illuminance":14,"linkquality":96}')
    assert [(r.kind, r.value) for r in result.readings] == [(SignKind.MOTION, 1.0)]
    reading = result.readings[0].to_reading()
    assert reading is not None and (reading.kind, reading.value) == (SensorKind.MOTION, 1.0)


def test_a_button_action_is_a_press_and_its_empty_action_or_battery_report_is_nothing() -> None:
    # Wireless switch (WXKG01LM) publishes {"action": "single"}:
    # https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
    pressed = run("help", b'{"action":"single","battery":100,"linkquality":84}')
    assert [(r.kind, r.value, r.action) for r in pressed.readings] == [(SignKind.BUTTON, 1.0, "single")]
    for quiet in (b'{"action":"","battery":100}', b'{"battery":97,"voltage":3025,"linkquality":60}'):
        result = run("help", quiet)
        assert (result.readings, result.rejections) == ([], [])


def test_a_press_asks_for_help_unless_the_map_says_its_action_means_i_am_fine() -> None:
    # Aqara wireless mini switch (WXKG11LM) `action`: single, double, triple, quadruple, hold, release:
    # https://www.zigbee2mqtt.io/devices/WXKG11LM.html
    assert [r.value for r in run("help", b'{"action":"double"}').readings] == [HELP_PRESS]
    assert [r.value for r in run("fine", b'{"action":"hold"}').readings] == [FINE_PRESS]
    assert [r.value for r in run("both", b'{"action":"single"}').readings] == [FINE_PRESS]
    assert [r.value for r in run("both", b'{"action":"hold"}').readings] == [HELP_PRESS]


def test_a_metering_plug_gives_its_energy_register_and_power() -> None:
    # Metering plugs expose `power` (W) and `energy` (kWh), e.g. https://www.zigbee2mqtt.io/devices/1822647A.html
    result = run("kettle plug", b'{"state":"ON","power":1850.4,"energy":12.34,"voltage":229,"current":8.1}')
    assert [(r.kind, r.value, r.power_w) for r in result.readings] == [(SignKind.ELECTRICITY, 12.34, 1850.4)]


def test_availability_is_presence_in_both_formats_and_not_a_reading() -> None:
    # Retained `FRIENDLY_NAME/availability`: https://www.zigbee2mqtt.io/guide/configuration/device-availability.html
    json_form = run("entrance/availability", b'{"state":"offline"}')
    legacy = run("hall pir/availability", b"online")
    assert json_form.readings == legacy.readings == []
    assert [(p.device, p.online) for p in json_form.presence + legacy.presence] == [
        ("entrance", False), ("hall pir", True)]
    bridge = run("bridge/state", b'{"state":"online"}')
    assert [(p.device, p.online) for p in bridge.presence] == [("bridge", True)]


def test_the_bridges_own_topics_and_commands_carry_no_sign() -> None:
    for tail in ("bridge/devices", "bridge/logging", "entrance/set", "entrance/get"):
        result = run(tail, b'{"anything":1}')
        assert (result.readings, result.rejections, result.presence) == ([], [], [])


def test_an_unmapped_device_is_rejected_by_name() -> None:
    result = run("0x00158d0001a2b3c4", b'{"contact":false}')
    assert result.readings == []
    assert [r.category for r in result.rejections] == ["unmapped"]
    assert "0x00158d0001a2b3c4" in result.rejections[0].reason
    assert result.rejections[0].hub_id == "h-1"


def test_malformed_messages_are_rejected_naming_the_device_and_its_field() -> None:
    missing = run("entrance", b'{"battery":100}')
    wrong = run("hall pir", b'{"occupancy":"yes"}')
    garbage = run("entrance", b"\xff{not json")
    plain = run("entrance", b'"open"')
    bad_time = run("entrance", b'{"contact":true,"last_seen":"yesterday"}')
    assert "'entrance'" in missing.rejections[0].reason and "'contact'" in missing.rejections[0].reason
    assert "'hall pir'" in wrong.rejections[0].reason and "'occupancy'" in wrong.rejections[0].reason
    assert garbage.rejections[0].category == "malformed" and "'entrance'" in garbage.rejections[0].reason
    assert plain.rejections[0].category == "malformed"
    assert bad_time.rejections[0].category == "bad_timestamp" and "'last_seen'" in bad_time.rejections[0].reason
    bad_availability = run("entrance/availability", b"maybe")
    assert bad_availability.presence == [] and "'entrance'" in bad_availability.rejections[0].reason


def test_a_meter_mapped_to_a_zigbee_device_is_refused_with_the_way_to_map_it() -> None:
    result = run("tap", b'{"water_leak":false}')
    assert result.rejections[0].category == "wrong_kind" and "wmbusmeters" in result.rejections[0].reason
