"""Gateway ingest against the broker's own speed: hubs → Mosquitto → gateway(s) → committed.

    python -m benchmarks.ingest                                   # every scenario, private Mosquitto
    python -m benchmarks.ingest --broker system                   # the machine's Mosquitto on :1883
    python -m benchmarks.ingest --state sqlite --gateways 1 --batch 1   # one scenario
    python -m benchmarks.ingest --broker embedded --state sqlite --gateways 1   # amqtt (no raw rate)
    python -m benchmarks.ingest --state sqlite --gateways 1 --batch 1 --rounds 10   # the median of ten

In one run through the same broker and the same publishers (separate processes, as hubs are,
QoS 1), for each payload size: the raw rate (the C client `mosquitto_sub -q 1` counting what
arrives), then Shouwang's rate for each state store (SQLite, PostgreSQL) and number of gateways
(one, or two in separate processes on one MQTT v5 shared subscription), from the first publish
to the last reading committed to the reading store (SQLite). Each prints `ratio R` to the raw
rate. The private Mosquitto has deploy/'s queue settings (nothing dropped).

The raw rate of one run varies by a third between runs on the same quiet machine, more than
Shouwang's own; `--rounds N` repeats every measurement N times, each Shouwang run against the
raw rate measured just before it, and ends with each scenario's median ratio and its range.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from shouwang.broker import EmbeddedBroker, free_port
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings

PRODUCTION_QUEUE = "max_queued_messages 2000000\nmax_queued_bytes 0\nmax_inflight_messages 1000\n"
POSTGRES_URL = os.environ.get("SHOUWANG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Load:
    hubs: list[str]
    messages: int
    batch: int
    publishers: int
    base_ts: float

    @property
    def per_worker(self) -> int:
        return self.messages // self.publishers

    @property
    def sent(self) -> int:
        return self.per_worker * self.publishers


def publish(settings: MqttSettings, load: Load, worker: int, ready: Event, go: Event) -> None:
    """One hub-like publisher: plausible water registers, one sensor per hub and worker. Payloads
    are made and the connection opened before `go`, so only publishing is timed."""
    client = MqttClient(settings, client_id=f"bench-pub-{worker}-{uuid.uuid4().hex[:6]}")
    client.start()
    hubs, batch = load.hubs, load.batch
    messages = []
    for i in range(load.per_worker):
        first = (i // len(hubs)) * batch
        items = [{"ts": load.base_ts + n, "value": round(n * 0.001, 3)} for n in range(first, first + batch)]
        messages.append((f"{settings.topic_prefix}/hubs/{hubs[i % len(hubs)]}/water.w{worker}",
                         json.dumps(items[0] if batch == 1 else items)))
    ready.set()
    go.wait()
    for topic, payload in messages:
        client.publish(topic, payload, qos=1)
    client.drain(600)
    client.stop()


def run_publishers(settings: MqttSettings, load: Load) -> float:
    """Publish the load; returns when publishing began (perf_counter), once every publisher is done."""
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    readies = [context.Event() for _ in range(load.publishers)]
    workers = [context.Process(target=publish, args=(settings, load, w, readies[w], go))
               for w in range(load.publishers)]
    for w in workers:
        w.start()
    for ready in readies:
        ready.wait(120)
    started = time.perf_counter()
    go.set()
    for w in workers:
        w.join()
    return started


@contextmanager
def broker(kind: str) -> Iterator[MqttSettings]:
    prefix = f"bench{uuid.uuid4().hex[:6]}/v1"
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


def raw_rate(settings: MqttSettings, load: Load) -> float | None:
    """Messages/s from the first publish to the last arrival at `mosquitto_sub -q 1`."""
    binary = shutil.which("mosquitto_sub")
    if binary is None or settings.url is None:
        return None
    host, port = settings.url.removeprefix("mqtt://").split(":")
    sub = subprocess.Popen([binary, "-h", host, "-p", port, "-q", "1", "-C", str(load.sent),
                            "-i", f"bench-raw-{uuid.uuid4().hex[:6]}", "-t", f"{settings.topic_prefix}/hubs/#"],
                           stdout=subprocess.DEVNULL)
    time.sleep(0.5)  # subscribed
    started = run_publishers(settings, load)
    try:
        sub.wait(300)
    except subprocess.TimeoutExpired:
        sub.kill()
        return None
    return load.sent / (time.perf_counter() - started)


def run_gateway(mqtt: MqttSettings, state_url: str, readings_path: Path, client_id: str,
                ready: Event, stop: Event, cpu: Any, overrides: dict[str, str]) -> None:
    """One gateway process, as `shouwang gateway` would run it."""
    from gateway.service import Gateway
    from shouwang.clock import SystemClock
    from shouwang.metrics import Metrics
    from shouwang.settings import GatewaySettings
    from shouwang.storage.readings_sqlite import SqliteReadingStore
    from shouwang.storage.state import StateStore

    state = StateStore.open(state_url)
    readings = SqliteReadingStore(readings_path)
    gateway = Gateway(mqtt=mqtt, settings=GatewaySettings.model_validate(overrides), readings=readings, state=state,
                      clock=SystemClock(), metrics=Metrics(), client_id=client_id)
    gateway.start()
    started = time.process_time()
    ready.set()
    stop.wait()
    cpu.put(time.process_time() - started)  # every thread's: paho's network thread and the worker
    gateway.stop()
    readings.close()
    state.close()


@contextmanager
def state_store(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'state.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_URL)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"shouwang_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def register(state_url: str, hubs: list[str]) -> None:
    from shouwang.domain.model import Grid, Household, Hub, Tier
    from shouwang.storage.audit import Actor
    from shouwang.storage.consent import Consent
    from shouwang.storage.state import StateStore

    state = StateStore.open(state_url)
    now = time.time()
    state.registry.add_grid(Grid("g", "g"))
    for hub in hubs:
        state.registry.add_household(Household(f"hh-{hub}", Tier.GREEN, "g"), now=now)
        state.registry.add_hub(Hub(hub, f"hh-{hub}"), now=now)
        state.consent.record(Consent(f"hh-{hub}", "elder", "self", sensing=True, share_with_family=False,
                                     given_at=now), actor=Actor("bench"), now=now)
    state.close()


def count(readings_path: Path) -> int:
    with sqlite3.connect(readings_path, timeout=30) as db:
        return int(db.execute("SELECT count(*) FROM readings").fetchone()[0])


def shouwang_rate(mqtt: MqttSettings, load: Load, state: str, gateways: int,
                  overrides: dict[str, str]) -> tuple[float, int, float]:
    """Messages/s from the first publish to the last reading committed, readings lost, and the
    gateways' CPU seconds."""
    expected = load.sent * load.batch
    with tempfile.TemporaryDirectory() as tmp, state_store(state, Path(tmp)) as url:
        register(url, load.hubs)
        readings_path = Path(tmp) / "readings.db"
        run_id = uuid.uuid4().hex[:6]
        shared = {"protocol": "5", "shared_group": f"gw{run_id}"} if gateways > 1 else {}
        settings = mqtt.model_copy(update={"client_id_prefix": f"bench-{run_id}", **shared})
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        cpu = context.Queue()
        readies = [context.Event() for _ in range(gateways)]
        processes = [context.Process(target=run_gateway,
                                     # a client id of its own: a persistent session of an earlier
                                     # scenario would hand this one what was published since
                                     args=(settings, url, readings_path, f"bench-{run_id}-gateway-{k}",
                                           readies[k], stop, cpu, overrides))
                     for k in range(gateways)]
        for p in processes:
            p.start()
        for ready in readies:
            ready.wait(60)
        time.sleep(0.3)
        started = run_publishers(mqtt, load)
        last, still = -1, time.monotonic()
        while (stored := count(readings_path)) < expected:
            if stored != last:
                last, still = stored, time.monotonic()
            elif time.monotonic() - still > 15:
                break  # nothing new for 15 s: the rest is not coming
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stop.set()
        cpu_s = sum(cpu.get(timeout=60) for _ in processes)
        for p in processes:
            p.join(60)
    return load.sent * stored / expected / elapsed, expected - stored, cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--broker", choices=["mosquitto", "system", "embedded"], default="mosquitto")
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 100], help="readings per message")
    parser.add_argument("--state", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--gateways", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--hubs", type=int, default=200)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--gateway-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a gateway setting other than its default, e.g. batch_size=250 (repeatable)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every measurement; the end gives each scenario's median ratio")
    args = parser.parse_args()
    hubs = [f"h-{i:05d}" for i in range(args.hubs)]
    overrides = dict(setting.split("=", 1) for setting in args.gateway_setting)
    print(f"broker={args.broker} messages={args.messages:,} hubs={args.hubs} publishers={args.publishers} "
          f"(separate processes, QoS 1); cores={os.cpu_count()}"
          + "".join(f" gateway.{name}={value}" for name, value in overrides.items()))
    ratios: dict[str, list[float]] = {}
    with broker(args.broker) as mqtt:
        for round_ in range(args.rounds):
            if args.rounds > 1:
                print(f"\nround {round_ + 1} of {args.rounds}")
            for batch in args.batch:
                messages = args.messages if batch == 1 else max(args.publishers * args.hubs, args.messages // 10)
                per_hub = messages // args.publishers // args.hubs + 1
                load = Load(hubs, messages, batch, args.publishers, time.time() - per_hub * batch - 120)
                raw = raw_rate(mqtt, load)
                shown = f"{raw:,.0f} messages/s" if raw else "not measured (needs mosquitto_sub and Mosquitto)"
                print(f"\n{batch} reading(s) per message, {load.sent:,} messages")
                print(f"  raw   mosquitto_sub -q 1              {shown}")
                for state in args.state:
                    for gateways in args.gateways:
                        if gateways > 1 and args.broker == "embedded":
                            continue  # amqtt has no shared subscriptions
                        rate, lost, cpu_s = shouwang_rate(mqtt, load, state, gateways, overrides)
                        scenario = f"{batch} reading(s), {state}, {gateways} gateway(s)"
                        ratio = ""
                        if raw:
                            ratios.setdefault(scenario, []).append(rate / raw)
                            ratio = f"ratio {rate / raw:.2f}"
                        print(f"  shouwang  {state:<8} {gateways} gateway{'s' if gateways > 1 else ' '}     "
                              f"{rate:>9,.0f} messages/s  {rate * batch:>10,.0f} readings/s  lost {lost:,}  "
                              f"{ratio}  (gateway CPU {cpu_s / load.sent * 1e6:.0f} µs/message)", flush=True)
    if args.rounds > 1 and ratios:
        print(f"\nover {args.rounds} rounds, each against the raw rate measured just before it:")
        for scenario, values in ratios.items():
            print(f"  {scenario:<36} median ratio {statistics.median(values):.2f}  "
                  f"(range {min(values):.2f}–{max(values):.2f}; "
                  f"{sum(v >= 0.8 for v in values)} of {len(values)} at 0.8 or more)")

if __name__ == "__main__":
    main()
