"""Homes equipped from a shop's shelf: each bridge's messages through a real broker (embedded, and
Mosquitto where present) into real SQLite, shaped as each project documents them.

- Zigbee2MQTT: https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html (device messages,
  `bridge/state`) and https://www.zigbee2mqtt.io/guide/configuration/device-availability.html
- Tasmota: https://tasmota.github.io/docs/MQTT/ (`tele/%topic%/SENSOR`, `LWT`) and
  https://tasmota.github.io/docs/JSON-Status-Responses/ (the `ENERGY` object)
- Shelly Gen2: https://shelly-api-docs.shelly.cloud/gen2/General/Notifications (`NotifyStatus` on
  `<prefix>/events/rpc`) and https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch
- wmbusmeters: https://github.com/wmbusmeters/wmbusmeters#readme (the JSON line of a multical21)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.service import Gateway
from shouwang.clock import SystemClock
from shouwang.domain.devices import DeviceMap
from shouwang.domain.model import FINE_PRESS, HELP_PRESS, Grid, Household, Hub, SensorKind, Tier
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.support import wait_for

pytestmark = pytest.mark.broker
TZ = ZoneInfo("Asia/Shanghai")
MAP = [
    DeviceMap("entrance", SensorKind.DOOR),
    DeviceMap("hall pir", SensorKind.MOTION),
    DeviceMap("help", SensorKind.BUTTON, bridge="z2m"),
    DeviceMap("平安键", SensorKind.BUTTON, "button.fine", frozenset({"*"})),
    DeviceMap("kitchen_plug", SensorKind.ELECTRICITY),
    DeviceMap("shellyplusplugs-e8db84d6a1b2", SensorKind.ELECTRICITY, "electricity.tv"),
    DeviceMap("33225544", SensorKind.WATER),
]


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[StateStore, SqliteReadingStore]]:
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    readings = SqliteReadingStore(tmp_path / "readings.db")
    now = time.time()
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_household(Household("hh-1", Tier.RED, "g-1"), now=now)
    state.registry.add_hub(Hub("h-1", "hh-1"), now=now)
    state.consent.record(Consent("hh-1", "王秀英", "self", sensing=True, share_with_family=False,
                                 given_at=now), actor=Actor("test"), now=now)
    for entry in MAP:
        state.devices.add("h-1", entry, actor=Actor("installer"), now=now)
    yield state, readings
    readings.close()
    state.close()


@pytest.fixture
def gateway(any_mqtt: MqttSettings, stores: tuple[StateStore, SqliteReadingStore]) -> Iterator[Gateway]:
    state, readings = stores
    service = Gateway(mqtt=any_mqtt, settings=GatewaySettings(flush_interval_s=0.05),
                      readings=readings, state=state, clock=SystemClock(), metrics=Metrics(), tz=TZ)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def bridges(any_mqtt: MqttSettings) -> Iterator[MqttClient]:
    """The home's small Linux box: its bridges publish under the hub's own id."""
    client = MqttClient(any_mqtt, client_id=f"{any_mqtt.client_id_prefix}-box-h-1")
    client.start()
    yield client
    client.stop()


def publish(client: MqttClient, mqtt: MqttSettings, tail: str, payload: object) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    client.publish(f"{mqtt.topic_prefix}/hubs/h-1/{tail}", body)


def stored(readings: SqliteReadingStore, now: float) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for r in readings.query(household_id="hh-1", start=now - 3 * 86400, end=now + 3600):
        found.setdefault(r.sensor, []).append(r.value)
    return found


def test_each_bridges_documented_messages_become_the_right_readings(
        gateway: Gateway, bridges: MqttClient, any_mqtt: MqttSettings,
        stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    now = time.time()
    local = datetime.fromtimestamp(now - 60, TZ).strftime("%Y-%m-%dT%H:%M:%S")  # Tasmota: local, no offset
    utc = datetime.fromtimestamp(now - 30, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # wmbusmeters: UTC
    publish(bridges, any_mqtt, "z2m/entrance", {"battery": 87, "contact": False, "linkquality": 120,
                                                "voltage": 3005, "last_seen": datetime.fromtimestamp(
                                                    now - 90, TZ).isoformat()})
    publish(bridges, any_mqtt, "z2m/hall pir", {"occupancy": True, "battery": 91, "illuminance": 14,
                                                "linkquality": 96})
    publish(bridges, any_mqtt, "z2m/help", {"action": "single", "battery": 100, "linkquality": 84})
    publish(bridges, any_mqtt, "z2m/平安键", {"action": "single", "battery": 100, "linkquality": 70})
    publish(bridges, any_mqtt, "tasmota/tele/kitchen_plug/SENSOR", {
        "Time": local, "ENERGY": {"TotalStartTime": "2024-01-03T10:21:11", "Total": 12.345, "Yesterday": 0.412,
                                  "Today": 0.061, "Period": 0, "Power": 1850, "ApparentPower": 1870,
                                  "ReactivePower": 270, "Factor": 0.99, "Voltage": 229, "Current": 8.16}})
    publish(bridges, any_mqtt, "shelly/shellyplusplugs-e8db84d6a1b2/events/rpc", {
        "src": "shellyplusplugs-e8db84d6a1b2", "dst": "shellyplusplugs-e8db84d6a1b2/events",
        "method": "NotifyStatus", "params": {"ts": now - 20, "switch:0": {
            "id": 0, "aenergy": {"by_minute": [1.2, 0.9, 1.1], "minute_ts": int(now - 60), "total": 3120.5},
            "apower": 72.4}}})
    publish(bridges, any_mqtt, "wmbus/MyTapWater", {
        "media": "water", "meter": "multical21", "name": "MyTapWater", "id": "33225544", "total_m3": 6.408,
        "target_m3": 6.408, "max_flow_m3h": 0, "flow_temperature_c": 27, "external_temperature_c": 19,
        "current_status": "DRY", "time_dry": "22-31 days", "time_reversed": "", "time_leaking": "",
        "time_bursting": "", "timestamp": utc})
    expected = {"door": [1.0], "motion": [1.0], "button": [HELP_PRESS], "button.fine": [FINE_PRESS],
                "electricity": [12.345], "electricity.tv": [3.1205], "water": [6.408]}
    wait_for(lambda: stored(readings, now) == expected, what=f"the bridged readings {expected}",
             timeout_s=10)
    plug = [r for r in readings.query(household_id="hh-1", start=now - 3600, end=now + 60)
            if r.sensor == "electricity"]
    assert plug[0].ts == pytest.approx(now - 60, abs=1) and plug[0].power_w == 1850
    assert state.dead_letters.recent() == []
    # what a batch heard is kept just after its readings are committed: wait for it as well
    devices = {"entrance", "hall pir", "kitchen_plug", "33225544"}
    wait_for(lambda: {s.device for s in state.devices.sightings(["h-1"])} >= devices,
             what=f"the sightings of {devices}")
    sightings = {s.device: s for s in state.devices.sightings(["h-1"])}
    assert sightings["entrance"].battery == pytest.approx(0.87)


def test_a_plug_that_restarts_its_register_is_a_reset_not_a_meter_running_back(
        gateway: Gateway, bridges: MqttClient, any_mqtt: MqttSettings,
        stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    now = time.time()
    for k, total in enumerate((41.250, 41.262, 0.004)):  # an `EnergyReset` (or a reboot) between the 2nd and 3rd
        local = datetime.fromtimestamp(now - 300 + 60 * k, TZ).strftime("%Y-%m-%dT%H:%M:%S")
        publish(bridges, any_mqtt, "tasmota/tele/kitchen_plug/SENSOR",
                {"Time": local, "ENERGY": {"Total": total, "Power": 35}})
    wait_for(lambda: stored(readings, now).get("electricity") == [41.25, 41.262, 0.004],
             what="all three registers, the restarted one too")
    assert state.dead_letters.recent() == []


def test_unmapped_devices_are_dead_lettered_once_each_and_listed_malformed_ones_name_the_device(
        gateway: Gateway, bridges: MqttClient, any_mqtt: MqttSettings,
        stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, _ = stores
    for _ in range(3):
        publish(bridges, any_mqtt, "z2m/0x00158d0001a2b3c4", {"contact": True, "battery": 100})
        publish(bridges, any_mqtt, "wmbus/gasmeter", {"media": "gas", "id": "77665544", "total_m3": 1.0,
                                                      "timestamp": "2026-01-01T00:00:00Z"})
    publish(bridges, any_mqtt, "z2m/entrance", {"contact": "open"})
    publish(bridges, any_mqtt, "tasmota/tele/kitchen_plug/SENSOR", b'{"Time": "2024-11-22T18:00:00", "ENERGY": ')
    unmapped = wait_for(lambda: [s for s in state.devices.sightings(["h-1"]) if s.messages >= 3]
                        if sum(s.messages >= 3 for s in state.devices.sightings(["h-1"])) >= 2
                        else None, what="three messages from each unmapped device counted")
    assert sorted(s.device for s in unmapped) == ["0x00158d0001a2b3c4", "77665544"]
    wait_for(lambda: len(state.dead_letters.recent()) >= 4, what="four dead letters")
    time.sleep(0.3)  # nothing more comes: each unmapped device is lettered once, not per message
    letters = state.dead_letters.recent()
    reasons = sorted(d.reason for d in letters)
    assert len(reasons) == 4, reasons
    assert any("'0x00158d0001a2b3c4' is not in hub h-1's device map" in r for r in reasons)
    assert any("wmbus device '77665544' is not in hub h-1's device map" in r for r in reasons)
    assert any("z2m device 'entrance' (door): 'contact' must be true or false" in r for r in reasons)
    assert any("tasmota device 'kitchen_plug'" in r and "not JSON" in r for r in reasons)
    assert {d.hub_id for d in letters} == {"h-1"}


def test_availability_feeds_the_hubs_presence_and_each_devices(
        gateway: Gateway, bridges: MqttClient, any_mqtt: MqttSettings,
        stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, _ = stores
    publish(bridges, any_mqtt, "z2m/bridge/state", {"state": "online"})
    publish(bridges, any_mqtt, "z2m/entrance/availability", {"state": "offline"})
    publish(bridges, any_mqtt, "tasmota/tele/kitchen_plug/LWT", b"Online")
    wait_for(lambda: len([s for s in state.devices.sightings(["h-1"]) if s.online is not None]) == 3,
             what="three devices' availability")
    # The devices' rows are written before the hub's presence (a second write): wait for both.
    wait_for(lambda: "h-1" in state.registry.presence(), what="the hub's presence")
    assert state.registry.presence()["h-1"].state == "online"  # the bridge and the plug still are
    publish(bridges, any_mqtt, "z2m/bridge/state", {"state": "offline"})
    publish(bridges, any_mqtt, "tasmota/tele/kitchen_plug/LWT", b"Offline")
    wait_for(lambda: state.registry.presence()["h-1"].state == "offline",
             what="the hub offline once its last bridge went")
    online = {s.device: s.online for s in state.devices.sightings(["h-1"]) if s.online is not None}
    assert online == {"bridge": False, "entrance": False, "kitchen_plug": False}
