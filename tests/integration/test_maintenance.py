"""Maintenance windows against the real detector service and state store: a hub or grid being
worked on raises no hub-offline alert, and the alert comes as soon as the window ends."""

from __future__ import annotations

from pathlib import Path

from shouwang.domain.alerts import AlertKind
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.integration.test_detector_service import HUB, StillClock, service, stores  # noqa: F401
from tests.unit.detector.helpers import at

TECHNICIAN = Actor("zhao", None)


def silent_hub_ticks(tmp_path: Path, state: StateStore, readings: SqliteReadingStore, hours: float) -> list[str]:
    """Tick a detector through `hours` in which the hub says nothing; the kinds of unresolved alerts."""
    clock = StillClock(at(15, 8.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    for minutes in range(0, int(hours * 60), 30):
        clock.t = at(15, 8.0) + minutes * 60
        svc.tick(clock.t)
    return sorted({a.kind.value for a in state.alerts.unresolved() if a.kind is AlertKind.HUB_OFFLINE})


def test_a_hub_under_maintenance_raises_no_hub_offline_alert_until_the_window_ends(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:  # noqa: F811
    state, readings = stores
    window = state.maintenance.add(hub_id=HUB, grid_id=None, until=at(15, 20.0), reason="更换电表",
                                   actor=TECHNICIAN, now=at(15, 7.0))
    assert silent_hub_ticks(tmp_path, state, readings, 11.5) == []
    assert silent_hub_ticks(tmp_path, state, readings, 12.5) == ["hub_offline"]  # 20:00: the window is over
    trail = state.audit.for_entity("hub", HUB)
    assert [(e.action, e.details["reason"]) for e in trail] == [("maintenance_started", "更换电表")]
    assert window.live(at(15, 19.9)) and not window.live(at(15, 20.0))


def test_a_grid_under_maintenance_silences_its_households_hubs_and_no_other_grids(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:  # noqa: F811
    state, readings = stores
    state.registry.add_grid(Grid("g-02", "west"))
    state.registry.add_household(Household("other", Tier.RED, "g-02", monitoring_since=at(1, 0.0)), now=at(1, 0.0))
    state.registry.add_hub(Hub("h-other", "other"), now=at(1, 0.0))
    state.consent.record(Consent("other", "elder", "self", sensing=True, share_with_family=False,
                                 given_at=at(1, 0.0)), actor=Actor("test"), now=at(1, 0.0))
    state.maintenance.add(hub_id=None, grid_id="g-01", until=at(16, 0.0), reason="网络改造",
                          actor=TECHNICIAN, now=at(15, 7.0))
    silent_hub_ticks(tmp_path, state, readings, 12)
    offline = {a.household_id for a in state.alerts.unresolved() if a.kind is AlertKind.HUB_OFFLINE}
    assert offline == {"other"}
