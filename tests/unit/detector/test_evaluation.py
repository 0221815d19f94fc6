"""The evaluation: its CSV format, its replay with injected incapacitations, its command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from cli.main import main
from detector.evaluation.metrics import percentile, summarise
from detector.evaluation.recordings import (
    Recording,
    RecordingError,
    Span,
    read_events_csv,
    write_events_csv,
    write_labels_csv,
)
from detector.evaluation.replay import HomeResult, injection_moments, replay
from detector.evaluation.simulated import Scenario, as_recordings
from detector.learned import LearnedDetector
from detector.rules import FixedRules
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.unit.detector.helpers import TZ, at, routine


def recording(days: int = 12) -> Recording:
    signs = list(routine("flat-7", days, seed=4))
    return Recording("flat-7", TZ, np.array([s.ts for s in signs]), [s.kind for s in signs],
                     [Span(at(9, 9.0), at(9, 17.0), "away")])


def test_a_recording_survives_the_documented_csv_format(tmp_path: Path) -> None:
    original = recording()
    write_events_csv(tmp_path / "events.csv", original)
    write_labels_csv(tmp_path / "labels.csv", original)
    [back] = read_events_csv(tmp_path / "events.csv", tmp_path / "labels.csv", TZ)
    assert back.home_id == "flat-7"
    assert np.allclose(back.ts, np.round(original.ts))
    assert back.kinds == original.kinds
    assert back.labels == original.labels


def test_a_bad_row_is_refused_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("home_id,ts,kind,value\nflat-7,2024-03-04T08:00:00,kettle,1\n")
    with pytest.raises(RecordingError, match=r"events.csv:2: kind 'kettle' must be one of"):
        read_events_csv(path, None, TZ)


def test_injection_moments_are_daytime_at_home_and_after_learning() -> None:
    rec = recording()
    for moment in injection_moments(rec, 20, seed=1, learning_days=7):
        hour = (moment - at(0, 0)) / 3600 % 24
        assert 7 <= hour < 21
        assert moment >= rec.start + 7 * 86400
        assert rec.label_at(moment) is None


def test_the_learned_detector_finds_a_cut_stream_faster_than_the_12_hour_rule() -> None:
    rec = recording()
    moments = injection_moments(rec, 6, seed=2, learning_days=7)
    # a generous budget: with a week of history the default 0.5 buys limits that wait longer
    # (6.7 h here: the predictive calibration does not trust seven days much)
    settings = DetectorSettings(learned=LearnedSettings(false_alerts_per_month=2.0))
    learned = replay(lambda r: LearnedDetector(settings, r.tz), rec, learning_days=7,
                     injections=moments)
    fixed = replay(lambda r: FixedRules(settings, r.tz), rec, learning_days=7,
                   injections=moments)
    assert all(math.isfinite(d) for d in learned.delays_h + fixed.delays_h)
    assert np.median(learned.delays_h) < np.median(fixed.delays_h) / 2
    assert max(fixed.delays_h) <= 12.1


def test_a_missed_incident_counts_as_the_longest_delay() -> None:
    assert percentile([1.0, 2.0, math.inf], 50) == 2.0
    assert percentile([1.0, math.inf, math.inf], 50) is None
    result = HomeResult("h", "d", 1.0, [1.0, math.inf])
    assert summarise([result])["missed"] == 1


def test_shouwang_evaluate_reads_an_events_file_and_writes_json_and_a_chart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = recording()
    write_events_csv(tmp_path / "events.csv", rec)
    write_labels_csv(tmp_path / "labels.csv", rec)
    out = tmp_path / "result.json"
    code = main(["evaluate", "--events", str(tmp_path / "events.csv"), "--labels",
                 str(tmp_path / "labels.csv"), "--timezone", "Asia/Shanghai", "--inject", "4",
                 "--seed", "3", "--budgets", "0.25,1", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "The first 7 days of each are used only for learning" in printed
    assert "Operating curve, events:" in printed and "12-hour rule" in printed
    data = json.loads(out.read_text())
    made = data["datasets"]["events"]["curve"]
    assert [p["budget"] for p in made["budgets"]] == [0.25, 0.5, 1.0]
    assert isinstance(made["dominates"], bool)
    names = set(data["detectors"])
    assert any("learned" in n for n in names) and any("12h" in n for n in names)
    for entry in data["detectors"].values():
        for key in ("median_delay_h", "p90_delay_h", "missed", "false_alerts",
                    "false_alerts_per_household_month"):
            assert key in entry
        assert entry["incidents"] == 4
    assert out.with_suffix(".png").stat().st_size > 1000


def test_without_recorded_homes_the_evaluation_says_so_and_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import cli.commands.evaluate

    monkeypatch.setattr(cli.commands.evaluate, "PROJECT_ROOT", tmp_path / "project")  # no ../shared beside it
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sim.json"
    code = main(["evaluate", "--homes", "2", "--days", "18", "--budgets", "none", "--workers", "1", "--json", str(out)])
    assert code == 0
    assert "Recorded homes: skipped, no ../shared/eval-data" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert list(data["datasets"]) == ["simulated"]
    assert data["detectors"]["learned"]["incidents"] == 4


def test_an_eval_data_folder_asked_for_but_not_there_or_empty_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a newcomer: a folder without the datasets ended in "No such file or directory:
    .../ordonez-adl/OrdonezA_Sensors.txt" after the run had begun."""
    (tmp_path / "empty" / "ordonez-adl").mkdir(parents=True)
    for folder, said in (("nowhere", "no such folder"), ("empty", "no kasteren-2008-houseA, ampds2-water-gas in it")):
        code = main(["evaluate", "--no-simulated", "--eval-data", str(tmp_path / folder)])
        captured = capsys.readouterr()
        assert code == 2 and captured.out == ""
        assert captured.err.startswith(f"shouwang: --eval-data {tmp_path / folder}: {said}")


def test_a_simulation_shorter_than_its_learning_days_is_refused_with_the_reason(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--days", "10", "--no-recorded"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--days 10 ends within the 14 learning days" in err and "--days 21 or more" in err


def test_events_files_are_replayed_as_one_community_unless_asked_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for n in range(2):
        rec = recording(days=9)
        rec.home_id = f"flat-{n}"
        write_events_csv(tmp_path / f"events-{n}.csv", rec)
        files += ["--events", str(tmp_path / f"events-{n}.csv")]
    common = ["--timezone", "Asia/Shanghai", "--inject", "1", "--tick-min", "30",
              "--json", str(tmp_path / "out.json")]
    assert main(["evaluate", *files, *common]) == 0
    printed = capsys.readouterr().out
    assert "2 home(s)" in printed
    assert "Replayed as one community" in printed and "0 of 2 homes" in printed
    assert main(["evaluate", *files, "--alone", *common]) == 0
    assert "Each home replayed alone" in capsys.readouterr().out
    same = ["--events", str(tmp_path / "events-0.csv")] * 2
    assert main(["evaluate", *same, *common]) == 2
    assert "the same home_id appears in two --events files" in capsys.readouterr().err


def test_simulated_homes_become_recordings_with_their_routine_as_labels(tmp_path: Path) -> None:
    recordings = as_recordings(Scenario(homes=4, days=4, seed=3), DetectorSettings())
    assert [r.home_id for r in recordings] == ["sim-0001", "sim-0002", "sim-0003", "sim-0004"]
    for r in recordings:
        assert r.ts.size > 50 and bool(np.all(np.diff(r.ts) >= 0))
        nights = [s for s in r.labels if s.label == "sleep"]
        assert len(nights) >= 4  # every night slept, the first and last days' parts included
        for span in (s for s in r.labels if s.label == "away"):
            # out of the home, nothing is used: only the door and the power switched off as
            # she leaves (published at the next minute)
            used = [ts for ts, k in zip(r.ts, r.kinds, strict=True)
                    if span.start + 120 < ts < span.end and k.value != "door"]
            assert used == [], (r.home_id, span)
    write_events_csv(tmp_path / "events.csv", *recordings)
    write_labels_csv(tmp_path / "labels.csv", *recordings)
    back = read_events_csv(tmp_path / "events.csv", tmp_path / "labels.csv", TZ)
    assert [len(b.ts) for b in back] == [len(r.ts) for r in recordings]
    assert [len(b.labels) for b in back] == [len(r.labels) for r in recordings]
