"""A killed system resumes its reminders: none repeated, none skipped, the ladder climbed once.

`shouwang run` in its own process on two open red alerts (the seed of test_restart.py), the red
ladder from the settings' environment: the grid member at once, reminded every 3 seconds, the grid
head after 18 seconds. It is killed with SIGKILL between reminders, left down for two reminder
intervals, restarted, and stopped once the grid head has been reminded.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from itertools import pairwise

import pytest

from shouwang.domain.delivery import DeliveryEvent
from shouwang.storage.audit_query import AuditFilter
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.faults.test_restart import Shouwang, seed, system  # noqa: F401
from tests.support import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.slow]
EVERY_MIN, HEAD_AFTER_MIN = 0.05, 0.3
LADDER = {"red": {"remind_every_min": EVERY_MIN,
                  "steps": [{"who": ["grid_member"]}, {"after_min": HEAD_AFTER_MIN, "who": ["grid_head"]}]}}


def reminders(state: StateStore, alert_id: int) -> list[tuple[int, int, float]]:
    """(level, reminder number, when) of each reminder in the alert's trail, in order."""
    trail, _ = state.audit_query.search(AuditFilter(entity="alert", entity_id=str(alert_id)))
    return sorted((e.details["level"], e.details["reminder"], e.at) for e in trail if e.action == "reminded")


@pytest.mark.parametrize("system", ["fixed"], indirect=True)
def test_a_killed_system_resumes_reminders_without_repeating_or_skipping_one(
        system: Shouwang) -> None:  # noqa: F811
    system.env["SHOUWANG_DISPATCH__LADDERS"] = json.dumps(LADDER)
    alerts = seed(system.data, system.state_url, time.time())
    state = StateStore.open(system.state_url)
    readings = SqliteReadingStore(system.data / "readings.db")
    try:
        system.start()
        system.heartbeat(readings)
        wait_for(lambda: all(len(reminders(state, a)) >= 2 for a in alerts.values()), timeout_s=60,
                 what="two reminders to the grid member")
        system.end(signal.SIGKILL)
        time.sleep(2 * 60 * EVERY_MIN)  # two reminders' time with nobody running
        system.start()
        system.heartbeat(readings)
        wait_for(lambda: all(any(level == 1 for level, _, _ in reminders(state, a)) for a in alerts.values()),
                 timeout_s=90, what="the grid head reached and reminded")
        system.end(signal.SIGTERM)
        for household_id, alert_id in alerts.items():
            seen = reminders(state, alert_id)
            for level in (0, 1):
                numbers = [n for lv, n, _ in seen if lv == level]
                assert numbers == list(range(1, len(numbers) + 1)), (household_id, seen)
                times = [at for lv, _, at in seen if lv == level]
                # never two for one step closer than its interval (a repeat after the restart)
                assert all(b - a >= 0.9 * 60 * EVERY_MIN for a, b in pairwise(times)), seen
            deliveries = state.alerts.deliveries(alert_id)
            told = Counter(d.event for d in deliveries)
            assert told[DeliveryEvent.REMINDER] == len(seen), household_id
            assert (told[DeliveryEvent.OPENED], told[DeliveryEvent.ESCALATED]) == (1, 1), household_id
    finally:
        readings.close()
        state.close()
