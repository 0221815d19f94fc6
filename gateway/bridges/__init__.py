"""Off-the-shelf bridges (Zigbee2MQTT, Tasmota, Shelly, wmbusmeters) translated into our readings.

Pure: each module's `translate(hub_id, topic_tail, payload, devices, *, now, tz)` turns one message
into a `Translation` (readings, rejections, presence) and never raises. See docs/bridges.md.
"""

from gateway.bridges import shelly, tasmota, wmbus, z2m
from gateway.bridges.devices import Translator

TRANSLATORS: dict[str, Translator] = {
    z2m.BRIDGE: z2m.translate,
    tasmota.BRIDGE: tasmota.translate,
    shelly.BRIDGE: shelly.translate,
    wmbus.BRIDGE: wmbus.translate,
}
"""By the topic level that follows the hub id: `shouwang/v1/hubs/{hub}/{bridge}/{topic_tail}`."""
