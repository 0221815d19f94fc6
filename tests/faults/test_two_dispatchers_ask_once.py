"""Found by a regression tester: `AlertStore.add_recipients` read who was asked inside its write
transaction, but on SQLite that held only within one process (its per-file lock): pysqlite begins
a transaction at the first write, and SELECT ... FOR UPDATE locks nothing there, so two dispatch
processes on one state.db both read "nobody asked" and both asked the new grid member. Real
processes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shouwang.domain.delivery import Channel
from shouwang.storage import alerts as alert_storage
from shouwang.storage.schema import deliveries
from shouwang.storage.state import StateStore
from tests.faults.test_who_is_called_when_things_change import NOW, community, open_alert


def _ask_m2(url: str, alert_id: int, staff_id: int, barrier: threading.Barrier) -> None:
    """One dispatch process's top-up: everyone reads, then each writes (the 30 s passes overlap)."""
    original = alert_storage.queue_delivery

    def after_both_looked(*args: object, **kw: object) -> object:
        # the other process may be held by a lock: fine, it waits for this one's commit
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=3)
        return original(*args, **kw)

    alert_storage.queue_delivery = after_both_looked  # type: ignore[assignment]
    state = StateStore.open(url)
    try:
        alert = state.alerts.get(alert_id)
        state.alerts.add_recipients(alert, recipients=[(staff_id, Channel.MQTT)], reason="now on rung 0: m2",
                                    now=NOW + 31)
    finally:
        state.close()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_two_dispatch_processes_ask_a_new_recipient_once(store: str, request: pytest.FixtureRequest,
                                                          tmp_path: Path) -> None:
    url = request.getfixturevalue(f"{store}_url")
    state, staff = community(url)
    alert = open_alert(state, "hh-green")
    state.close()
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_ask_m2, args=(url, alert.id, staff["m2"].id, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0]
    state = StateStore.open(url)
    try:
        with state.engine.connect() as db:
            asked = db.execute(select(func.count()).select_from(deliveries).where(
                deliveries.c.alert_id == alert.id, deliveries.c.staff_id == staff["m2"].id)).scalar_one()
    finally:
        state.close()
    assert asked == 1, f"m2 queued {asked} times by two dispatch processes"
