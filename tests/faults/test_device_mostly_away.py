"""Found by a regression tester: between the time after which a device back restarts its home's
silence (30 minutes) and the time after which a device away is an alert (hub_offline_after_s, 45
minutes) lay a hole. A red home's only bridged device away 35 minutes and back 10, over and over
(a Zigbee device at the edge of its mesh), made the home blind most of the time, yet opened no
device alert and restarted the silence at every return: the elder's silence was never alerted on,
not even at the 12-hour ceiling. Both now turn on hub_offline_after_s."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.bootstrap import make_detector
from detector.service import DetectorService
from shouwang.domain.model import StoredReading
from shouwang.metrics import Metrics
from shouwang.settings import Settings
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.faults.test_device_dropping_out import (  # noqa: F401  (fixture)
    HOUSEHOLD,
    StillClock,
    detector,
    lwt,
    stores,
)
from tests.unit.detector.helpers import TZ, at

pytestmark = [pytest.mark.faults]


def first_alert(svc, state: StateStore, clock: StillClock, *, away_min: int, cycle_min: int):  # type: ignore[no-untyped-def]
    """From 08:00 of day 15 nobody uses anything; the plug is away `away_min` of every
    `cycle_min`. The first alert of any kind on the home, and when (hours)."""
    for minutes in range(0, 24 * 60):
        clock.t = at(15, 8.0) + minutes * 60
        if minutes % 15 == 0:
            svc.observe(StoredReading(HOUSEHOLD, "h-sim-0001", "door", clock.t, 0.0), clock.t)
        if minutes % cycle_min == 0:
            svc._handle([lwt("Offline", clock.t)])
        if minutes % cycle_min == away_min:
            svc._handle([lwt("Online", clock.t)])
        svc.tick(clock.t)
        alerts = [a for a in state.alerts.unresolved() if a.household_id == HOUSEHOLD]
        if alerts:
            return alerts[0].kind, minutes / 60
    return None, None


def fixed_detector(tmp_path: Path, state: StateStore, readings: SqliteReadingStore,
                   clock: StillClock) -> DetectorService:
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai",
                        detector={"algorithm": "fixed"})
    return DetectorService(mqtt=settings.mqtt, settings=settings.detector, gateway=settings.gateway,
                           detector=make_detector(settings), readings=readings, state=state, clock=clock,
                           metrics=Metrics(), tz=TZ, snapshot_dir=tmp_path)


@pytest.mark.parametrize("algorithm", ["learned", "fixed"])
@pytest.mark.parametrize("away_min", [35, 44])
def test_a_device_away_most_of_the_time_still_leads_to_an_alert(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore],  # noqa: F811 (the fixture)
        away_min: int, algorithm: str) -> None:
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    svc = (detector if algorithm == "learned" else fixed_detector)(tmp_path, state, readings, clock)
    svc.warm_up()
    kind, hours = first_alert(svc, state, clock, away_min=away_min, cycle_min=away_min + 10)
    # Observed: (None, None) -- 24 hours, the home blind ~80% of the time, nobody moving, no alert.
    assert kind is not None and hours <= 12, f"first alert: {kind} after {hours} h"
