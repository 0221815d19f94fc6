"""Dispatch's care round (五色五访 reminders, colour suggestions) over a large community. Prints figures.

    python -m benchmarks.care_rounds                     # 20,000 households, 30 visits each
    python -m benchmarks.care_rounds --households 2000

A round looks at every household once a minute: the first look owes every overdue reminder at
once, the next ones find them owed already and must stay cheap.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from dispatch.care import CareRounds
from shouwang.clock import FastClock
from shouwang.domain.model import Grid, Role
from shouwang.settings import CareSettings, DispatchSettings
from shouwang.storage.database import writing
from shouwang.storage.schema import households, visits
from shouwang.storage.state import StateStore

NOW = 1_790_000_000.0
PER_GRID = 500


def community(state: StateStore, n: int, visits_each: int, seed: int) -> None:
    rng = random.Random(seed)
    for g in range(n // PER_GRID + 1):
        state.registry.add_grid(Grid(f"g-{g}", f"grid {g}"))
        state.registry.add_staff(username=f"member-{g}", name=f"member {g}", role=Role.GRID_MEMBER,
                                 grid_ids=[f"g-{g}"], now=0)
    with writing(state.engine) as db:
        db.execute(insert(households), [
            {"id": f"hh-{i}", "tier": 1 + i % 5, "grid_id": f"g-{i // PER_GRID}",
             "monitoring_since": NOW - 90 * 86400, "created_at": 0} for i in range(n)])
        db.execute(insert(visits), [
            {"household_id": f"hh-{rng.randrange(n)}", "at": NOW - rng.uniform(0, 90) * 86400,
             "recorded_at": NOW} for _ in range(n * visits_each)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--visits-each", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        state = StateStore.open(f"sqlite:///{Path(folder) / 'state.db'}")
        community(state, args.households, args.visits_each, args.seed)
        care = CareRounds(settings=CareSettings(), dispatch=DispatchSettings(), state=state,
                          clock=FastClock(NOW, 1.0), senders={}, tz=ZoneInfo("Asia/Shanghai"))
        print(f"{args.households} households, {args.households * args.visits_each} visits (SQLite)")
        for label in ("first look", "next look", "next look"):
            start = time.perf_counter()
            owed = care.look(NOW)
            print(f"  {label:<10} {time.perf_counter() - start:6.2f} s   {owed} reminders owed")
        state.close()


if __name__ == "__main__":
    main()
