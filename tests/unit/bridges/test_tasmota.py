"""Tasmota telemetry → electricity readings.

Shapes per the Tasmota documentation: telemetry on `tele/%topic%/SENSOR` and the Last Will on
`tele/%topic%/LWT` (https://tasmota.github.io/docs/MQTT/), the sensor object with `Time` in the device's
local time and, on metering plugs, `ENERGY` with `Total` (kWh), `Yesterday`, `Today` and `Power` (W)
(https://tasmota.github.io/docs/JSON-Status-Responses/, StatusSNS).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.bridges import tasmota
from gateway.bridges.devices import DeviceMap, SignKind, Translation, device_map

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = 1_732_269_600.0
DEVICES = device_map([DeviceMap("kitchen-plug", SignKind.ELECTRICITY), DeviceMap("front", SignKind.DOOR)])
# A plug's periodic telemetry (TelePeriod): the StatusSNS shape with an ENERGY object
SENSOR = (b'{"Time":"2024-02-24T22:20:38","ENERGY":{"TotalStartTime":"2023-11-05T10:01:12","Total":123.456,'
          b'"Yesterday":1.234,"Today":0.567,"Period":2,"Power":45,"ApparentPower":60,"ReactivePower":40,'
          b'"Factor":0.75,"Voltage":229,"Current":0.262}}')


def run(tail: str, payload: bytes) -> Translation:
    return tasmota.translate("h-1", tail, payload, DEVICES, now=NOW, tz=SHANGHAI)


def test_energy_total_and_power_become_an_electricity_reading_at_the_households_local_time() -> None:
    result = run("tele/kitchen-plug/SENSOR", SENSOR)
    local = datetime(2024, 2, 24, 22, 20, 38, tzinfo=SHANGHAI).timestamp()
    assert result.rejections == []
    assert [(r.sensor, r.kind, r.value, r.power_w, r.ts, r.reset) for r in result.readings] == [
        ("electricity", SignKind.ELECTRICITY, 123.456, 45.0, local, False)]
    assert local == datetime.fromisoformat("2024-02-24T14:20:38+00:00").timestamp()


def test_the_other_fulltopic_order_is_understood_too() -> None:
    # FullTopic `%topic%/%prefix%/` puts the device before `tele`: https://tasmota.github.io/docs/MQTT/
    assert [r.value for r in run("kitchen-plug/tele/SENSOR", SENSOR).readings] == [123.456]


def test_a_time_with_an_offset_is_honoured_and_power_per_channel_is_summed() -> None:
    payload = b'{"Time":"2024-02-24T22:20:38+01:00","ENERGY":{"Total":5.5,"Power":[40,12]}}'
    reading = run("tele/kitchen-plug/SENSOR", payload).readings[0]
    assert reading.ts == datetime.fromisoformat("2024-02-24T21:20:38+00:00").timestamp()
    assert reading.power_w == 52.0


def test_lwt_is_presence_and_not_a_reading() -> None:
    # The retained Last Will: `Online` / `Offline` on tele/%topic%/LWT: https://tasmota.github.io/docs/MQTT/
    online = run("tele/kitchen-plug/LWT", b"Online")
    offline = run("tele/kitchen-plug/LWT", b"Offline")
    assert online.readings == offline.readings == []
    assert [(p.device, p.online, p.bridge) for p in online.presence + offline.presence] == [
        ("kitchen-plug", True, "tasmota"), ("kitchen-plug", False, "tasmota")]
    assert "'kitchen-plug'" in run("tele/kitchen-plug/LWT", b"Asleep").rejections[0].reason


def test_state_results_and_commands_carry_no_sign() -> None:
    for tail in ("tele/kitchen-plug/STATE", "stat/kitchen-plug/RESULT", "cmnd/kitchen-plug/POWER", "x"):
        result = run(tail, b'{"POWER":"ON"}')
        assert (result.readings, result.rejections, result.presence) == ([], [], [])


def test_an_unmapped_plug_is_rejected_by_its_topic() -> None:
    result = run("tele/tasmota_9CF9D1/SENSOR", SENSOR)
    assert [r.category for r in result.rejections] == ["unmapped"]
    assert "tasmota_9CF9D1" in result.rejections[0].reason


def test_malformed_telemetry_is_rejected_naming_the_device_and_its_field() -> None:
    no_energy = run("tele/kitchen-plug/SENSOR", b'{"Time":"2024-02-24T22:20:38","Switch1":"ON"}')
    bad_total = run("tele/kitchen-plug/SENSOR", b'{"Time":"2024-02-24T22:20:38","ENERGY":{"Total":"12"}}')
    no_time = run("tele/kitchen-plug/SENSOR", b'{"ENERGY":{"Total":1.0}}')
    bad_time = run("tele/kitchen-plug/SENSOR", b'{"Time":"Sat 22:20","ENERGY":{"Total":1.0}}')
    wrong = run("tele/front/SENSOR", SENSOR)
    for result, field in ((no_energy, "'ENERGY'"), (bad_total, "'Total'"), (no_time, "'Time'"),
                          (bad_time, "'Time'"), (wrong, "electricity")):
        assert result.readings == []
        assert field in result.rejections[0].reason
    assert "'kitchen-plug'" in bad_total.rejections[0].reason
    assert (no_time.rejections[0].category, wrong.rejections[0].category) == ("bad_timestamp", "wrong_kind")
