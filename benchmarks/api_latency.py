"""API latency under a steady load: list-alerts and acknowledge, p50/p99 at a fixed rate.

    python -m benchmarks.api_latency                       # 200 requests/s, 15 s per scenario
    python -m benchmarks.api_latency --rate 400 --seconds 10 --households 5000
    python -m benchmarks.api_latency --backlog 3000        # also: 3,000 alerts unresolved at once

The API runs in its own process (uvicorn, one worker unless --workers, SQLite state store: what
`shouwang run` serves) over a community of `--households` homes with a history of resolved alerts and a few
dozen unresolved, as a community has on a normal day. Acknowledging needs a fresh open alert per
request, so each acknowledge scenario first opens that many (and closes them afterwards).
Requests are sent open-loop: each is due at a fixed time whatever happened to the ones before,
and its latency is counted from when it was due, so a slow server cannot hide its queue.
Goal from issue 4: p99 under 50 ms at 200 requests per second. The server's CPU per request is
printed too: on a machine whose cores are busy with other work, queueing dominates the latency;
the README's Benchmarks section has measured figures and what they mean.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import insert, update

from shouwang.broker import free_port
from shouwang.domain.model import Grid, Role
from shouwang.storage.schema import alerts, consents, households, hubs
from shouwang.storage.state import StateStore

GRIDS = 20
CONNECTIONS = 64
HISTORY_PER_HOME = 10
OPEN_ALERTS = 40
KINDS = ("inactivity", "no_water", "hub_offline", "water_running", "gas_running")


def _alert_row(household: str, kind: str, state: str, at: float) -> dict[str, object]:
    return {"household_id": household, "kind": kind, "state": state, "severity": "urgent",
            "opened_at": at, "since": at - 43_200, "explanation": "no water, power or door",
            "escalation_level": 0, "notified_level": 0, "details": {},
            "outcome": "elder_fine" if state == "resolved" else None,
            "resolved_at": at + 600 if state == "resolved" else None}


def prepare(folder: Path, homes: int) -> dict[str, str]:
    """Grids, staff, households with hubs and consent, and their alert history."""
    state = StateStore.open(f"sqlite:///{folder / 'state.db'}")
    now = time.time()
    registry = state.registry
    for g in range(GRIDS):
        registry.add_grid(Grid(f"g-{g:02d}", f"网格 {g}"))
    leader = registry.add_staff(username="leader", name="leader", role=Role.DUTY_LEADER, now=now)
    member = registry.add_staff(username="member", name="member", role=Role.GRID_MEMBER,
                                grid_ids=["g-00"], now=now)
    ids = [f"h-{i:05d}" for i in range(homes)]
    with state.engine.begin() as db:
        db.execute(insert(households), [
            {"id": h, "tier": i % 5 + 1, "grid_id": f"g-{i % GRIDS:02d}", "alias": f"住户{i}",
             "address": f"{i}号", "monitoring_since": now - 90 * 86400, "created_at": now}
            for i, h in enumerate(ids)])
        db.execute(insert(hubs), [{"id": f"hub-{h}", "household_id": h,
                                   "report_interval_s": 900.0, "created_at": now} for h in ids])
        db.execute(insert(consents), [
            {"household_id": h, "given_by": h, "relationship": "self", "sensing": True,
             "share_with_family": False, "given_at": now, "recorded_at": now} for h in ids])
        db.execute(insert(alerts), [
            _alert_row(h, KINDS[k % 5], "resolved", now - 86400 * (HISTORY_PER_HOME - k))
            for k in range(HISTORY_PER_HOME) for h in ids])
        db.execute(insert(alerts), [_alert_row(h, "inactivity", "open", now)
                                    for h in ids[:OPEN_ALERTS]])
    tokens = {"leader": registry.issue_token(leader.id, name="bench", now=now),
              "member": registry.issue_token(member.id, name="bench", now=now)}
    state.close()
    return tokens


def open_alerts(folder: Path, count: int, kind: str) -> list[int]:
    """Open `count` alerts of `kind` (one per household) for an acknowledge scenario."""
    state = StateStore.open(f"sqlite:///{folder / 'state.db'}")
    with state.engine.begin() as db:
        homes = [f"h-{i:05d}" for i in range(OPEN_ALERTS, OPEN_ALERTS + count)]
        db.execute(insert(alerts), [_alert_row(h, kind, "open", time.time()) for h in homes])
        found = db.execute(alerts.select().where(alerts.c.kind == kind,
                                                 alerts.c.state == "open")).all()
    state.close()
    return [r.id for r in found]


def close_alerts(folder: Path, ids: list[int]) -> None:
    state = StateStore.open(f"sqlite:///{folder / 'state.db'}")
    with state.engine.begin() as db:
        db.execute(update(alerts).where(alerts.c.id.in_(ids))
                   .values(state="resolved", outcome="elder_fine", resolved_at=time.time()))
    state.close()


def app_factory() -> object:
    """The API over the prepared stores (each uvicorn worker process builds its own)."""
    import os

    from api.app import create_app
    from api.context import ApiContext
    from shouwang.clock import SystemClock
    from shouwang.metrics import Metrics
    from shouwang.settings import Settings, StorageSettings
    from shouwang.storage.readings_sqlite import SqliteReadingStore

    folder = Path(os.environ["SHOUWANG_BENCH_FOLDER"])
    context = ApiContext(settings=Settings(storage=StorageSettings(data_dir=folder)),
                         state=StateStore.open(f"sqlite:///{folder}/state.db"),
                         readings=SqliteReadingStore(folder / "readings.db"), clock=SystemClock(),
                         metrics=Metrics())
    return create_app(context)


def serve(folder: Path, port: int, workers: int) -> None:
    """Run the API until killed (the child process)."""
    import os

    import uvicorn

    os.environ["SHOUWANG_BENCH_FOLDER"] = str(folder)
    uvicorn.run("benchmarks.api_latency:app_factory", factory=True, host="127.0.0.1", port=port,
                workers=workers, log_level="warning", access_log=False)


def server_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the server process and its worker processes (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float
    server_cpu_s: float = 0.0

    def line(self) -> str:
        xs = sorted(self.latencies_ms)
        if not xs:
            return f"{self.name:<42} no successful requests, {self.errors} errors"

        def pct(p: float) -> float:
            return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]

        rate = (len(xs) + self.errors) / self.seconds
        return (f"{self.name:<42} {rate:4.0f}/s n={len(xs):<5} p50 {pct(50):6.1f} ms  "
                f"p90 {pct(90):6.1f}  p99 {pct(99):6.1f}  max {xs[-1]:6.1f}  "
                f"mean {statistics.fmean(xs):6.1f}  errors {self.errors}  "
                f"server CPU {1000 * self.server_cpu_s / (len(xs) + self.errors):4.1f} ms/request")


Request = tuple[str, str, str]


class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand so that the load generator costs a
    small fraction of what it measures (an HTTP client library cost as much as the server)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                          f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
                          .encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status


async def load(name: str, pool: asyncio.Queue[Connection], requests: list[Request],
               rate: float, server_pid: int) -> Result:
    """Send each request at its due time (open loop); latency counts from the due time."""
    cpu_before = server_cpu_s(server_pid)
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.05

    async def one(i: int, method: str, path: str, token: str) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        connection = await pool.get()
        try:
            ok = await connection.request(method, path, token) < 400
        except (OSError, asyncio.IncompleteReadError, ValueError):
            ok, connection.writer = False, None
        finally:
            pool.put_nowait(connection)
        if ok:
            latencies.append(1000 * (time.perf_counter() - due))
        else:
            errors += 1

    await asyncio.gather(*(one(i, *r) for i, r in enumerate(requests)))
    return Result(name, latencies, errors, time.perf_counter() - start,
                  server_cpu_s(server_pid) - cpu_before)


async def scenarios(port: int, pid: int, folder: Path, tokens: dict[str, str], rate: float,
                    seconds: float, backlog: int) -> list[Result]:
    n = int(rate * seconds)
    leader, member = tokens["leader"], tokens["member"]
    newest = ("GET", "/alerts?limit=50", leader)
    unresolved = ("GET", "/alerts?state=unresolved&limit=50", member)
    results = []
    client: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        client.put_nowait(Connection("127.0.0.1", port))
    await load("warm-up", client, [newest] * 100, 50, pid)
    results.append(await load("list alerts, newest 50 (leader)", client, [newest] * n, rate,
                              pid))
    results.append(await load("list unresolved alerts (grid member)", client,
                              [unresolved] * n, rate, pid))
    pool = open_alerts(folder, n, "no_water")
    results.append(await load("acknowledge (each a new alert)", client,
                              [("POST", f"/alerts/{a}/acknowledge", leader) for a in pool],
                              rate, pid))
    close_alerts(folder, pool)
    pool = open_alerts(folder, n // 4 + 1, "hub_offline")
    mixed = [("POST", f"/alerts/{pool[i // 4]}/acknowledge", leader) if i % 4 == 0
             else newest for i in range(n)]
    results.append(await load("mixed: 3 lists to 1 acknowledge", client, mixed, rate, pid))
    close_alerts(folder, pool)
    if backlog:
        pool = open_alerts(folder, backlog, "water_running")
        results.append(await load(f"list unresolved, {backlog + OPEN_ALERTS} unresolved "
                                  "(leader)", client,
                                  [("GET", "/alerts?state=unresolved&limit=50", leader)] * n,
                                  rate, pid))
        close_alerts(folder, pool)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="per scenario")
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--backlog", type=int, default=0,
                        help="also list with this many alerts unresolved at once (a disaster)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--serve", nargs=3, metavar=("FOLDER", "PORT", "WORKERS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), int(args.serve[2]))
        return
    if args.households < OPEN_ALERTS + args.rate * args.seconds + max(args.backlog, 0):
        parser.error("--households must cover the open alerts each scenario needs")
    with tempfile.TemporaryDirectory(prefix="shouwang-bench-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        tokens = prepare(folder, args.households)
        print(f"{args.households} households in {GRIDS} grids, "
              f"{args.households * HISTORY_PER_HOME} resolved alerts, {OPEN_ALERTS} unresolved "
              f"(prepared in {time.perf_counter() - began:.1f} s)")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.api_latency", "--serve",
                                   str(folder), str(port), str(args.workers)])
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"API: uvicorn, {args.workers} worker(s), SQLite state store; open-loop load at "
                  f"{args.rate:g} "
                  f"requests/s for {args.seconds:g} s per scenario; latency from the due time")
            for result in asyncio.run(scenarios(port, server.pid, folder, tokens, args.rate,
                                                args.seconds, args.backlog)):
                print(result.line(), flush=True)
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
