"""Shelly plugs (Gen2 RPC notifications and Gen1 topics) → electricity readings.

Shapes per the Shelly API documentation: Gen2 `NotifyStatus` frames on `<id>/events/rpc` with
`params.ts` and the changed component (https://shelly-api-docs.shelly.cloud/gen2/General/Notifications),
the Switch status's `apower` (W) and `aenergy.total` (Wh)
(https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch); Gen1 `relay/0/power` (W) and
`relay/0/energy` (watt-minutes) and `online` (https://shelly-api-docs.shelly.cloud/gen1/, Shelly Plug S: MQTT).
"""

from datetime import UTC

import pytest

from gateway.bridges import shelly
from gateway.bridges.devices import DeviceMap, SignKind, Translation, device_map

NOW = 1_732_269_600.0
DEVICES = device_map([
    DeviceMap("shellyplusplugs-a8032ab12345", SignKind.ELECTRICITY),
    DeviceMap("shellyplug-s-040BAD", SignKind.ELECTRICITY, "electricity.tv"),
    DeviceMap("front", SignKind.DOOR),
])
GEN2 = "shellyplusplugs-a8032ab12345"
NOTIFY = (b'{"src":"shellyplusplugs-a8032ab12345","dst":"shellyplusplugs-a8032ab12345/events",'
          b'"method":"NotifyStatus","params":{"ts":1631186545.04,"switch:0":{"id":0,'
          b'"aenergy":{"by_minute":[0.000,0.000,0.000],"minute_ts":1631186544,"total":1234.567},"apower":8.9}}}')


def run(tail: str, payload: bytes) -> Translation:
    return shelly.translate("h-1", tail, payload, DEVICES, now=NOW, tz=UTC)


def test_gen2_notify_status_gives_kwh_from_watt_hours_with_power() -> None:
    result = run(f"{GEN2}/events/rpc", NOTIFY)
    assert result.rejections == []
    assert [(r.sensor, r.value, r.power_w, r.ts) for r in result.readings] == [
        ("electricity", pytest.approx(1.234567), 8.9, 1631186545.04)]


def test_gen2_status_changes_without_the_energy_counter_carry_no_sign() -> None:
    # NotifyStatus carries only what changed: https://shelly-api-docs.shelly.cloud/gen2/General/Notifications
    output_only = (b'{"src":"x","dst":"x/events","method":"NotifyStatus",'
                   b'"params":{"ts":1631186545.04,"switch:0":{"id":0,"output":true}}}')
    wifi_only = b'{"src":"x","method":"NotifyStatus","params":{"ts":1631186545.04,"wifi":{"rssi":-58}}}'
    not_a_name = b'{"method": [], "params": {}}'  # found by the any-JSON property test: was an internal error
    event = (b'{"src":"x","method":"NotifyEvent","params":{"ts":1631186545.04,'
             b'"events":[{"component":"input:0","id":0,"event":"single_push","ts":1631186545.04}]}}')
    for payload in (output_only, wifi_only, event, not_a_name):
        result = run(f"{GEN2}/events/rpc", payload)
        assert (result.readings, result.rejections) == ([], [])


def test_gen1_energy_in_watt_minutes_becomes_kwh_at_the_time_it_arrived() -> None:
    result = run("shellyplug-s-040BAD/relay/0/energy", b"74118")
    assert [(r.sensor, r.value, r.ts) for r in result.readings] == [
        ("electricity.tv", pytest.approx(74118 / 60_000), NOW)]
    power = run("shellyplug-s-040BAD/relay/0/power", b"12.34")
    assert (power.readings, power.rejections) == ([], [])


def test_online_is_presence_for_both_generations() -> None:
    result = run("shellyplug-s-040BAD/online", b"false")
    assert [(p.device, p.online) for p in result.presence] == [("shellyplug-s-040BAD", False)]
    assert run(f"{GEN2}/online", b"true").presence[0].online is True
    assert "online" in run(f"{GEN2}/online", b"yes").rejections[0].reason


def test_unmapped_and_malformed_messages_are_rejected_naming_the_device_and_field() -> None:
    unmapped = run("shelly1pm-ABABAB/relay/0/energy", b"100")
    assert unmapped.rejections[0].category == "unmapped" and "shelly1pm-ABABAB" in unmapped.rejections[0].reason
    bad_total = run(f"{GEN2}/events/rpc", NOTIFY.replace(b'"total":1234.567', b'"total":"lots"'))
    no_ts = run(f"{GEN2}/events/rpc", NOTIFY.replace(b'"ts":1631186545.04,', b""))
    negative = run("shellyplug-s-040BAD/relay/0/energy", b"-5")
    text = run("shellyplug-s-040BAD/relay/0/energy", b"nan")
    wrong = run("front/relay/0/energy", b"100")
    assert "'total'" in bad_total.rejections[0].reason and GEN2 in bad_total.rejections[0].reason
    assert "params.ts" in no_ts.rejections[0].reason and no_ts.rejections[0].category == "bad_timestamp"
    assert "relay/0/energy" in negative.rejections[0].reason and "relay/0/energy" in text.rejections[0].reason
    assert wrong.rejections[0].category == "wrong_kind"
    for result in (bad_total, no_ts, negative, text, wrong):
        assert result.readings == []
