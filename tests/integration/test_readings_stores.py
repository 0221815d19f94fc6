"""The reading store contract, on SQLite always and on InfluxDB 2 when a server is named."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shouwang.domain.model import StoredReading
from shouwang.storage.ports import ReadingStore
from shouwang.storage.readings_sqlite import SqliteReadingStore

NOW = 1_750_000_000.0
INFLUX_URL = os.environ.get("SHOUWANG_TEST_INFLUX_URL")
INFLUX_SKIP = ("InfluxDB 2 adapter NOT tested: set SHOUWANG_TEST_INFLUX_URL (and _TOKEN, _ORG, "
               "_BUCKET) to run it against a real server")


@pytest.fixture(params=["sqlite", pytest.param("influx", marks=pytest.mark.influx)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadingStore]:
    if request.param == "sqlite":
        sqlite = SqliteReadingStore(tmp_path / "readings.db")
        yield sqlite
        sqlite.close()
        return
    if not INFLUX_URL:
        pytest.skip(INFLUX_SKIP)
    from shouwang.storage.readings_influx import InfluxReadingStore

    influx = InfluxReadingStore(url=INFLUX_URL, token=os.environ["SHOUWANG_TEST_INFLUX_TOKEN"],
                                org=os.environ.get("SHOUWANG_TEST_INFLUX_ORG", "shouwang"),
                                bucket=os.environ.get("SHOUWANG_TEST_INFLUX_BUCKET", "test"))
    yield influx
    influx.close()


def reading(household: str, sensor: str, ts: float, value: float, **extra: float) -> StoredReading:
    return StoredReading(household, f"h-{household}", sensor, ts, value, extra.get("power_w"),
                         int(extra["seq"]) if "seq" in extra else None)


def test_readings_come_back_in_time_order_for_their_household(store: ReadingStore) -> None:
    home = f"hh-{uuid.uuid4().hex[:8]}"
    other = f"hh-{uuid.uuid4().hex[:8]}"
    store.write([reading(home, "water", NOW + 60, 1.2, seq=2), reading(home, "water", NOW, 1.1, seq=1),
                 reading(home, "electricity", NOW + 30, 500.5, power_w=1800.0),
                 reading(other, "water", NOW, 9.0)])
    found = store.query(household_id=home, start=NOW - 1, end=NOW + 3600)
    assert [(r.sensor, r.ts, r.value) for r in found] == [
        ("water", NOW, 1.1), ("electricity", NOW + 30, 500.5), ("water", NOW + 60, 1.2)]
    assert found[1].power_w == 1800.0 and found[0].seq == 1
    water = store.query(household_id=home, start=NOW - 1, end=NOW + 3600, sensor="water")
    assert [r.value for r in water] == [1.1, 1.2]
    assert store.query(household_id=home, start=NOW + 61, end=NOW + 3600) == []


def test_a_hub_sensors_newest_readings_come_newest_first(store: ReadingStore) -> None:
    """What a restarted gateway judges a hub's next reading against (`Validator(recall=...)`)."""
    home = f"hh-{uuid.uuid4().hex[:8]}"
    store.write([reading(home, "water", NOW + 60 * k, 1.0 + k / 1000, seq=k) for k in range(12)]
                + [reading(home, "gas", NOW + 900, 3.0),
                   StoredReading(home, "h-other", "water", NOW + 950, 7.0, None, None)])
    water, gas = (home, f"h-{home}", "water"), (home, f"h-{home}", "gas")
    newest = store.latest([water, gas, (home, f"h-{home}", "door")], since=NOW - 1, limit=8)
    assert sorted(newest) == [gas, water]  # one request for them all; the door has none
    assert [(r.ts, r.value, r.seq) for r in newest[water]] == [
        (NOW + 60 * k, 1.0 + k / 1000, k) for k in range(11, 3, -1)]
    assert [(r.hub_id, r.value) for r in newest[gas]] == [(f"h-{home}", 3.0)]
    assert store.latest([water], since=NOW + 600, limit=8)[water][-1].ts == NOW + 600
    assert [r.ts for r in store.latest([water], since=NOW - 1, before=NOW + 120, limit=8)[water]] == [NOW + 60, NOW]
    assert store.latest([], since=NOW - 1, limit=8) == {}


def test_a_reading_written_twice_is_kept_once(store: ReadingStore) -> None:
    home = f"hh-{uuid.uuid4().hex[:8]}"
    store.write([reading(home, "gas", NOW, 3.0)])
    store.write([reading(home, "gas", NOW, 3.0), reading(home, "gas", NOW + 60, 3.1)])
    assert len(store.query(household_id=home, start=NOW - 1, end=NOW + 3600)) == 2


def test_sqlite_says_how_many_readings_were_new(tmp_path: Path) -> None:
    sqlite = SqliteReadingStore(tmp_path / "r.db")
    try:
        assert sqlite.write([reading("hh", "gas", NOW, 3.0)]) == 1
        assert sqlite.write([reading("hh", "gas", NOW, 3.0), reading("hh", "gas", NOW + 1, 3.0)]) == 1
    finally:
        sqlite.close()


@pytest.mark.parametrize("fault", ["cannot be opened", "not a database"])
def test_a_sqlite_file_that_cannot_be_used_is_unavailable_not_a_refusal(tmp_path: Path, fault: str) -> None:
    """Found by a tester: a reading file that could not be opened (no file descriptor left) was
    taken for readings the store refused, and the gateway dead-lettered 3,000 good ones."""
    from shouwang.storage.ports import ReadingStoreUnavailable

    folder = tmp_path / "data"
    store = SqliteReadingStore(folder / "readings.db")
    if fault == "cannot be opened":
        shutil.rmtree(folder)
    else:
        (folder / "readings.db").write_bytes(b"this is no SQLite file" * 100)
        for extra in folder.glob("readings.db-*"):
            extra.unlink()
    raised: list[BaseException] = []

    def write() -> None:  # a new thread opens its own connection
        try:
            store.write([StoredReading("hh-1", "h-1", "water", 1.0, 0.5)])
        except BaseException as exc:  # recorded for the assertion
            raised.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    store.close()
    assert len(raised) == 1 and isinstance(raised[0], ReadingStoreUnavailable), raised


@pytest.mark.parametrize("fault", ["deleted", "replaced"])
def test_a_reading_file_deleted_or_replaced_while_open_stores_nothing_more_and_says_so(
        tmp_path: Path, fault: str) -> None:
    """Found by a tester: readings.db deleted while running took every reading after it,
    acknowledged, into a file nobody could open again; nothing was logged or reported."""
    from shouwang.storage.ports import ReadingStoreUnavailable

    store = SqliteReadingStore(tmp_path / "readings.db")
    store.write([StoredReading("hh-1", "h-1", "water", 1.0, 0.5)])
    for path in tmp_path.glob("readings.db*"):
        path.unlink()
    if fault == "replaced":
        other = SqliteReadingStore(tmp_path / "readings.db")
        other.close()
    with pytest.raises(ReadingStoreUnavailable, match="deleted or replaced while open"):
        store.write([StoredReading("hh-1", "h-1", "water", 2.0, 0.5)])
    store.close()


def test_an_influx_server_nobody_answers_for_is_unavailable_not_a_refusal() -> None:
    """What makes the gateway hold its batch (back-pressure) instead of dead-lettering it."""
    from shouwang.broker import free_port
    from shouwang.storage.ports import ReadingStoreUnavailable
    from shouwang.storage.readings_influx import InfluxReadingStore

    influx = InfluxReadingStore(url=f"http://127.0.0.1:{free_port()}", token="t", org="o", bucket="b",
                                timeout_ms=2000)
    try:
        with pytest.raises(ReadingStoreUnavailable, match="InfluxDB"):
            influx.write([reading("hh-1", "water", NOW, 1.0)])
    finally:
        influx.close()


@pytest.mark.influx
def test_influx_setup_makes_the_buckets_and_the_task_and_can_run_again() -> None:
    if not INFLUX_URL:
        pytest.skip(INFLUX_SKIP)
    from influxdb_client.client.influxdb_client import InfluxDBClient

    from shouwang.storage.influx_flux import TASK_NAME, RetentionPlan
    from shouwang.storage.readings_influx import set_up

    token, org = os.environ["SHOUWANG_TEST_INFLUX_TOKEN"], os.environ.get("SHOUWANG_TEST_INFLUX_ORG", "shouwang")
    suffix = uuid.uuid4().hex[:6]
    plan = RetentionPlan(f"raw-{suffix}", 30, f"hourly-{suffix}", 0)
    assert set_up(url=INFLUX_URL, token=token, org=org, plan=plan) == [
        f"created bucket raw-{suffix}", f"created bucket hourly-{suffix}", f"created task {TASK_NAME}"
    ] or set_up(url=INFLUX_URL, token=token, org=org, plan=plan)  # the task may exist from another run
    again = set_up(url=INFLUX_URL, token=token, org=org, plan=RetentionPlan(f"raw-{suffix}", 60, f"hourly-{suffix}", 0))
    assert again[:2] == [f"updated bucket raw-{suffix}", f"updated bucket hourly-{suffix}"]
    with InfluxDBClient(url=INFLUX_URL, token=token, org=org) as client:
        buckets = client.buckets_api()
        raw = buckets.find_bucket_by_name(f"raw-{suffix}")
        hourly = buckets.find_bucket_by_name(f"hourly-{suffix}")
        assert raw.retention_rules[0].every_seconds == 60 * 86400
        assert not hourly.retention_rules or hourly.retention_rules[0].every_seconds == 0
        buckets.delete_bucket(raw)
        buckets.delete_bucket(hourly)
