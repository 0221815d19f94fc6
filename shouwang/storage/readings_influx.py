"""The scale-out reading store: InfluxDB 2, written synchronously so every failure is seen.

Each reading is a point in measurement `reading`, tagged by household, hub and sensor, with
fields `value`, `power_w` and `seq`. InfluxDB keeps one point per series and timestamp, so a
repeated reading overwrites itself: de-duplication comes free, but the server cannot say how many
points were new, so `write` reports how many it sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision

from shouwang.domain.model import StoredReading

MEASUREMENT = "reading"


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
            self._writer.write(bucket=self._bucket, org=self._org,
                               record=[point(r) for r in readings],
                               write_precision=WritePrecision.NS)  # type: ignore[arg-type]
        return len(readings)

    def query(
        self, *, household_id: str, start: float, end: float, sensor: str | None = None
    ) -> list[StoredReading]:
        sensor_filter = f" and r.sensor == {json.dumps(sensor)}" if sensor is not None else ""
        flux = (
            f"from(bucket: {json.dumps(self._bucket)})"
            f" |> range(start: time(v: {json.dumps(_rfc3339(start))}),"
            f" stop: time(v: {json.dumps(_rfc3339(end))}))"
            f' |> filter(fn: (r) => r._measurement == "{MEASUREMENT}"'
            f" and r.household_id == {json.dumps(household_id)}{sensor_filter})"
            ' |> pivot(rowKey: ["_time", "hub_id", "sensor"], columnKey: ["_field"],'
            ' valueColumn: "_value")'
            ' |> group() |> sort(columns: ["_time"])'
        )
        found = []
        for table in self._query.query(flux, org=self._org):
            for record in table.records:
                values = record.values
                seq = values.get("seq")
                found.append(StoredReading(
                    household_id=household_id,
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
