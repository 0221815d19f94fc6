"""Roles started together as processes on a fresh data folder (SQLite): each starts.

Before, about one start in three of two processes opening a fresh reading store together failed
with "database is locked" (switching the file to WAL mode needs its exclusive lock, and SQLite
answers at once rather than waiting), and most starts of processes creating a fresh state store
together failed with "table grids already exists" or took the half-made store for one made before
migrations. Found by the ingest benchmark's two gateways."""

from __future__ import annotations

import multiprocessing
import queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

PROCESSES = 4
TRIALS = 5


def _open_both(folder: str, barrier: Barrier, results: queue.Queue[str]) -> None:
    from shouwang.storage.readings_sqlite import SqliteReadingStore
    from shouwang.storage.state import StateStore

    barrier.wait()
    try:
        readings = SqliteReadingStore(Path(folder) / "readings.db")
        state = StateStore.open(f"sqlite:///{Path(folder) / 'state.db'}")
        state.registry.households()
        readings.close()
        state.close()
        results.put("started")
    except Exception as exc:
        results.put(repr(exc))


def test_processes_opening_a_fresh_data_folder_together_all_start(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    outcomes = []
    for trial in range(TRIALS):
        folder = tmp_path / f"data-{trial}"
        folder.mkdir()
        barrier = context.Barrier(PROCESSES)
        results = context.Queue()
        processes = [context.Process(target=_open_both, args=(str(folder), barrier, results))
                     for _ in range(PROCESSES)]
        for p in processes:
            p.start()
        outcomes += [results.get(timeout=120) for _ in processes]
        for p in processes:
            p.join(30)
    failed = [o for o in outcomes if o != "started"]
    assert not failed, f"{len(failed)} of {len(outcomes)} starts failed, e.g. {failed[0]}"
