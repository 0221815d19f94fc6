"""The detector service against real stores (SQLite): history, visits, status and restarts."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cli.bootstrap import make_detector
from detector.service import DetectorService
from shouwang.clock import Clock
from shouwang.contract.topics import reading_topic
from shouwang.domain.alerts import AlertKind, AlertState, Outcome
from shouwang.domain.model import Grid, Household, Hub, Role, StoredReading, Tier, Visit
from shouwang.domain.usual import expected_uses
from shouwang.metrics import Metrics
from shouwang.mqtt import Message, MqttClient
from shouwang.settings import MqttSettings, Settings
from shouwang.storage.alerts import AlertFilter
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore
from tests.support import wait_for
from tests.unit.detector.helpers import START, TZ, at, simulated

HOUSEHOLD, HUB = "sim-0001", "h-sim-0001"


class StillClock:
    speed = 1.0

    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    def wait(self, seconds: float, stop: object = None) -> bool:
        self.t += seconds
        return False


@pytest.fixture
def stores(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[StateStore, SqliteReadingStore]]:
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    state.registry.add_grid(Grid("g-01", "east"))
    state.registry.add_household(Household(HOUSEHOLD, Tier.RED, "g-01", monitoring_since=START),
                                 now=START)
    state.registry.add_hub(Hub(HUB, HOUSEHOLD), now=START)
    state.consent.record(Consent(HOUSEHOLD, "elder", "self", sensing=True, share_with_family=False,
                                 given_at=START), actor=Actor("test"), now=START)
    _, events = simulated(1, 16, 21)
    readings.write([reading for _, reading in events if reading.ts < at(15, 8.0)])
    yield state, readings
    readings.close()
    state.close()


def service(tmp_path: Path, state: StateStore, readings: SqliteReadingStore,
            clock: Clock) -> DetectorService:
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai")
    return DetectorService(mqtt=settings.mqtt, settings=settings.detector,
                           gateway=settings.gateway, detector=make_detector(settings),
                           readings=readings, state=state, clock=clock, metrics=Metrics(),
                           tz=TZ, snapshot_dir=tmp_path)


def heartbeat(svc: DetectorService, now: float) -> None:
    """The hub still reports (its meters every 15 minutes) though nobody uses anything."""
    svc.observe(StoredReading(HOUSEHOLD, HUB, "door", now, 0.0), now)


def test_a_silent_morning_after_two_weeks_of_history_opens_an_explained_alert(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    for minutes in range(0, 12 * 60, 15):
        clock.t = at(15, 8.0) + minutes * 60
        heartbeat(svc, clock.t)
        svc.tick(clock.t)
        if state.alerts.unresolved():
            break
    alerts = state.alerts.unresolved()
    assert [a.kind for a in alerts] == [AlertKind.INACTIVITY]
    assert clock.t < at(15, 8.0) + 8 * 3600
    assert "this home shows about" in alerts[0].explanation
    status = state.status.all()[HOUSEHOLD]
    assert status.learned_days is not None and status.learned_days >= 10
    # The home's learned week is stored for the page, and weighs this silence as the alert did.
    rates = state.rhythm.of([HOUSEHOLD])[HOUSEHOLD]
    assert len(rates) == 168 and sum(rates) > 0
    assert expected_uses(rates, status.last_sign_at, clock.t, tz=TZ) == pytest.approx(
        svc._detector.silence_score(HOUSEHOLD, clock.t), rel=0.05)  # type: ignore[attr-defined]


def test_a_visit_is_a_sign_of_life_that_clears_the_alert(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    readings.write([StoredReading(HOUSEHOLD, HUB, "door", at(15, 8.0) + k * 900, 0.0)
                    for k in range(48)])  # the hub's heartbeats through a silent day
    clock = StillClock(at(15, 20.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    heartbeat(svc, clock.t)
    svc.tick(clock.t)
    assert [a.kind for a in state.alerts.unresolved()] == [AlertKind.INACTIVITY]
    state.visits.add(Visit(HOUSEHOLD, clock.t - 60), actor=Actor("test"), now=clock.t)
    clock.t += 60
    heartbeat(svc, clock.t)
    svc.tick(clock.t)
    assert state.alerts.unresolved() == []
    cleared = state.alerts.list()[0]
    assert cleared.state is AlertState.RESOLVED
    assert cleared.note is not None and "(a visit)" in cleared.note


def test_an_alert_staff_just_resolved_is_not_raised_again_on_the_next_tick(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    # The household registry is re-read only now and then (registry_refresh_s); when staff close
    # an alert, the detector must know at once that they checked, not at the next re-read.
    state, readings = stores
    readings.write([StoredReading(HOUSEHOLD, HUB, "door", at(15, 8.0) + k * 900, 0.0)
                    for k in range(48)])  # the hub's heartbeats through a silent day
    clock = StillClock(at(15, 20.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    heartbeat(svc, clock.t)
    svc.tick(clock.t)
    [alert] = state.alerts.unresolved()
    leader = state.registry.add_staff(username="leader", name="leader", role=Role.DUTY_LEADER,
                                          now=clock.t)
    state.alerts.resolve(alert.id, staff=leader, outcome=Outcome.ELDER_FINE, note=None,
                         now=clock.t + 5)
    clock.t += 10
    heartbeat(svc, clock.t)
    svc.tick(clock.t)
    assert state.alerts.unresolved() == []
    assert [a.id for a in state.alerts.list()] == [alert.id]


def learned_and_saved(tmp_path: Path, state: StateStore, readings: SqliteReadingStore, clock: Clock) -> int:
    """A detector warmed up on the stored history and its model saved: the days it learned."""
    first = service(tmp_path, state, readings, clock)
    first.warm_up()
    first.save_model(clock.now())
    return first.history_days_of(HOUSEHOLD)


def test_after_a_restart_the_model_comes_back_from_its_snapshot(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    learned = learned_and_saved(tmp_path, state, readings, clock)
    assert learned >= 10
    readings.write([StoredReading(HOUSEHOLD, HUB, "door", at(15, 8.5), 0.0)])
    second = service(tmp_path, state, readings, clock)
    second.warm_up()
    assert second.history_days_of(HOUSEHOLD) == learned
    assert (tmp_path / "detector-model.npz").is_file()


@pytest.mark.parametrize("damage", ["truncated", "empty", "flipped", "no population"])
def test_a_damaged_snapshot_is_relearned_from_the_readings_not_a_start_that_fails(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], damage: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a tester: a torn or damaged detector-model.npz (a disk fault, a power cut mid-write
    on a file system that does not order it) made numpy raise BadZipFile or EOFError, which the
    detector did not catch, and `shouwang run` failed to start at every restart."""
    monkeypatch.setattr(logging.getLogger("detector.service"), "disabled", True)
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    learned = learned_and_saved(tmp_path, state, readings, clock)
    path = tmp_path / "detector-model.npz"
    whole = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(whole[: len(whole) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "flipped":
        path.write_bytes(whole[:200] + bytes([whole[200] ^ 0xFF]) + whole[201:])
    else:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        header = json.loads(str(arrays["header"]))
        del header["population"]["outing_h"]
        arrays["header"] = np.array(json.dumps(header))
        with path.open("wb") as f:
            np.savez(f, **arrays)
    second = service(tmp_path, state, readings, clock)
    second.warm_up()
    assert second.history_days_of(HOUSEHOLD) == learned, "relearned from the stored readings"


def test_a_motion_sensor_stuck_for_a_day_does_not_hide_a_silent_morning_even_after_a_restart(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    """Found by a tester: a motion sensor stuck reporting movement gave a sign every two minutes,
    and the elder's silence from 08:00 was never alerted on. Stuck since the day before, its
    reports are no signs of life; the detector, started at 08:00, knows it from the stored ones."""
    state, readings = stores
    stuck = [StoredReading(HOUSEHOLD, HUB, "motion", t, 1.0) for t in np.arange(at(14, 8.0), at(15, 8.0), 120.0)]
    readings.write(stuck)
    clock = StillClock(at(15, 8.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    for minutes in range(0, 12 * 60, 2):
        clock.t = at(15, 8.0) + minutes * 60
        svc.observe(StoredReading(HOUSEHOLD, HUB, "motion", clock.t, 1.0), clock.t)
        if minutes % 15 == 0:
            heartbeat(svc, clock.t)
            svc.tick(clock.t)
            if state.alerts.unresolved():
                break
    assert [a.kind for a in state.alerts.unresolved()] == [AlertKind.INACTIVITY], "the stuck sensor hid her"
    # Later than without it (under 8 h): its first 20 hours counted, and were learned, as hers.
    assert clock.t < at(15, 8.0) + 12 * 3600
    # Found by a tester: restarted (its snapshot saved), the detector replayed 21 hours, the stuck
    # sensor's first 20 of them counted again, and the open alert was cleared, "life resumed".
    svc.save_model(clock.t)
    readings.write([StoredReading(HOUSEHOLD, HUB, "motion", t, 1.0)  # it went on while the detector was down
                    for t in np.arange(at(15, 8.0), clock.t + 3600, 120.0)])
    clock.t += 3600
    again = service(tmp_path, state, readings, clock)
    again.warm_up()
    for _ in range(4):
        clock.t += 900
        again.observe(StoredReading(HOUSEHOLD, HUB, "motion", clock.t, 1.0), clock.t)
        heartbeat(again, clock.t)
        again.tick(clock.t)
    assert [a.kind for a in state.alerts.unresolved()] == [AlertKind.INACTIVITY], "a restart cleared it"

def withdrawn(tmp_path: Path, state: StateStore, readings: SqliteReadingStore) -> tuple[DetectorService, StillClock]:
    """The household's consent to sensing withdrawn at 07:00; a detector warmed up at 08:00."""
    state.consent.record(Consent(HOUSEHOLD, "elder", "self", sensing=False, share_with_family=False,
                                 given_at=at(15, 7.0)), actor=Actor("test"), now=at(15, 7.0))
    clock = StillClock(at(15, 8.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    return svc, clock


def test_a_household_whose_consent_was_withdrawn_is_not_judged(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    svc, clock = withdrawn(tmp_path, state, readings)
    for minutes in range(0, 13 * 60, 30):
        clock.t = at(15, 8.0) + minutes * 60
        svc.tick(clock.t)
    assert state.alerts.unresolved() == []


def test_a_help_press_from_a_household_without_consent_still_opens_a_help_alert_and_nothing_else_is_read(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    """Found by a tester: every reading of a home without consent was dropped, the elder's press
    for help among them. The press is raised; the home's other readings are still not read."""
    state, readings = stores
    svc, clock = withdrawn(tmp_path, state, readings)
    svc.tick(clock.t)
    pressed = clock.t + 30
    clock.t += 60

    def message(sensor: str, ts: float, value: float) -> Message:
        return Message(reading_topic("shouwang/v1", HUB, sensor), json.dumps({"ts": ts, "value": value}).encode(),
                       1, False)

    svc._handle([message("door", pressed - 10, 1.0), message("button", pressed, 1.0)])
    help_alerts = [a for a in state.alerts.unresolved() if a.kind is AlertKind.HELP]
    assert len(help_alerts) == 1 and help_alerts[0].since == pressed
    assert help_alerts[0].household_id == HOUSEHOLD and help_alerts[0].severity.value == "urgent"
    assert HOUSEHOLD not in svc.homes, "the door and the press are not read as signs of the home"
    svc._handle([message("button", pressed, 1.0)])  # the broker's redelivery
    assert len([a for a in state.alerts.list(AlertFilter(kind=AlertKind.HELP))]) == 1
    svc._handle([message("button", pressed + 5, 0.0)])  # "I am fine" is a sign, not a call: not read
    assert HOUSEHOLD not in svc.homes


def test_a_help_press_from_an_unregistered_hub_raises_nothing(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    svc._handle([Message(reading_topic("shouwang/v1", "h-stranger", "button"),
                         json.dumps({"ts": clock.t - 5, "value": 1}).encode(), 1, False)])
    assert state.alerts.unresolved() == []

@pytest.mark.broker
def test_a_sign_of_life_is_saved_within_seconds_not_at_the_next_tick(
    tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], embedded_mqtt: MqttSettings,
) -> None:
    state, readings = stores
    now = time.time()
    settings = Settings(storage={"data_dir": tmp_path}, timezone="Asia/Shanghai", mqtt=embedded_mqtt,
                        detector={"tick_s": 3600.0, "status_flush_s": 0.5})
    svc = DetectorService(mqtt=settings.mqtt, settings=settings.detector, gateway=settings.gateway,
                          detector=make_detector(settings), readings=readings, state=state,
                          clock=StillClock(now), metrics=Metrics(), tz=TZ, snapshot_dir=tmp_path)
    svc.start()
    hub = MqttClient(embedded_mqtt, client_id="test-door-hub")
    hub.start()
    try:
        wait_for(lambda: svc.ticks >= 1, what="the detector's first tick")
        topic = reading_topic(embedded_mqtt.topic_prefix, HUB, "door")
        hub.publish(topic, json.dumps([{"ts": now - 5, "value": 1}, {"ts": now - 4, "value": 0}]), qos=1)
        status = wait_for(lambda: (s := state.status.all().get(HOUSEHOLD)) and s.last_sign_at == now - 4 and s,
                          timeout_s=10, what="the door's sign of life saved")
        assert status.last_sign_kind == "door"
        assert svc.ticks == 1, "saved between ticks (the next is an hour away)"
    finally:
        hub.stop()
        svc.stop()


def test_a_help_press_opens_an_urgent_alert_at_once_which_only_staff_close(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    svc = service(tmp_path, state, readings, clock)
    svc.warm_up()
    pressed = clock.t - 30
    message = Message(reading_topic("shouwang/v1", HUB, "button"), json.dumps({"ts": pressed, "value": 1}).encode(),
                      1, False)
    svc._handle([message])
    alerts = [a for a in state.alerts.unresolved() if a.kind is AlertKind.HELP]
    assert len(alerts) == 1 and alerts[0].severity.value == "urgent" and alerts[0].since == pressed
    clock.t += 3600
    heartbeat(svc, clock.t)
    svc.tick(clock.t)  # the tick does not clear it: she asked, and only someone who went can close it
    assert [a.id for a in state.alerts.unresolved() if a.kind is AlertKind.HELP] == [alerts[0].id]
    staff = state.registry.add_staff(username="w", name="W", role=Role.GRID_MEMBER, grid_ids=["g-01"], now=clock.t)
    state.alerts.resolve(alerts[0].id, staff=staff, outcome=Outcome.NEEDED_HELP, note=None, now=clock.t)
    svc2 = service(tmp_path, state, readings, clock)  # a restart: the broker delivers the press again
    svc2.warm_up()
    svc2._handle([message])
    assert [a for a in state.alerts.unresolved() if a.kind is AlertKind.HELP] == []


def test_a_help_press_stored_but_never_raised_is_raised_at_the_next_start_and_only_that_one(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore]) -> None:
    """Found by a storage tester: a press that came while the state store was full was kept in
    the detector's memory only, its message already acknowledged; a restart (as an operator
    freeing the disk would make) lost it for good, and the detector read the stored press back as
    a mere sign of life. A start now raises the stored presses no help alert answered."""
    state, readings = stores
    clock = StillClock(at(15, 8.0))
    staff = state.registry.add_staff(username="w", name="W", role=Role.GRID_MEMBER, grid_ids=["g-01"],
                                     now=clock.t)
    first = service(tmp_path, state, readings, clock)
    first.warm_up()
    answered, merged, lost = clock.t - 7200, clock.t - 7000, clock.t - 600
    for pressed in (answered, merged):  # the first raised an alert; the second came while it was open
        first._handle([Message(reading_topic("shouwang/v1", HUB, "button"),
                               json.dumps({"ts": pressed, "value": 1}).encode(), 1, False)])
    [alert] = [a for a in state.alerts.unresolved() if a.kind is AlertKind.HELP]
    assert alert.since == answered
    state.alerts.resolve(alert.id, staff=staff, outcome=Outcome.NEEDED_HELP, note=None, now=clock.t - 3600)
    # what the gateway stored: all three presses (the last one never raised: the store was full)
    readings.write([StoredReading(HOUSEHOLD, HUB, "button", ts, 1.0) for ts in (answered, merged, lost)])
    second = service(tmp_path, state, readings, clock)
    second.warm_up()
    [raised] = [a for a in state.alerts.unresolved() if a.kind is AlertKind.HELP]
    assert raised.since == lost and raised.severity.value == "urgent"
    third = service(tmp_path, state, readings, clock)  # started again: nothing raised twice
    third.warm_up()
    assert [a.id for a in state.alerts.list(AlertFilter(kind=AlertKind.HELP))] == [raised.id, alert.id]


def test_many_hubs_late_by_the_same_name_this_servers_clock(
        tmp_path: Path, stores: tuple[StateStore, SqliteReadingStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a tester: this server's clock an hour ahead, each hub was named late, "check each
    hub's clock"; the hubs were right and the server was not."""
    state, readings = stores
    svc = service(tmp_path, state, readings, StillClock(at(15, 8.0)))
    for late, said in (({"h-1": 3600.0, "h-2": 3590.0, "h-3": 3610.0}, "this server's clock is probably ahead"),
                       ({"h-1": 3600.0, "h-2": 600.0, "h-3": 3610.0}, "check each hub's clock")):
        monkeypatch.setattr(svc._lateness, "late", lambda late=late: late)
        svc._report_late_hubs()
        [problem] = [p for p in svc.health.report()["problems"] if p["problem"] == "hubs_late"]
        assert said in problem["message"]
