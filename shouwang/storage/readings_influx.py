"""The scale-out reading store: InfluxDB 2, written synchronously so every failure is seen.

Each reading is a point in measurement `reading`, tagged by household, hub and sensor, with
fields `value`, `power_w` and `seq`. InfluxDB keeps one point per series and timestamp, so a
repeated reading overwrites itself: de-duplication comes free, but the server cannot say how many
points were new, so `write` reports how many it sent. A server that cannot take writes (down,
unreachable, overloaded) raises ReadingStoreUnavailable, so the gateway holds its batch and
acknowledges nothing until it can (back-pressure); a server that refuses the points raises as is.
Retention and the hourly downsampling are set up by `shouwang db influx-setup` (`set_up`).
"""

from __future__ import annotations

from collections.abc import Sequence

import urllib3.exceptions
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.bucket_retention_rules import BucketRetentionRules
from influxdb_client.domain.task_create_request import TaskCreateRequest
from influxdb_client.domain.task_update_request import TaskUpdateRequest
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from shouwang.domain.model import StoredReading
from shouwang.storage.influx_flux import (
    MEASUREMENT,
    TASK_NAME,
    RetentionPlan,
    hourly_task,
    latest_query,
    readings_query,
)
from shouwang.storage.ports import ReadingStoreUnavailable, SensorKey

UNAVAILABLE_STATUS = frozenset({0, 408, 429, 500, 502, 503, 504})
"""HTTP answers that say the server cannot take writes now, not that the points are wrong."""


def unavailable(exc: Exception) -> bool:
    """Whether a failed call means "try again later" rather than "these points are refused"."""
    if isinstance(exc, ApiException):
        return exc.status in UNAVAILABLE_STATUS or exc.status is None
    return isinstance(exc, urllib3.exceptions.HTTPError | OSError)


def point(reading: StoredReading) -> Point:
    p = (
        Point(MEASUREMENT)
        .tag("household_id", reading.household_id)
        .tag("hub_id", reading.hub_id)
        .tag("sensor", reading.sensor)
        .field("value", float(reading.value))
        .time(round(reading.ts * 1e9), WritePrecision.NS)
    )
    if reading.power_w is not None:
        p = p.field("power_w", float(reading.power_w))
    if reading.seq is not None:
        p = p.field("seq", int(reading.seq))
    return p  # type: ignore[no-any-return]


class InfluxReadingStore:
    def __init__(self, *, url: str, token: str, org: str, bucket: str, timeout_ms: int = 30_000) -> None:
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=timeout_ms)
        self._writer = self._client.write_api(write_options=SYNCHRONOUS)
        self._query = self._client.query_api()
        self._org = org
        self._bucket = bucket

    def write(self, readings: Sequence[StoredReading]) -> int:
        if readings:
            try:
                self._writer.write(bucket=self._bucket, org=self._org,
                                   record=[point(r) for r in readings],
                                   write_precision=WritePrecision.NS)  # type: ignore[arg-type]
            except Exception as exc:
                if unavailable(exc):
                    raise ReadingStoreUnavailable(f"InfluxDB: {exc!r:.300}") from exc
                raise
        return len(readings)

    def query(
        self, *, household_id: str, start: float, end: float, sensor: str | None = None
    ) -> list[StoredReading]:
        return self._readings(household_id, readings_query(
            bucket=self._bucket, household_id=household_id, start=start, end=end, sensor=sensor))

    def latest(
        self, keys: Sequence[SensorKey], *, since: float, limit: int, before: float | None = None,
    ) -> dict[SensorKey, list[StoredReading]]:
        if not keys:
            return {}
        flux = latest_query(bucket=self._bucket, households=[k[0] for k in keys], hubs=[k[1] for k in keys],
                            sensors=[k[2] for k in keys], start=since, stop=before, limit=limit)
        wanted, found = set(keys), dict[SensorKey, list[StoredReading]]()
        for r in self._readings(None, flux):
            key = (r.household_id, r.hub_id, r.sensor)
            if key in wanted:  # the query's sets also name combinations nobody asked for
                found.setdefault(key, []).append(r)
        return {key: sorted(rows, key=lambda r: -r.ts) for key, rows in found.items()}

    def _readings(self, household_id: str | None, flux: str) -> list[StoredReading]:
        found = []
        for table in self._query.query(flux, org=self._org):
            for record in table.records:
                values = record.values
                seq = values.get("seq")
                found.append(StoredReading(
                    household_id=household_id if household_id is not None else str(values["household_id"]),
                    hub_id=str(values["hub_id"]),
                    sensor=str(values["sensor"]),
                    ts=record.get_time().timestamp(),
                    value=float(values["value"]),
                    power_w=None if values.get("power_w") is None else float(values["power_w"]),
                    seq=None if seq is None else int(seq),
                ))
        return found

    def close(self) -> None:
        self._writer.close()
        self._client.close()


def set_up(*, url: str, token: str, org: str, plan: RetentionPlan, timeout_ms: int = 30_000) -> list[str]:
    """Create or update the two buckets' retention and the hourly task; returns what was done."""
    done = []
    with InfluxDBClient(url=url, token=token, org=org, timeout=timeout_ms) as client:
        organisation = next((o for o in client.organizations_api().find_organizations(org=org)), None)
        if organisation is None:
            raise ValueError(f"InfluxDB has no organisation {org!r}; create it, or set SHOUWANG_STORAGE__INFLUX_ORG")
        buckets = client.buckets_api()
        for name, days in ((plan.raw_bucket, plan.raw_days), (plan.hourly_bucket, plan.hourly_days)):
            rules = [BucketRetentionRules(type="expire", every_seconds=plan.seconds(days))] if days else []
            bucket = buckets.find_bucket_by_name(name)
            if bucket is None:
                buckets.create_bucket(bucket_name=name, org_id=organisation.id, retention_rules=rules)
                done.append(f"created bucket {name}")
            else:
                bucket.retention_rules = rules
                buckets.update_bucket(bucket=bucket)
                done.append(f"updated bucket {name}")
        flux = hourly_task(raw_bucket=plan.raw_bucket, hourly_bucket=plan.hourly_bucket, org=org)
        tasks = client.tasks_api()
        existing = next((t for t in tasks.find_tasks(name=TASK_NAME, org_id=organisation.id)), None)
        if existing is None:
            tasks.create_task(task_create_request=TaskCreateRequest(org_id=organisation.id, flux=flux,
                                                                    status="active"))
            done.append(f"created task {TASK_NAME}")
        else:
            tasks.update_task_request(existing.id, TaskUpdateRequest(flux=flux, status="active"))
            done.append(f"updated task {TASK_NAME}")
    return done
