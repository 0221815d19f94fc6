"""What Shouwang asks of InfluxDB 2, as Flux text: pure, so it is tested without a server.

Two buckets: raw readings (measurement `reading`, kept for a configurable time) and hourly signs of
life (measurement `hourly`, kept for years), which a task fills every hour from the raw ones. Per
household, hub, sensor and hour it keeps `rise` (how far the register rose: water or gas drawn,
energy used; for a door, 1 when it both opened and closed), `readings` (how many came: the hub was
alive) and `power_max` (the highest instantaneous power). Every string enters Flux escaped
(`literal`), so no name or id can change a query's meaning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

MEASUREMENT = "reading"
HOURLY_MEASUREMENT = "hourly"
TASK_NAME = "shouwang-hourly-signs-of-life"
DAY_S = 86_400


def literal(text: str) -> str:
    """A Flux string literal for any text: backslash, quote and `${` (Flux's interpolation) escaped."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_literal(ts: float) -> str:
    return f"time(v: {literal(rfc3339(ts))})"


def readings_query(*, bucket: str, household_id: str, start: float, end: float, sensor: str | None = None) -> str:
    """A household's raw readings with start <= ts < end, one row per reading, oldest first
    (what the detector re-reads when it starts and what the page's charts draw)."""
    sensor_filter = f" and r.sensor == {literal(sensor)}" if sensor is not None else ""
    return (
        f"from(bucket: {literal(bucket)})"
        f" |> range(start: {time_literal(start)}, stop: {time_literal(end)})"
        f" |> filter(fn: (r) => r._measurement == {literal(MEASUREMENT)}"
        f" and r.household_id == {literal(household_id)}{sensor_filter})"
        ' |> pivot(rowKey: ["_time", "hub_id", "sensor"], columnKey: ["_field"], valueColumn: "_value")'
        ' |> group() |> sort(columns: ["_time"])'
    )


def latest_query(*, bucket: str, households: Iterable[str], hubs: Iterable[str], sensors: Iterable[str],
                 start: float, limit: int, stop: float | None = None) -> str:
    """The newest `limit` raw readings of each series (household, hub, sensor) among those named,
    with start <= ts (< stop), newest first within each: one request for a batch's hub sensors
    (the caller keeps the exact combinations it asked for)."""
    def set_of(values: Iterable[str]) -> str:
        return "[" + ", ".join(literal(v) for v in sorted(set(values))) + "]"

    stop_at = "" if stop is None else f", stop: {time_literal(stop)}"
    return (
        f"from(bucket: {literal(bucket)})"
        f" |> range(start: {time_literal(start)}{stop_at})"
        f" |> filter(fn: (r) => r._measurement == {literal(MEASUREMENT)}"
        f" and contains(value: r.household_id, set: {set_of(households)})"
        f" and contains(value: r.hub_id, set: {set_of(hubs)}) and contains(value: r.sensor, set: {set_of(sensors)}))"
        ' |> pivot(rowKey: ["_time", "hub_id", "sensor"], columnKey: ["_field"], valueColumn: "_value")'
        f' |> group(columns: ["household_id", "hub_id", "sensor"]) |> sort(columns: ["_time"], desc: true)'
        f" |> limit(n: {int(limit)})"
    )


def hourly_query(*, bucket: str, household_id: str, start: float, end: float) -> str:
    """A household's hourly signs of life with start <= hour < end, oldest first (the page's
    charts beyond the raw readings' retention)."""
    return (
        f"from(bucket: {literal(bucket)})"
        f" |> range(start: {time_literal(start)}, stop: {time_literal(end)})"
        f" |> filter(fn: (r) => r._measurement == {literal(HOURLY_MEASUREMENT)}"
        f" and r.household_id == {literal(household_id)})"
        ' |> pivot(rowKey: ["_time", "hub_id", "sensor"], columnKey: ["_field"], valueColumn: "_value")'
        ' |> group() |> sort(columns: ["_time"])'
    )


def hourly_task(*, raw_bucket: str, hourly_bucket: str, org: str) -> str:
    """The task that writes each hour's signs of life. It reads the two whole hours before the
    current one (never a part of an hour, which would overwrite a whole one), so readings that came
    up to an hour late are counted; an hour written twice overwrites itself (same series and time),
    so nothing is counted twice. Needs InfluxDB 2.1 or later (Flux's date.sub)."""
    def aggregate(field: str, column: str, fn: str) -> str:
        return (
            f"data |> filter(fn: (r) => r._field == {literal(column)})"
            f" |> aggregateWindow(every: 1h, fn: {fn}, createEmpty: false, timeSrc: \"_start\")"
            f' |> set(key: "_measurement", value: {literal(HOURLY_MEASUREMENT)})'
            f' |> set(key: "_field", value: {literal(field)})'
            f" |> to(bucket: {literal(hourly_bucket)}, org: {literal(org)})"
        )

    return "\n".join([
        'import "date"',
        "",
        f'option task = {{name: {literal(TASK_NAME)}, every: 1h, offset: 5m}}',
        "",
        "stop = date.truncate(t: now(), unit: 1h)",
        f"data = from(bucket: {literal(raw_bucket)})"
        " |> range(start: date.sub(d: 2h, from: stop), stop: stop)"
        f" |> filter(fn: (r) => r._measurement == {literal(MEASUREMENT)})",
        "",
        aggregate("rise", "value", "spread"),
        aggregate("readings", "value", "count"),
        aggregate("power_max", "power_w", "max"),
        "",
    ])


@dataclass(frozen=True)
class RetentionPlan:
    """The buckets and how long each keeps its points (0: for ever)."""

    raw_bucket: str
    raw_days: float
    hourly_bucket: str
    hourly_days: float

    def seconds(self, days: float) -> int:
        return round(days * DAY_S)

    def describe(self) -> list[str]:
        def kept(days: float) -> str:
            return "for ever" if days == 0 else f"{days:g} days"
        return [f"bucket {self.raw_bucket}: raw readings, kept {kept(self.raw_days)}",
                f"bucket {self.hourly_bucket}: hourly signs of life, kept {kept(self.hourly_days)}",
                f"task {TASK_NAME}: every hour, from {self.raw_bucket} to {self.hourly_bucket}"]
