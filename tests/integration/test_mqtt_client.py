"""Our paho client wrapper over a real broker: what it leaves behind when stopped."""

from __future__ import annotations

import os

import pytest

from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings
from tests.support import wait_for

pytestmark = pytest.mark.broker


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_a_stopped_client_leaves_no_socket_open(embedded_mqtt: MqttSettings) -> None:
    warm = MqttClient(embedded_mqtt, client_id=f"{embedded_mqtt.client_id_prefix}-warm")
    warm.start()  # first use opens what stays open for the process (imports, the resolver)
    warm.stop()
    before = open_descriptors()
    for n in range(3):
        client = MqttClient(embedded_mqtt, client_id=f"{embedded_mqtt.client_id_prefix}-{n}")
        client.start()
        client.stop()
    # Not even paho's loopback socket pair, which it would otherwise close only when collected
    # (the broker, in this process too, closes its side of each connection in its own time).
    wait_for(lambda: open_descriptors() <= before, timeout_s=5,
             what=f"open descriptors back to {before}")
