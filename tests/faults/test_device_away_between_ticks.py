"""Found by a regression tester: a device's absence either opens a device alert or does not restart
the home's silence. With ticks once a minute, an absence that reached hub_offline_after_s between
two ticks and ended before the next restarted the silence without ever being alerted on; an
absence now restarts it only once a tick past the limit has passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from shouwang.domain.model import StoredReading
from tests.faults.test_device_dropping_out import (  # noqa: F401  (fixtures)
    HOUSEHOLD,
    StillClock,
    detector,
    lwt,
    stores,
)
from tests.faults.test_device_mostly_away import fixed_detector
from tests.unit.detector.helpers import at


def first_alert(svc, state, clock, *, cycle_min: int):  # type: ignore[no-untyped-def]
    """The plug goes offline 1 s after a tick and comes back 45 min 30 s later (2730 s >=
    hub_offline_after_s 2700), every `cycle_min` minutes; ticks every 60 s, as the service does."""
    t0 = at(15, 8.0)
    for minutes in range(0, 24 * 60):
        tick = t0 + minutes * 60
        clock.t = tick
        if minutes % 15 == 0:
            svc.observe(StoredReading(HOUSEHOLD, "h-sim-0001", "door", tick, 0.0), tick)
        phase = minutes % cycle_min
        if phase == 46:  # back 30 s before minute 46: 45 min 29 s after it went
            clock.t = tick - 30
            svc._handle([lwt("Online", clock.t)])
            clock.t = tick
        svc.tick(tick)
        if phase == 0:  # gone just after this tick
            clock.t = tick + 1
            svc._handle([lwt("Offline", clock.t)])
            clock.t = tick
        alerts = [a for a in state.alerts.unresolved() if a.household_id == HOUSEHOLD]
        if alerts:
            return alerts[0].kind, minutes / 60
    return None, None


@pytest.mark.parametrize("algorithm", ["learned", "fixed"])
def test_an_absence_longer_than_the_limit_between_ticks_is_alerted(
        tmp_path: Path, stores, algorithm: str) -> None:  # noqa: F811
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    svc = (detector if algorithm == "learned" else fixed_detector)(tmp_path, state, readings, clock)
    svc.warm_up()
    kind, hours = first_alert(svc, state, clock, cycle_min=55)
    assert kind is not None and hours <= 12, f"first alert: {kind} after {hours} h"
