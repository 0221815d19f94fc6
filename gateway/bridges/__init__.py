"""Off-the-shelf bridges (Zigbee2MQTT, Tasmota, Shelly, wmbusmeters) translated into our readings.

Pure: each module's `translate(hub_id, topic_tail, payload, devices, *, now, tz)` turns one message
into a `Translation` (readings, rejections, presence) and never raises. See docs/bridges.md.
"""
