"""API latency under a steady load: list-alerts and acknowledge, p50/p99 at a fixed rate.

    python -m benchmarks.api_latency                       # 200 requests/s, 15 s per scenario
    python -m benchmarks.api_latency --rate 400 --seconds 10 --households 5000

The API runs in its own process (uvicorn, one worker, SQLite state store: what `shouwang run`
serves), over a community of `--households` homes each with an open alert. Requests are sent
open-loop: each is due at a fixed time whatever happened to the ones before, and its latency is
counted from when it was due, so a slow server cannot hide its queue (no coordinated omission).
Goal from issue 4: p99 under 50 ms at 200 requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shouwang.broker import free_port
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import Grid, Household, Hub, Role, Tier
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.state import StateStore

GRIDS = 20


def prepare(folder: Path, households: int) -> dict[str, object]:
    """A community with one open alert per household; returns tokens and alert ids."""
    state = StateStore.open(f"sqlite:///{folder / 'state.db'}")
    now = time.time()
    registry = state.registry
    for g in range(GRIDS):
        registry.add_grid(Grid(f"g-{g:02d}", f"网格 {g}"))
    leader = registry.add_staff(username="leader", name="leader", role=Role.DUTY_LEADER, now=now)
    member = registry.add_staff(username="member", name="member", role=Role.GRID_MEMBER,
                                grid_ids=["g-00"], now=now)
    alert_ids = []
    for i in range(households):
        home = f"h-{i:05d}"
        registry.add_household(Household(home, Tier(i % 5 + 1), f"g-{i % GRIDS:02d}",
                                          alias=f"住户{i}", address=f"{i}号"), now=now)
        registry.add_hub(Hub(f"hub-{i:05d}", home), now=now)
        state.consent.record(Consent(home, f"住户{i}", "self", True, False, now),
                             actor=Actor("bench"), now=now)
        alert = state.alerts.open(Finding(home, AlertKind.INACTIVITY, Severity.URGENT,
                                          now - 43_200, "no water, power or door"), now=now)
        assert alert is not None
        alert_ids.append(alert.id)
    tokens = {"leader": registry.issue_token(leader.id, name="bench", now=now),
              "member": registry.issue_token(member.id, name="bench", now=now)}
    state.close()
    return {"tokens": tokens, "alerts": alert_ids}


def serve(folder: Path, port: int) -> None:
    """Run the API over the prepared stores until killed (the child process)."""
    import uvicorn

    from api.app import create_app
    from api.context import ApiContext
    from shouwang.clock import SystemClock
    from shouwang.metrics import Metrics
    from shouwang.settings import Settings
    from shouwang.storage.readings_sqlite import SqliteReadingStore

    settings = Settings(storage={"data_dir": folder})
    context = ApiContext(settings=settings, state=StateStore.open(f"sqlite:///{folder}/state.db"),
                         readings=SqliteReadingStore(folder / "readings.db"), clock=SystemClock(),
                         metrics=Metrics())
    uvicorn.run(create_app(context), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float

    def line(self) -> str:
        xs = sorted(self.latencies_ms)
        if not xs:
            return f"{self.name:<34} no successful requests, {self.errors} errors"

        def pct(p: float) -> float:
            return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]

        rate = (len(xs) + self.errors) / self.seconds
        return (f"{self.name:<34} {rate:6.0f}/s  n={len(xs):<5} p50 {pct(50):6.1f} ms  "
                f"p90 {pct(90):6.1f}  p99 {pct(99):6.1f}  max {xs[-1]:6.1f}  "
                f"mean {statistics.fmean(xs):5.1f}  errors {self.errors}")


async def load(name: str, client: httpx.AsyncClient, requests: list[tuple[str, str, str]],
               rate: float) -> Result:
    """Send each request at its due time (open loop); latency counts from the due time."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.05

    async def one(i: int, method: str, path: str, token: str) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            response = await client.request(method, path,
                                             headers={"Authorization": f"Bearer {token}"})
            ok = response.status_code < 400
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append(1000 * (time.perf_counter() - due))
        else:
            errors += 1

    await asyncio.gather(*(one(i, *r) for i, r in enumerate(requests)))
    return Result(name, latencies, errors, time.perf_counter() - start)


async def run(url: str, plan: dict[str, object], rate: float, seconds: float) -> list[Result]:
    tokens: dict[str, str] = plan["tokens"]  # type: ignore[assignment]
    alerts: list[int] = plan["alerts"]  # type: ignore[assignment]
    n = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        warm = [("GET", "/alerts?limit=50", tokens["leader"])] * 50
        await load("warm-up", client, warm, 50)
        results = [
            await load("list alerts (leader, page of 50)", client,
                       [("GET", "/alerts?state=unresolved&limit=50", tokens["leader"])] * n,
                       rate),
            await load("list alerts (grid member)", client,
                       [("GET", "/alerts?state=unresolved&limit=50", tokens["member"])] * n,
                       rate),
            await load("acknowledge (each a new alert)", client,
                       [("POST", f"/alerts/{a}/acknowledge", tokens["leader"])
                        for a in alerts[:n]], rate),
        ]
        mixed = []
        rest = iter(alerts[n:])
        for i in range(n):
            if i % 4 == 0 and (a := next(rest, None)) is not None:
                mixed.append(("POST", f"/alerts/{a}/acknowledge", tokens["leader"]))
            else:
                mixed.append(("GET", "/alerts?state=unresolved&limit=50", tokens["leader"]))
        results.append(await load("mixed: 3 lists : 1 acknowledge", client, mixed, rate))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="per scenario")
    parser.add_argument("--households", type=int, default=None,
                        help="homes, each with an open alert (default: enough to acknowledge)")
    parser.add_argument("--serve", nargs=2, metavar=("FOLDER", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return
    households = args.households or int(args.rate * args.seconds * 1.3) + 100
    with tempfile.TemporaryDirectory(prefix="shouwang-bench-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        plan = prepare(folder, households)
        print(f"prepared {households} households with an open alert each "
              f"in {time.perf_counter() - began:.1f} s")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.api_latency", "--serve",
                                   str(folder), str(port)])
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"API: uvicorn, 1 worker, SQLite state; open-loop load at {args.rate:g} "
                  f"requests/s for {args.seconds:g} s per scenario; latency from due time")
            for result in asyncio.run(run(url, plan, args.rate, args.seconds)):
                print(result.line())
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
