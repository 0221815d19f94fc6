"""Our paho client wrapper over a real broker: what it leaves behind when stopped."""

from __future__ import annotations

import os
import socket
import time

import pytest

from shouwang.mqtt import Message, MqttClient
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


def test_with_manual_ack_an_unacknowledged_message_comes_again_and_an_acknowledged_one_does_not(
    mosquitto_mqtt: MqttSettings,
) -> None:
    topic = f"{mosquitto_mqtt.topic_prefix}/hubs/h-1/water"
    received: list[Message] = []
    subscriber = MqttClient(mosquitto_mqtt, client_id=f"{mosquitto_mqtt.client_id_prefix}-subscriber",
                            subscriptions=[topic], on_message=received.append,
                            persistent_session=True, manual_ack=True)
    subscriber.start()
    publisher = MqttClient(mosquitto_mqtt, client_id=f"{mosquitto_mqtt.client_id_prefix}-publisher")
    publisher.start()
    try:
        publisher.publish(topic, b"one")
        assert publisher.drain()
        wait_for(lambda: received, what="the message")
        # The connection drops before the message was committed (and so acknowledged); paho
        # reconnects by itself, and the broker delivers the message again.
        sock = subscriber._client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        wait_for(lambda: len(received) == 2, what="the unacknowledged message delivered again")
        assert [m.payload for m in received] == [b"one", b"one"]
        assert received[1].connection != received[0].connection
        assert not subscriber.ack(received[0]), "its packet id may now be another message's"
        assert subscriber.ack(received[1])
        publisher.publish(topic, b"two")
        assert publisher.drain()
        wait_for(lambda: len(received) == 3, what="the next message")
        assert subscriber.ack(received[2])
    finally:
        publisher.stop()
        subscriber.stop()

    after: list[Message] = []
    subscriber = MqttClient(mosquitto_mqtt, client_id=f"{mosquitto_mqtt.client_id_prefix}-subscriber",
                            subscriptions=[topic], on_message=after.append,
                            persistent_session=True, manual_ack=True)
    subscriber.start()
    time.sleep(0.5)
    subscriber.stop()
    assert after == [], "acknowledged messages were delivered again"
