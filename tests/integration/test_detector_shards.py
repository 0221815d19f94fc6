"""Detectors sharded by household (`shouwang detector --shard k/n`): each hears every hub but
watches, and alerts for, only the households of its shard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cli.bootstrap import make_detector
from detector.service import DetectorService, snapshot_file
from shouwang.contract.topics import reading_topic
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import Grid, Household, Hub, StoredReading, Tier
from shouwang.domain.shards import Shard, shard_of
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import MqttSettings, Settings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.schema import detector_shards
from shouwang.storage.state import StateStore
from shouwang.storage.status import HouseholdStatus
from tests.integration.test_detector_service import StillClock
from tests.support import wait_for
from tests.unit.detector.helpers import TZ, at

pytestmark = pytest.mark.broker


def households_one_per_shard() -> dict[int, str]:
    """A household id for each of two shards."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < 2:
        found.setdefault(shard_of(f"hh-{n}", 2), f"hh-{n}")
        n += 1
    return found


def test_two_shards_split_the_households_and_each_alerts_only_for_its_own(
    tmp_path: Path, sqlite_url: str, embedded_mqtt: MqttSettings,
) -> None:
    homes = households_one_per_shard()
    t0 = at(15, 8.0)
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    state.registry.add_grid(Grid("g-01", "east"))
    for household_id in homes.values():
        state.registry.add_household(Household(household_id, Tier.RED, "g-01"), now=t0)
        state.registry.add_hub(Hub(f"h-{household_id}", household_id), now=t0)
        state.consent.record(Consent(household_id, "elder", "self", sensing=True, share_with_family=False,
                                     given_at=t0), actor=Actor("test"), now=t0)
    settings = Settings(storage={"data_dir": tmp_path}, detector={"algorithm": "fixed"})
    clock = StillClock(t0)
    services = {k: DetectorService(mqtt=embedded_mqtt, settings=settings.detector, gateway=settings.gateway,
                                   detector=make_detector(settings),
                                   readings=readings, state=state, clock=clock, metrics=Metrics(),
                                   tz=TZ, snapshot_dir=tmp_path, shard=Shard(k, 2))
                for k in homes}
    hub = MqttClient(embedded_mqtt, client_id=f"{embedded_mqtt.client_id_prefix}-hubs")
    for service in services.values():
        service.start()
    hub.start()
    try:
        clock.t = t0 + 75 * 60
        for household_id in homes.values():  # water drawn without a pause for 70 minutes, in each home
            for minute in range(71):
                hub.publish(reading_topic(embedded_mqtt.topic_prefix, f"h-{household_id}", "water"),
                            json.dumps({"ts": t0 + 60 * minute, "value": 1.0 + 0.002 * minute}))
        assert hub.drain()
        last = t0 + 70 * 60
        for k, household_id in homes.items():  # every reading, not only the first: the tick judges them all
            wait_for(lambda s=services[k], h=household_id: h in s.homes
                     and s.homes[h].hub_seen_at.get(f"h-{h}") == last, what=f"shard {k} to hear all of {household_id}")
        for service in services.values():
            service.tick(clock.now())
        assert {k: sorted(s.homes) for k, s in services.items()} == {k: [h] for k, h in homes.items()}
        assert {s.client_id for s in services.values()} == {
            f"{embedded_mqtt.client_id_prefix}-detector-{k}-of-2" for k in homes}
        running = sorted(a.household_id for a in state.alerts.list() if a.kind is AlertKind.WATER_RUNNING)
        # Each home's alert, once: only its own shard holds the home's state to find it from.
        assert running == sorted(homes.values())
    finally:
        hub.stop()
        for service in services.values():
            service.stop()
        readings.close()
        state.close()
    assert snapshot_file(Shard(1, 2)) != snapshot_file(Shard(2, 2))


def test_a_shard_down_for_a_day_counts_its_outage_from_its_own_last_save(
    tmp_path: Path, sqlite_url: str, embedded_mqtt: MqttSettings,
) -> None:
    """Found by a tester: the outage was counted from the newest save of any shard, so a shard down
    for a day beside another still running looked down for a minute."""
    homes = households_one_per_shard()
    t0 = at(15, 8.0)
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    state.registry.add_grid(Grid("g-01", "east"))
    for household_id in homes.values():
        state.registry.add_household(Household(household_id, Tier.RED, "g-01"), now=t0 - 3 * 86400)
    saved = {1: t0 - 86400, 2: t0 - 60}  # shard 1 stopped a day ago; shard 2 saved a minute ago
    state.status.save([HouseholdStatus(homes[k], None, None, None, None, saved[k]) for k in homes])
    settings = Settings(storage={"data_dir": tmp_path}, detector={"algorithm": "fixed"})
    service = DetectorService(mqtt=embedded_mqtt, settings=settings.detector, gateway=settings.gateway,
                              detector=make_detector(settings), readings=readings, state=state,
                              clock=StillClock(t0), metrics=Metrics(), tz=TZ, snapshot_dir=tmp_path,
                              shard=Shard(1, 2))
    try:
        service.warm_up()
        assert service.down == (t0 - 86400, t0)
    finally:
        readings.close()
        state.close()


def test_a_restarted_shard_does_not_take_its_homes_real_hub_outage_for_its_own_downtime(
        tmp_path: Path, sqlite_url: str) -> None:
    """Found by a regression tester: status rows are saved only on a sign of life, so a shard whose
    homes were all silent (a building's internet down) took their silence for its own downtime,
    and judged the hub-offline alert afresh from the restart."""
    homes = households_one_per_shard()
    now = at(20, 10.0)
    since = now - 20 * 3600
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    try:
        state.registry.add_grid(Grid("g-01", "east"))
        for household_id in homes.values():
            state.registry.add_household(Household(household_id, Tier.RED, "g-01", monitoring_since=since),
                                         now=since)
            state.registry.add_hub(Hub(f"h-{household_id}", household_id), now=since)
            state.consent.record(Consent(household_id, "elder", "self", sensing=True, share_with_family=False,
                                         given_at=since), actor=Actor("test"), now=since)
        # shard 1's home: its hub went silent 5 hours ago (its network is down); shard 2's home is
        # heard until a minute ago. Detector 1/2 ran all along, saw it, and opened hub_offline.
        last = {1: now - 5 * 3600, 2: now - 60}
        for k, household_id in homes.items():
            ts = since
            batch = []
            while ts <= last[k]:
                batch.append(StoredReading(household_id, f"h-{household_id}", "water", ts, 10.0))
                ts += 900
            readings.write(batch)
        state.status.save([HouseholdStatus(homes[k], None, None, None, None, last[k]) for k in homes])
        opened = state.alerts.open(Finding(homes[1], AlertKind.HUB_OFFLINE, Severity.URGENT, last[1],
                                           "hub silent", {"hub_id": f"h-{homes[1]}"}), now=last[1] + 2700)
        assert opened is not None
        state.shards.beat("1/2 before", Shard(1, 2), clock_at=now - 60)  # it ran until a minute ago
        # detector 1/2 is restarted (an upgrade, a minute's downtime)
        settings = Settings(storage={"data_dir": tmp_path}, detector={"algorithm": "fixed"})
        clock = StillClock(now)
        service = DetectorService(mqtt=settings.mqtt, settings=settings.detector, gateway=settings.gateway,
                                  detector=make_detector(settings), readings=readings, state=state,
                                  clock=clock, metrics=Metrics(), tz=TZ, snapshot_dir=tmp_path,
                                  shard=Shard(1, 2))
        service.warm_up()
        service.tick(clock.t)
        # before: down == (now - 5 h, now), the hub's own silence counted as the detector's outage
        assert service.down is None or service.down[0] > now - 3600, service.down
        still = [a for a in state.alerts.list()
                 if a.household_id == homes[1] and a.kind is AlertKind.HUB_OFFLINE and a.resolved_at is None]
        assert still, "the hub silent for 5 hours is no longer called offline after the restart"
    finally:
        readings.close()
        state.close()


def test_a_detector_says_it_runs_between_ticks_too(
    tmp_path: Path, sqlite_url: str, embedded_mqtt: MqttSettings,
) -> None:
    """Found by a regression tester: the beat went only with a tick, so detectors ticking every two
    minutes (a valid setting) or one slow tick were "missing" to the others, who wait 3.5 beats."""
    state = StateStore.open(sqlite_url)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    settings = Settings(storage={"data_dir": tmp_path},
                        detector={"algorithm": "fixed", "tick_s": 3600, "shard_check_s": 0.2})
    service = DetectorService(mqtt=embedded_mqtt, settings=settings.detector, gateway=settings.gateway,
                              detector=make_detector(settings), readings=readings, state=state,
                              clock=StillClock(at(15, 8.0)), metrics=Metrics(), tz=TZ, snapshot_dir=tmp_path,
                              shard=Shard(1, 1))
    service.start()
    try:
        def beats() -> float:
            with state.engine.connect() as db:
                return float(db.execute(select(func.max(detector_shards.c.seen_at))).scalar() or 0.0)

        wait_for(lambda: beats() > 0, what="the first beat")
        first = beats()
        wait_for(lambda: beats() > first + 0.5, timeout_s=10, what="beats between ticks an hour apart")
    finally:
        service.stop()
        readings.close()
        state.close()
