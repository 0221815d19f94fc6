"""What ladders as data, the roster, leave and reminders cost a dispatch round.

    python benchmarks/ladder_rounds.py [--alerts 1000] [--rounds 20]

Registers one household per alert in grids of 50 (a member and a head each; a third of the
members on leave with a deputy), two rostered duty leaders, then opens that many help alerts
(whose ladder reminds every minute) in a SQLite state store and times dispatch rounds: the
round that routes them all, idle rounds (nothing due), and rounds in which every alert's
reminder is due. Deliveries are handed to a sender that only counts (the round never waits for a
send). Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dispatch.service import Dispatcher
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.cover import DutySlot, Leave
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Grid, Household, Role, Staff, Tier
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.audit import Actor
from shouwang.storage.schema import deliveries
from shouwang.storage.state import StateStore

NOW = 1_796_004_000.0  # Monday 2026-11-30 10:00 Asia/Shanghai
ADMIN = Actor("bench")


class HandClock:
    """Time moves only when the benchmark moves it."""

    speed = 1.0

    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    def wait(self, seconds: float, stop: Any = None) -> bool:
        return False


class Counting:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        self.sent += 1
        return "counted"


def community(state: StateStore, alerts: int) -> None:
    registry = state.registry
    for g in range(max(1, alerts // 50)):
        grid = f"g-{g:03d}"
        registry.add_grid(Grid(grid, grid))
        member = registry.add_staff(username=f"m-{g}", name="m", role=Role.GRID_MEMBER, grid_ids=[grid], now=NOW)
        deputy = registry.add_staff(username=f"d-{g}", name="d", role=Role.GRID_MEMBER, grid_ids=[], now=NOW)
        registry.add_staff(username=f"h-{g}", name="h", role=Role.GRID_HEAD, grid_ids=[grid], now=NOW)
        if g % 3 == 0:
            state.cover.add_leave(Leave(member.id, NOW - 86400, NOW + 86400, deputy.id), actor=ADMIN, now=NOW)
    day = registry.add_staff(username="day", name="day", role=Role.DUTY_LEADER, now=NOW)
    night = registry.add_staff(username="night", name="night", role=Role.DUTY_LEADER, now=NOW)
    for weekday in range(7):
        state.cover.add_slot(DutySlot(day.id, weekday, 8, 20), actor=ADMIN, now=NOW)
        state.cover.add_slot(DutySlot(night.id, weekday, 20, 8), actor=ADMIN, now=NOW)
    for i in range(alerts):
        registry.add_household(Household(f"hh-{i:05d}", Tier(1 + i % 5), f"g-{min(i // 50, alerts // 50 - 1):03d}"),
                               now=NOW)


def queued(state: StateStore) -> int:
    with state.engine.connect() as db:
        return int(db.execute(select(func.count()).select_from(deliveries)).scalar_one())


def timed(rounds: int, step: Any) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        step()
        out.append(1000 * (time.perf_counter() - started))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        state = StateStore.open(f"sqlite:///{Path(folder) / 'state.db'}")
        community(state, args.alerts)
        clock = HandClock(NOW)
        sender = Counting()
        service = Dispatcher(settings=DispatchSettings(delivery_workers=64, in_flight_per_receiver=64),
                             state=state, clock=clock, metrics=Metrics(),
                             senders={Channel.MQTT: sender}, tz=ZoneInfo("Asia/Shanghai"))
        for household in state.registry.households():
            state.alerts.open(Finding(household.id, AlertKind.HELP, Severity.URGENT, NOW, "help pressed"), now=NOW)
        routing = timed(1, service.run_once)[0]
        service.wait_idle(120)
        routed = queued(state)
        idle = timed(args.rounds, service.run_once)
        service.wait_idle(120)
        reminding = []
        for _ in range(args.rounds):
            clock.t += 61.0  # a minute on: every reminder is due
            reminding += timed(1, service.run_once)
            service.wait_idle(120)
        service.stop()
        reminded = queued(state) - routed
        state.close()
    print(f"{args.alerts} open help alerts, grids of 50 (a third of the members on leave, deputies), roster of 2")
    print(f"  routing round (all alerts, roster and leave applied): {routing:8.0f} ms, {routed} deliveries queued")
    print(f"  idle round (nothing due): median {statistics.median(idle):6.1f} ms, max {max(idle):6.1f} ms")
    print(f"  reminder round (every alert's reminder due): median {statistics.median(reminding):6.0f} ms, "
          f"max {max(reminding):6.0f} ms; {reminded} reminder deliveries queued in {args.rounds} rounds")


if __name__ == "__main__":
    main()
