"""What Shouwang asks of InfluxDB 2, checked as text (no server needed)."""

from __future__ import annotations

import pytest

from shouwang.storage.influx_flux import (
    TASK_NAME,
    RetentionPlan,
    hourly_query,
    hourly_task,
    latest_query,
    readings_query,
)

NOW = 1_750_000_000.0  # 2025-06-15T15:06:40Z


def test_a_household_query_names_its_bucket_time_range_and_household() -> None:
    flux = readings_query(bucket="readings", household_id="hh-1", start=NOW, end=NOW + 3600)
    assert flux.startswith('from(bucket: "readings") |> range(start: time(v: "2025-06-15T15:06:40.000000Z"), '
                           'stop: time(v: "2025-06-15T16:06:40.000000Z"))')
    assert 'r._measurement == "reading" and r.household_id == "hh-1")' in flux
    assert "r.sensor" not in flux and flux.endswith('|> group() |> sort(columns: ["_time"])')
    with_sensor = readings_query(bucket="readings", household_id="hh-1", start=NOW, end=NOW + 1, sensor="water")
    assert 'r.household_id == "hh-1" and r.sensor == "water")' in with_sensor


def test_a_hub_sensors_newest_readings_are_asked_for_newest_first_and_escaped() -> None:
    flux = latest_query(bucket="readings", households=["hh-1", "hh-2", "hh-1"], hubs=['h-1" or true or "'],
                        sensors=["water", "gas"], start=NOW, limit=8)
    assert flux.startswith('from(bucket: "readings") |> range(start: time(v: "2025-06-15T15:06:40.000000Z"))')
    assert ('contains(value: r.household_id, set: ["hh-1", "hh-2"]) and contains(value: r.hub_id, '
            'set: ["h-1\\" or true or \\""]) and contains(value: r.sensor, set: ["gas", "water"]))') in flux
    assert flux.endswith('|> group(columns: ["household_id", "hub_id", "sensor"]) '
                         '|> sort(columns: ["_time"], desc: true) |> limit(n: 8)')
    before = latest_query(bucket="readings", households=["hh-1"], hubs=["h-1"], sensors=["water"],
                          start=NOW, stop=NOW + 3600, limit=8)
    assert ('range(start: time(v: "2025-06-15T15:06:40.000000Z"), stop: time(v: "2025-06-15T16:06:40.000000Z"))'
            in before)


def test_no_household_id_can_change_what_a_query_means() -> None:
    flux = readings_query(bucket="b", household_id='x" or true or "', start=NOW, end=NOW + 1)
    assert 'r.household_id == "x\\" or true or \\"")' in flux
    assert hourly_query(bucket='b") |> drop(', household_id="h", start=NOW, end=NOW + 1).startswith(
        'from(bucket: "b\\") |> drop(")')


def test_the_hourly_task_reads_whole_hours_and_writes_three_signs_to_the_long_bucket() -> None:
    flux = hourly_task(raw_bucket="readings", hourly_bucket="readings_hourly", org="利民")
    assert flux.startswith('import "date"')
    assert f'option task = {{name: "{TASK_NAME}", every: 1h, offset: 5m}}' in flux
    assert "stop = date.truncate(t: now(), unit: 1h)" in flux
    assert "range(start: date.sub(d: 2h, from: stop), stop: stop)" in flux
    lines = [line for line in flux.splitlines() if line.startswith("data |>")]
    assert len(lines) == 3
    for field, column, fn in (("rise", "value", "spread"), ("readings", "value", "count"),
                              ("power_max", "power_w", "max")):
        line = next(x for x in lines if f'value: "{field}"' in x)
        assert f'r._field == "{column}"' in line and f"fn: {fn}," in line
        assert 'timeSrc: "_start"' in line and 'to(bucket: "readings_hourly", org: "利民")' in line
        assert 'set(key: "_measurement", value: "hourly")' in line


@pytest.mark.parametrize(("days", "seconds", "said"), [(180, 15_552_000, "180 days"), (0, 0, "for ever")])
def test_a_retention_plan_in_seconds_and_words(days: float, seconds: int, said: str) -> None:
    plan = RetentionPlan("raw", days, "hourly", 0)
    assert plan.seconds(days) == seconds
    assert plan.describe()[0] == f"bucket raw: raw readings, kept {said}"
    assert plan.describe()[1] == "bucket hourly: hourly signs of life, kept for ever"


def test_server_trouble_is_told_apart_from_refused_points() -> None:
    pytest.importorskip("influxdb_client")
    import urllib3.exceptions
    from influxdb_client.rest import ApiException

    from shouwang.storage.readings_influx import unavailable

    assert unavailable(ApiException(status=503)) and unavailable(ApiException(status=429))
    assert not unavailable(ApiException(status=400)) and not unavailable(ApiException(status=422))
    assert unavailable(urllib3.exceptions.ProtocolError("connection reset"))
    assert unavailable(ConnectionRefusedError())
    assert not unavailable(ValueError("field type conflict"))


@pytest.mark.parametrize(("text", "flux"), [
    ("hh-1", '"hh-1"'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("${r._value}", '"\\${r._value}"'),
    ("利民社区", '"利民社区"'), ("a\nb", '"a\\nb"'),
])
def test_strings_enter_flux_escaped(text: str, flux: str) -> None:
    from shouwang.storage.influx_flux import literal

    assert literal(text) == flux


def test_influx_setup_prints_its_plan_and_refuses_too_short_a_retention(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from cli.main import main

    monkeypatch.setenv("SHOUWANG_STORAGE__INFLUX_RAW_RETENTION_DAYS", "90")
    assert main(["db", "influx-setup", "--print"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("bucket readings: raw readings, kept 90 days\n")
    assert 'to(bucket: "readings_hourly", org: "shouwang")' in out
    monkeypatch.setenv("SHOUWANG_STORAGE__INFLUX_RAW_RETENTION_DAYS", "7")
    assert main(["db", "influx-setup", "--print"]) == 2
    assert "at least 28 days" in capsys.readouterr().err
