"""Dispatch latency: from an alert stored to its webhook request received, with a receiver hanging.

    python -m benchmarks.dispatch_latency                    # 1,000 alerts at 50 a second
    python -m benchmarks.dispatch_latency --alerts 3000 --rate 100

A community of `--alerts` households (SQLite state store, as `shouwang run` keeps it), each grid
with a grid member whose webhook answers at once, and one duty colleague on every grid whose
webhook receiver accepts the connection and never answers (held until the webhook timeout, then
retried, for the whole run). Alerts are opened at a fixed rate, one per household, and dispatch is
woken as the detector wakes it; the dispatcher is the real one with the default settings (32
workers, 4 in flight per receiver, 5 s webhook timeout). Latency runs from `alerts.open()` having
committed to the grid member's receiver holding the request, per alert; p50, p99 and the worst
are printed. Goal from issue 10: p99 under 1 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dispatch.senders import close, http_senders
from dispatch.service import Dispatcher
from shouwang.clock import SystemClock
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import Grid, Household, Role, Tier
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.state import StateStore

GRIDS = 20


class Receiver:
    """Notes when each alert's request arrived (perf_counter, the same process's clock)."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                at = time.perf_counter()
                receiver.arrived.setdefault(json.loads(body)["alert"]["id"], at)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/member"


class HangingReceiver:
    """Accepts connections and never answers (nor closes) until the end of the run."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.held: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/colleague"

    def close(self) -> None:
        self.stopped = True
        self.sock.close()
        for conn in self.held:
            conn.close()


def prepare(folder: Path, homes: int, fast: str, hanging: str | None) -> StateStore:
    state = StateStore.open(f"sqlite:///{folder / 'state.db'}")
    now = time.time()
    grids = [f"g-{g:02d}" for g in range(GRIDS)]
    for grid in grids:
        state.registry.add_grid(Grid(grid, grid))
        state.registry.add_staff(username=f"member-{grid}", name=f"网格员{grid}", role=Role.GRID_MEMBER,
                                 grid_ids=[grid], webhook_url=fast, notify_mqtt=False, now=now)
    if hanging:
        state.registry.add_staff(username="colleague", name="同事", role=Role.GRID_MEMBER,
                                 grid_ids=grids, webhook_url=hanging, notify_mqtt=False, now=now)
    for i in range(homes):
        state.registry.add_household(Household(f"h-{i:05d}", Tier.BLUE, grids[i % GRIDS],
                                               alias=f"住户{i}"), now=now)
    return state


def run(homes: int, rate: float, *, hang: bool = True) -> dict[str, float]:
    fast, hanging = Receiver(), HangingReceiver()
    with tempfile.TemporaryDirectory() as folder:
        state = prepare(Path(folder), homes, fast.url, hanging.url if hang else None)
        settings = DispatchSettings()
        senders = http_senders(settings, secret="benchmark-secret")
        dispatcher = Dispatcher(settings=settings, state=state, clock=SystemClock(), metrics=Metrics(),
                                senders=senders, api_url="https://sw.example.org",
                                link_secret="benchmark-links")
        dispatcher.start()
        stored: dict[int, float] = {}
        began = time.perf_counter()
        try:
            for i in range(homes):
                due = began + i / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                alert = state.alerts.open(Finding(f"h-{i:05d}", AlertKind.INACTIVITY, Severity.URGENT,
                                                  time.time() - 7200, "no water, power or door"),
                                          now=time.time())
                assert alert is not None
                stored[alert.id] = time.perf_counter()
                dispatcher.wake()
            deadline = time.perf_counter() + 30
            while len(fast.arrived) < homes and time.perf_counter() < deadline:
                time.sleep(0.05)
        finally:
            hanging.close()
            dispatcher.stop()
            close(senders)
            fast.server.shutdown()
            state.close()
    latencies = sorted(fast.arrived[a] - t for a, t in stored.items() if a in fast.arrived)
    missing = homes - len(latencies)
    return {"alerts": homes, "received": len(latencies), "missing": missing,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
            "max_ms": 1000 * latencies[-1], "held": float(len(hanging.held))}


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--alerts", type=int, default=1000, help="alerts (and households), default 1000")
    parser.add_argument("--rate", type=float, default=50.0, help="alerts opened per second, default 50")
    parser.add_argument("--no-hang", action="store_true", help="no hanging receiver, for comparison")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the hanging receiver's timeouts are expected
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f} at the start")
    result = run(args.alerts, args.rate, hang=not args.no_hang)
    print(f"{result['alerts']:.0f} alerts at {args.rate:.0f}/s, {'no' if args.no_hang else 'one'} receiver hanging "
          f"({result['held']:.0f} connections held): received {result['received']:.0f}, "
          f"missing {result['missing']:.0f}")
    print(f"stored -> webhook received: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
          f"max {result['max_ms']:.1f} ms (goal: p99 under 1000 ms)")


if __name__ == "__main__":
    main()
