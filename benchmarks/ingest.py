"""Gateway ingest throughput: hubs → broker → gateway → SQLite, end to end. Prints figures.

    python -m benchmarks.ingest                          # embedded broker (amqtt)
    python -m benchmarks.ingest --broker mosquitto       # a Mosquitto started with deploy/'s queue settings
    python -m benchmarks.ingest --broker system          # the machine's Mosquitto on 127.0.0.1:1883, as configured
    python -m benchmarks.ingest --batch 100              # hub backlogs: 100 readings per message

Publishers run in separate processes, as hubs would, so they do not share the gateway's CPU.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.service import Gateway
from shouwang.broker import EmbeddedBroker, free_port
from shouwang.clock import SystemClock
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore

PRODUCTION_QUEUE = "max_queued_messages 2000000\nmax_queued_bytes 0\nmax_inflight_messages 1000\n"


def publish(settings: MqttSettings, hubs: list[str], messages: int, batch: int, worker: int) -> None:
    client = MqttClient(settings, client_id=f"bench-pub-{worker}-{uuid.uuid4().hex[:6]}")
    client.start()
    base = time.time() - 3600
    for i in range(messages):
        hub = hubs[i % len(hubs)]
        seq = i // len(hubs)
        items = [{"ts": base + seq * batch + k, "value": float(seq * batch + k)} for k in range(batch)]
        payload = json.dumps(items[0] if batch == 1 else items)
        client.publish(f"{settings.topic_prefix}/hubs/{hub}/water.w{worker}", payload, qos=1)
    client.drain(300)
    client.stop()


@contextmanager
def broker(kind: str, prefix: str) -> Iterator[MqttSettings]:
    if kind == "embedded":
        embedded = EmbeddedBroker("127.0.0.1", free_port())
        embedded.start()
        yield MqttSettings(embedded_port=embedded.port, topic_prefix=prefix)
        embedded.stop()
    elif kind == "system":
        yield MqttSettings(url="mqtt://127.0.0.1:1883", topic_prefix=prefix)
    else:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "mosquitto.conf"
            conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n{PRODUCTION_QUEUE}")
            process = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            try:
                yield MqttSettings(url=f"mqtt://127.0.0.1:{port}", topic_prefix=prefix)
            finally:
                process.terminate()
                process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--broker", choices=["embedded", "mosquitto", "system"], default="embedded")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1, help="readings per message")
    parser.add_argument("--hubs", type=int, default=200)
    parser.add_argument("--publishers", type=int, default=2)
    args = parser.parse_args()

    prefix = f"bench{uuid.uuid4().hex[:6]}/v1"
    with broker(args.broker, prefix) as mqtt, tempfile.TemporaryDirectory() as tmp:
        state = StateStore.open(f"sqlite:///{Path(tmp) / 'state.db'}")
        readings = SqliteReadingStore(Path(tmp) / "readings.db")
        state.registry.add_grid(Grid("g", "g"))
        hubs = [f"h-{i:05d}" for i in range(args.hubs)]
        for hub in hubs:
            state.registry.add_household(Household(f"hh-{hub}", Tier.GREEN, "g"), now=time.time())
            state.registry.add_hub(Hub(hub, f"hh-{hub}"), now=time.time())
            state.consent.record(Consent(f"hh-{hub}", "elder", "self", sensing=True, share_with_family=False,
                                         given_at=time.time()), actor=Actor("bench"), now=time.time())
        metrics = Metrics()
        gateway = Gateway(mqtt=mqtt, settings=GatewaySettings(), readings=readings, state=state,
                          clock=SystemClock(), metrics=metrics)
        gateway.start()
        per_worker = args.messages // args.publishers
        expected = per_worker * args.publishers * args.batch
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=publish, args=(mqtt, hubs, per_worker, args.batch, w))
                   for w in range(args.publishers)]
        started = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        published = time.perf_counter() - started
        last, still = -1, time.monotonic()
        while (stored := readings.count()) < expected:
            if stored != last:
                last, still = stored, time.monotonic()
            elif time.monotonic() - still > 10:
                break  # nothing new for 10 s: the rest is not coming
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        gateway.stop()
        readings.close()
        state.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    messages = per_worker * args.publishers
    print(f"broker={args.broker} messages={messages} readings_per_message={args.batch} "
          f"hubs={args.hubs} publishers={args.publishers} (separate processes, QoS 1)")
    print(f"  published in {published:.2f} s; last reading stored after {elapsed:.2f} s")
    print(f"  stored {stored:,}/{expected:,} readings ({expected - stored:,} lost)  ->  "
          f"{messages * stored / expected / elapsed:,.0f} messages/s, {stored / elapsed:,.0f} readings/s")
    print(f"  peak RSS of the gateway process (with the embedded broker if used): {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
