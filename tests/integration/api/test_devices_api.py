"""The installer's view of a household's off-the-shelf devices, behind the household routes' privacy."""

from __future__ import annotations

from shouwang.domain.devices import EVERY_ACTION, DeviceMap, DeviceSighting
from shouwang.domain.model import SensorKind, StoredReading
from tests.integration.api.conftest import NOW, SYSTEM, Community

HUB = "hub-h-east-red"


def equip(community: Community) -> None:
    devices = community.state.devices
    devices.add(HUB, DeviceMap("entrance", SensorKind.DOOR, bridge="z2m"), actor=SYSTEM, now=NOW - 86400)
    devices.add(HUB, DeviceMap("fine button", SensorKind.BUTTON, "button.fine", frozenset({EVERY_ACTION})),
                actor=SYSTEM, now=NOW - 86400)
    devices.heard([DeviceSighting(HUB, "z2m", "entrance", NOW - 86000, NOW - 600, 40, 0.81),
                   DeviceSighting(HUB, "z2m", "0x00158d0001a2b3c4", NOW - 3600, NOW - 60, 7)])
    devices.record_presence(HUB, "z2m", "entrance", online=True, at=NOW - 600)


def test_the_page_lists_mapped_devices_with_last_message_and_battery_and_the_unmapped_waiting(
        community: Community) -> None:
    equip(community)
    response = community.client.get("/households/h-east-red/devices", headers=community.auth("member1"))
    assert response.status_code == 200, response.text
    body = response.json()
    mapped = {d["device"]: d for d in body["mapped"]}
    assert mapped["entrance"]["sensor"] == "door" and mapped["entrance"]["battery"] == 0.81
    assert mapped["entrance"]["last_message_at"].startswith("2026-11-18") and mapped["entrance"]["online"] is True
    assert mapped["fine button"]["press"] == "fine" and mapped["fine button"]["last_message_at"] is None
    assert [(d["device"], d["messages"], d["sensor"]) for d in body["unmapped"]] == [
        ("0x00158d0001a2b3c4", 7, None)]


def test_another_grids_member_and_a_volunteer_see_no_devices(community: Community) -> None:
    equip(community)
    other = community.client.get("/households/h-east-red/devices", headers=community.auth("member2"))
    assert other.status_code == 404  # another grid's household is not found, as on every household route
    volunteer = community.client.get("/households/h-east-red/devices", headers=community.auth("volunteer"))
    assert volunteer.status_code == 403


def test_motion_and_presses_count_in_the_hourly_readings(community: Community) -> None:
    start = NOW - NOW % 3600 - 2 * 3600
    community.readings.write([StoredReading("h-east-red", HUB, "motion", start + 60 * k, float(k % 2))
                              for k in range(6)] + [StoredReading("h-east-red", HUB, "button.fine", start + 900, 2.0)])
    response = community.client.get("/households/h-east-red/readings?sensor=motion",
                                    headers=community.auth("member1"))
    assert response.status_code == 200, response.text
    motion = response.json()["sensors"][0]
    assert motion["unit"] == "movements" and sum(h["use"] for h in motion["hours"]) == 3
