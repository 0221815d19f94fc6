"""A restarted detector keeps the alerts whose condition still holds (real SQLite stores).

Each detector (the fixed rule and the learned one) is started on stores that hold an open
inactivity alert: one household whose last sign of life is 16 hours old (older than any window
the detector re-reads at start), one that never showed a sign at all. The hubs go on reporting
(flat registers every 15 minutes). A restart must neither clear these alerts nor lose what it
missed while it was down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from cli.bootstrap import make_detector
from detector.context import Context
from detector.rules import FixedRules
from detector.service import DetectorService
from detector.signs import HomeState
from shouwang.domain.alerts import AlertKind, AlertState, Finding, Severity
from shouwang.domain.model import Grid, Household, Hub, StoredReading, Tier
from shouwang.metrics import Metrics
from shouwang.settings import Settings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.integration.test_detector_service import StillClock
from tests.unit.detector.helpers import TZ, at

NOW = at(20, 10.0)
SILENT, NEVER = "hh-silent", "hh-never"
HISTORY_H = 20


def flat(household_id: str, *, sign_at: float | None, until: float = NOW) -> list[StoredReading]:
    """A hub's water meter every 15 minutes from HISTORY_H hours before NOW; a draw at `sign_at`."""
    readings = []
    value = 10.0
    for k in range(int((until - NOW) / 900) + HISTORY_H * 4 + 1):
        ts = NOW - HISTORY_H * 3600 + k * 900
        if sign_at is not None and ts >= sign_at and value == 10.0:
            value = 10.02
        readings.append(StoredReading(household_id, f"h-{household_id}", "water", ts, value))
    return readings


@pytest.fixture
def stores(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[StateStore, SqliteReadingStore]]:
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    state.registry.add_grid(Grid("g-01", "east"))
    since = NOW - HISTORY_H * 3600
    for household_id in (SILENT, NEVER):
        state.registry.add_household(Household(household_id, Tier.RED, "g-01",
                                               monitoring_since=since), now=since)
        state.registry.add_hub(Hub(f"h-{household_id}", household_id), now=since)
        state.consent.record(Consent(household_id, "elder", "self", sensing=True,
                                     share_with_family=False, given_at=since),
                             actor=Actor("test"), now=since)
    yield state, readings
    readings.close()
    state.close()


def open_alerts(state: StateStore) -> None:
    """The alerts a detector opened before its restart (with the readings they rest on)."""
    for household_id, began in ((SILENT, NOW - 16 * 3600), (NEVER, NOW - HISTORY_H * 3600)):
        state.alerts.open(Finding(household_id, AlertKind.INACTIVITY, Severity.URGENT, began,
                                  "no sign of life"), now=NOW - 3600)


def service(tmp_path: Path, state: StateStore, readings: SqliteReadingStore, clock: StillClock,
            algorithm: str) -> DetectorService:
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai",
                        detector={"algorithm": algorithm})
    return DetectorService(mqtt=settings.mqtt, settings=settings.detector,
                           gateway=settings.gateway, detector=make_detector(settings),
                           readings=readings, state=state, clock=clock, metrics=Metrics(),
                           tz=TZ, snapshot_dir=tmp_path)


@pytest.mark.parametrize("algorithm", ["fixed", "learned"])
def test_a_start_keeps_open_inactivity_alerts_whose_silence_goes_on(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], algorithm: str) -> None:
    state, readings = stores
    readings.write(flat(SILENT, sign_at=NOW - 16 * 3600) + flat(NEVER, sign_at=None))
    open_alerts(state)
    clock = StillClock(NOW)
    svc = service(tmp_path, state, readings, clock, algorithm)
    svc.warm_up()
    for _ in range(3):
        svc.tick(clock.t)
        clock.t += 60
    alerts = {a.household_id: a for a in state.alerts.list()}
    assert {h: (a.state, a.outcome) for h, a in alerts.items()} == {
        SILENT: (AlertState.OPEN, None), NEVER: (AlertState.OPEN, None)}


def run(tmp_path: Path, state: StateStore, readings: SqliteReadingStore, algorithm: str,
        now: float, *, snapshot: bool = False) -> None:
    """One life of the detector: start at `now`, judge a few ticks, die (saving if asked)."""
    clock = StillClock(now)
    svc = service(tmp_path, state, readings, clock, algorithm)
    svc.warm_up()
    for _ in range(3):
        svc.tick(clock.t)
        clock.t += 60
    if snapshot:
        svc.save_model(clock.t)


@pytest.mark.parametrize(("algorithm", "snapshot"),
                         [("fixed", False), ("learned", False), ("learned", True)])
def test_a_restarted_detector_counts_silences_from_stored_state_not_from_its_start(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], algorithm: str,
        snapshot: bool) -> None:
    state, readings = stores
    readings.write(flat(SILENT, sign_at=NOW - 16 * 3600) + flat(NEVER, sign_at=None))
    run(tmp_path, state, readings, algorithm, NOW - 14 * 3600, snapshot=snapshot)
    assert state.alerts.list() == []
    # Now the last sign is older than any window re-read at start, and the never-heard home
    # has been watched (by the first life) for 14 hours.
    run(tmp_path, state, readings, algorithm, NOW)
    alerts = {a.household_id: a for a in state.alerts.unresolved()}
    assert {h: (a.kind, a.since) for h, a in alerts.items()} == {
        SILENT: (AlertKind.INACTIVITY, NOW - 16 * 3600),
        NEVER: (AlertKind.INACTIVITY, NOW - 14 * 3600)}


@pytest.mark.parametrize("algorithm", ["fixed", "learned"])
def test_signs_stored_while_the_detector_was_down_are_caught_up(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], algorithm: str) -> None:
    state, readings = stores
    down_at, back_at = NOW - 14 * 3600, NOW + 4 * 3600
    readings.write([r for r in flat(SILENT, sign_at=NOW - 13 * 3600, until=back_at)
                    if r.ts <= down_at])
    run(tmp_path, state, readings, algorithm, down_at)
    # The gateway went on storing while the detector was down: a draw at NOW - 13 h, 17 hours
    # before the detector is back (beyond the window it re-reads by default).
    readings.write(flat(SILENT, sign_at=NOW - 13 * 3600, until=back_at))
    run(tmp_path, state, readings, algorithm, back_at)
    status = state.status.all()[SILENT]
    assert status.last_sign_at == NOW - 13 * 3600
    [alert] = [a for a in state.alerts.unresolved() if a.household_id == SILENT]
    assert alert.since == NOW - 13 * 3600


class FailsFor(FixedRules):
    """The fixed rules, judging all at once like the learned detector, and failing whenever
    one household is among those judged (its state broke the vectorised maths, say)."""

    def __init__(self, household_id: str) -> None:
        super().__init__(Settings().detector, TZ)
        self.bad = household_id
        self.calls = 0

    def assess(self, now: float, homes: Mapping[str, HomeState],
               contexts: Mapping[str, Context]) -> list[Finding]:
        self.calls += 1
        if self.bad in contexts:
            raise FloatingPointError(f"row of {self.bad}")
        return super().assess(now, homes, contexts)


def test_a_household_failing_in_a_tick_is_logged_and_skipped_and_the_others_are_judged(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore],
        caplog: pytest.LogCaptureFixture) -> None:
    state, readings = stores
    homes = [f"hh-{k}" for k in range(6)]
    for household_id in homes:
        state.registry.add_household(Household(household_id, Tier.RED, "g-01",
                                               monitoring_since=NOW - 20 * 3600), now=NOW)
        state.registry.add_hub(Hub(f"h-{household_id}", household_id), now=NOW)
        state.consent.record(Consent(household_id, "elder", "self", sensing=True,
                                     share_with_family=False, given_at=NOW - 20 * 3600),
                             actor=Actor("test"), now=NOW)
        readings.write(flat(household_id, sign_at=NOW - 13 * 3600))
    # hh-3 has an alert its readings would clear (the hub was heard since): unjudged, it stays
    offline = state.alerts.open(Finding("hh-3", AlertKind.HUB_OFFLINE, Severity.URGENT,
                                        NOW - 19 * 3600, "hub silent"), now=NOW - 18 * 3600)
    assert offline is not None
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai")
    detector = FailsFor("hh-3")
    svc = DetectorService(mqtt=settings.mqtt, settings=settings.detector,
                          gateway=settings.gateway, detector=detector, readings=readings,
                          state=state, clock=StillClock(NOW), metrics=Metrics(), tz=TZ)
    svc.warm_up()
    with caplog.at_level(logging.WARNING, logger="detector.service"):
        svc.tick(NOW)
    alerted = {(a.household_id, a.kind) for a in state.alerts.unresolved()}
    assert alerted == {(h, AlertKind.INACTIVITY) for h in homes if h != "hh-3"} | {
        ("hh-3", AlertKind.HUB_OFFLINE)}
    failed = [r.getMessage() for r in caplog.records if "household_failed" in r.getMessage()]
    assert failed == ["detector.household_failed household=hh-3 "
                      "error=FloatingPointError('row of hh-3')"]
    assert detector.calls <= 2 + 2 * 3  # the whole, the probe, two halves per level


class UnreadableFor:
    """The real reading store, except that one household's history cannot be read."""

    def __init__(self, readings: SqliteReadingStore, household_id: str) -> None:
        self.readings, self.bad = readings, household_id

    def write(self, readings: Sequence[StoredReading]) -> int:
        return self.readings.write(readings)

    def query(self, *, household_id: str, start: float, end: float,
              sensor: str | None = None) -> list[StoredReading]:
        if household_id == self.bad:
            raise OSError(f"disk I/O error reading {household_id}")
        return self.readings.query(household_id=household_id, start=start, end=end, sensor=sensor)

    def latest(self, keys: Sequence[tuple[str, str, str]], *, since: float, limit: int,
               before: float | None = None) -> dict[tuple[str, str, str], list[StoredReading]]:
        return self.readings.latest(keys, since=since, limit=limit, before=before)

    def close(self) -> None:
        self.readings.close()


@pytest.mark.parametrize("algorithm", ["fixed", "learned"])
def test_a_household_whose_history_cannot_be_read_does_not_stop_the_start(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], algorithm: str,
        caplog: pytest.LogCaptureFixture) -> None:
    state, readings = stores
    readings.write(flat(SILENT, sign_at=NOW - 13 * 3600) + flat(NEVER, sign_at=None))
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai",
                        detector={"algorithm": algorithm})
    svc = DetectorService(mqtt=settings.mqtt, settings=settings.detector,
                          gateway=settings.gateway, detector=make_detector(settings),
                          readings=UnreadableFor(readings, NEVER), state=state,
                          clock=StillClock(NOW), metrics=Metrics(), tz=TZ)
    with caplog.at_level(logging.WARNING, logger="detector.service"):
        svc.warm_up()
    svc.tick(NOW)
    assert [(a.household_id, a.kind) for a in state.alerts.unresolved()] == [
        (SILENT, AlertKind.INACTIVITY)]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "detector.household_failed household=hh-never "
        "error=OSError('disk I/O error reading hh-never')"]


@pytest.mark.parametrize(("algorithm", "snapshot"),
                         [("fixed", False), ("learned", False), ("learned", True)])
def test_the_detectors_own_downtime_is_neither_a_new_silence_nor_a_hub_outage(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], algorithm: str,
        snapshot: bool) -> None:
    # `shouwang run` was down 3 hours: nothing was stored meanwhile (the gateway was down too).
    # The hub was heard until then and is heard again after: the silence goes on across it.
    state, readings = stores
    sign_at, down_at, back_at = NOW - 11 * 3600, NOW - 10 * 3600, NOW - 7 * 3600
    readings.write([r for r in flat(SILENT, sign_at=sign_at) if r.ts <= down_at])
    run(tmp_path, state, readings, algorithm, down_at, snapshot=snapshot)
    clock = StillClock(back_at)
    svc = service(tmp_path, state, readings, clock, algorithm)
    svc.warm_up()
    svc.tick(clock.t)  # before the hub's next report
    assert [a for a in state.alerts.list() if a.household_id == SILENT] == []
    while clock.t <= sign_at + 12.5 * 3600:
        svc.observe(StoredReading(SILENT, f"h-{SILENT}", "water", clock.t, 10.02), clock.t)
        svc.tick(clock.t)
        clock.t += 900
    alerts = [a for a in state.alerts.list() if a.household_id == SILENT]
    assert [(a.kind, a.since) for a in alerts] == [(AlertKind.INACTIVITY, sign_at)]
