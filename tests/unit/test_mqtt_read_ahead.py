"""paho reading its socket in chunks: every packet handed on whole and in order, however the
bytes arrive, and never more than one `recv` per read."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from paho.mqtt.enums import _ConnectionState

from shouwang.mqtt import Message, MqttClient
from shouwang.settings import MqttSettings


def publish_packet(topic: str, payload: bytes, mid: int) -> bytes:
    body = struct.pack("!H", len(topic)) + topic.encode() + struct.pack("!H", mid) + payload
    length = bytearray()
    n = len(body)
    while True:
        byte, n = n % 128, n // 128
        length.append(byte | (128 if n else 0))
        if not n:
            break
    return b"\x32" + bytes(length) + body


@pytest.fixture
def wired() -> Iterator[tuple[MqttClient, socket.socket, list[Message]]]:
    received: list[Message] = []
    client = MqttClient(MqttSettings(url="mqtt://127.0.0.1:1"), subscriptions=["t/#"],
                        on_message=received.append, manual_ack=True, stamp=lambda: 42.0)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    paho = client._client
    paho._sock = ours
    paho._state = _ConnectionState.MQTT_CS_CONNECTED
    yield client, theirs, received
    paho._sock = None
    ours.close()
    theirs.close()
    paho._reset_sockets(sockpair_only=True)


def read(client: MqttClient) -> None:
    client._client.loop_read()


def test_packets_arriving_a_byte_at_a_time_come_out_whole_and_in_order(
    wired: tuple[MqttClient, socket.socket, list[Message]],
) -> None:
    client, broker, received = wired
    payloads = [b'{"ts": %d, "value": 1}' % i + b" " * (i * 40) for i in range(1, 6)]  # lengths past 127
    stream = b"".join(publish_packet(f"t/{i}", p, i) for i, p in enumerate(payloads, 1))
    for byte in stream:
        broker.sendall(bytes([byte]))
        read(client)
    assert [(m.topic, m.payload, m.mid, m.qos) for m in received] == [
        (f"t/{i}", p, i, 1) for i, p in enumerate(payloads, 1)]
    assert {m.received_at for m in received} == {42.0}


def test_one_read_hands_on_every_whole_packet_buffered_and_keeps_the_part_of_the_next(
    wired: tuple[MqttClient, socket.socket, list[Message]],
) -> None:
    client, broker, received = wired
    packets = [publish_packet(f"t/{i}", b"x" * i, i) for i in range(1, 301)]
    stream = b"".join(packets)
    cut = len(stream) - 3  # the last packet's final bytes are still on their way
    broker.sendall(stream[:cut])
    read(client)
    assert len(received) == 299
    read(client)  # nothing more has come: the partial packet waits, nothing is lost or invented
    assert len(received) == 299
    broker.sendall(stream[cut:])
    read(client)
    assert [m.payload for m in received] == [b"x" * i for i in range(1, 301)]


def test_a_read_makes_at_most_one_recv_so_writing_our_acks_is_never_starved(
    wired: tuple[MqttClient, socket.socket, list[Message]],
) -> None:
    client, broker, received = wired
    client._client.CHUNK = 64  # a few packets per recv
    packets = [publish_packet("t/a", b"y" * 20, i) for i in range(1, 41)]
    broker.sendall(b"".join(packets))
    read(client)
    first = len(received)
    assert first == 64 // len(packets[0])  # one recv's worth, though the socket holds more
    for _ in range(40):
        read(client)
    assert [m.mid for m in received] == list(range(1, 41))
