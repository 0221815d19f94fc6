"""The gateway's own CPU per message, without a broker: what a busy machine changes least.

    python -m benchmarks.gateway_cpu                       # 40,000 single readings, window 1,000
    python -m benchmarks.gateway_cpu --messages 100000 --window 20 --gateway-setting batch_size=250

Another process plays the broker on one end of a socket pair: it writes QoS 1 PUBLISH packets
(the ingest benchmark's payloads: 200 hubs, one water register each per publisher) while fewer
than `--window` are unacknowledged (Mosquitto's max_inflight_messages), and counts the PUBACKs.
The gateway reads the other end with its own paho client and network thread, decodes, validates,
commits to SQLite and acknowledges, as in production. Printed: its CPU time (every thread) per
message, and the rate, which here depends on the machine's load as much as on the code.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path

from paho.mqtt.enums import _ConnectionState

from benchmarks.ingest import register
from gateway.service import Gateway
from shouwang.clock import SystemClock
from shouwang.metrics import Metrics
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore

PREFIX = "bench/v1"


def _length(n: int) -> bytes:
    """MQTT's variable-length integer."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


def packets(hubs: list[str], messages: int, base_ts: float) -> tuple[bytes, list[int]]:
    """QoS 1 PUBLISH packets (MQTT 3.1.1) and where each starts (and, last, where they end)."""
    blob, starts = bytearray(), []
    for i in range(messages):
        k = i // len(hubs)
        topic = f"{PREFIX}/hubs/{hubs[i % len(hubs)]}/water.w{i % 2}".encode()
        payload = json.dumps({"ts": base_ts + k, "value": round(k * 0.001, 3)}).encode()
        body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", i % 65535 + 1) + payload
        starts.append(len(blob))
        blob += b"\x32" + _length(len(body)) + body
    starts.append(len(blob))
    return bytes(blob), starts


def broker(sock: socket.socket, blob: bytes, starts: list[int], window: int) -> None:
    """Write the packets, never more than `window` unacknowledged, until every one is acknowledged."""
    messages = len(starts) - 1
    acked = 0
    room = threading.Condition()

    def write() -> None:
        sent = 0
        while sent < messages:
            with room:
                while sent - acked >= window:
                    room.wait()
                more = min(messages, acked + window) - sent
            sock.sendall(blob[starts[sent]:starts[sent + more]])
            sent += more

    threading.Thread(target=write, daemon=True).start()
    received = 0
    while received < messages * 4:  # a PUBACK is 4 bytes
        data = sock.recv(1 << 16)
        if not data:
            break
        received += len(data)
        with room:
            acked = received // 4
            room.notify()
    if acked < messages:
        raise SystemExit(f"only {acked:,} of {messages:,} acknowledged")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--window", type=int, default=1000, help="unacknowledged messages at most")
    parser.add_argument("--gateway-setting", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    hubs = [f"h-{i:05d}" for i in range(200)]
    overrides = dict(setting.split("=", 1) for setting in args.gateway_setting)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'state.db'}"
        register(url, hubs)
        state = StateStore.open(url)
        readings = SqliteReadingStore(Path(tmp) / "readings.db")
        gateway = Gateway(mqtt=MqttSettings(url="mqtt://127.0.0.1:1", topic_prefix=PREFIX),
                          settings=GatewaySettings.model_validate(overrides), readings=readings, state=state,
                          clock=SystemClock(), metrics=Metrics(), client_id="gateway-cpu")
        ours, theirs = socket.socketpair()
        blob, starts = packets(hubs, args.messages, time.time() - args.messages // len(hubs) - 120)
        peer = multiprocessing.get_context("fork").Process(target=broker, args=(theirs, blob, starts, args.window))
        peer.start()
        # The gateway's paho client, connected to the pair instead of a broker (paho internals).
        client = gateway._client._client
        ours.setblocking(False)
        client._sock = ours
        client._state = _ConnectionState.MQTT_CS_CONNECTED
        gateway._client._connected.set()
        gateway._directory.reload()
        gateway._bridges.reload()
        gateway._worker.start()
        started, cpu = time.perf_counter(), time.process_time()
        client.loop_start()
        while gateway.stored < args.messages:
            time.sleep(0.01)
        peer.join(60)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        client.loop_stop()
        gateway.stop()
        ours.close()
        theirs.close()
        readings.close()
        state.close()
    print(f"{args.messages:,} single readings, window {args.window}"
          + "".join(f", gateway.{name}={value}" for name, value in overrides.items())
          + f": gateway CPU {cpu / args.messages * 1e6:.1f} µs/message, {args.messages / elapsed:,.0f} messages/s"
          + f", all acknowledged: {peer.exitcode == 0}")


if __name__ == "__main__":
    main()
