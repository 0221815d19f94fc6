"""A household's off-the-shelf devices, as the installer's view shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DeviceOut(BaseModel):
    hub_id: str
    device: str = Field(description="the bridge's name for it: Zigbee2MQTT friendly name, Tasmota topic, "
                                    "Shelly prefix or wmbusmeters meter id")
    bridge: str | None = Field(description="z2m, tasmota, shelly or wmbus (unknown until it speaks)")
    sensor: str | None = Field(description="the sign it gives (door, motion.hall, ...); null when unmapped")
    kind: str | None
    press: str | None = Field(description="a button: what a press means (help, fine, or per action)")
    first_message_at: datetime | None
    last_message_at: datetime | None
    messages: int = Field(description="messages heard from it")
    battery: float | None = Field(description="0–1, when the bridge sends one")
    online: bool | None = Field(description="what the bridge last said of its availability, if anything")


class DevicesOut(BaseModel):
    household_id: str
    mapped: list[DeviceOut]
    unmapped: list[DeviceOut] = Field(description="devices the home's bridges spoke of that are not mapped: "
                                                   "map them with `shouwang hubs devices HUB add NAME KIND`")

    model_config = {"json_schema_extra": {"examples": [{
        "household_id": "sim-0002", "mapped": [{
            "hub_id": "h-sim-0002", "device": "entrance", "bridge": "z2m", "sensor": "door", "kind": "door",
            "press": None, "first_message_at": "2025-11-20T08:00:00Z", "last_message_at": "2025-11-22T07:41:03Z",
            "messages": 412, "battery": 0.93, "online": True}],
        "unmapped": [{
            "hub_id": "h-sim-0002", "device": "0x00158d0001a2b3c4", "bridge": "z2m", "sensor": None,
            "kind": None, "press": None, "first_message_at": "2025-11-22T07:30:00Z",
            "last_message_at": "2025-11-22T07:35:00Z", "messages": 3, "battery": None, "online": None}]}]}}
