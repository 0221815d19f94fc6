"""Recorded homes as streams of signs of life, and the documented CSV format for new recordings.

Events CSV, one sign of life per row, header required:

    home_id,ts,kind,value
    flat-7,2024-03-04T07:12:05,water,1.5
    flat-7,2024-03-04T07:40:00+08:00,door,1

`ts` is ISO 8601; without an offset it is the home's local time (the `--timezone` given, by
default the settings' timezone). `kind` is one of water, electricity, gas, door, motion (a motion
sensor saw someone) or activity (any other sign of life a recording has, e.g. a cupboard
contact). Every row is a sign of life, except water and gas rows whose `value` is 0 (a meter
reporting no use). `value` may be empty.

Labels CSV, optional, header required:

    home_id,start,end,label
    flat-7,2024-03-05T09:00:00,2024-03-05T17:30:00,away

`label` is `away` or `sleep`; other labels are ignored. Alerts inside these spans are false alerts
by construction, and no incapacitation is injected inside them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from detector.signs import SignKind

KINDS = ("water", "electricity", "gas", "door", "activity", "motion")
LABELS = ("away", "sleep")


class RecordingError(ValueError):
    """A recording file that cannot be read; the message says where and what to fix."""


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float
    label: str


@dataclass
class Recording:
    """One home's signs of life in time order, with its labelled spans and its time zone."""

    home_id: str
    tz: ZoneInfo
    ts: npt.NDArray[np.float64]
    kinds: list[SignKind]
    labels: list[Span] = field(default_factory=list)
    source: str = ""

    @property
    def start(self) -> float:
        return float(self.ts[0])

    @property
    def end(self) -> float:
        return float(self.ts[-1])

    def label_at(self, ts: float) -> str | None:
        for span in self.labels:
            if span.start <= ts < span.end:
                return span.label
        return None


def parse_time(text: str, tz: ZoneInfo) -> float:
    """ISO 8601 to UNIX seconds; naive times are local to `tz`."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def build(home_id: str, tz: ZoneInfo, events: list[tuple[float, str]], labels: list[Span],
          source: str) -> Recording:
    """A recording from unordered (ts, kind) events."""
    events.sort(key=lambda e: e[0])
    ts = np.array([e[0] for e in events], dtype=np.float64)
    kinds = [SignKind(e[1]) for e in events]
    return Recording(home_id, tz, ts, kinds, sorted(labels, key=lambda s: s.start), source)


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise RecordingError(f"{path}: the header must name {', '.join(columns)}; "
                                 f"missing {', '.join(missing)}")
        return [(n, row) for n, row in enumerate(reader, start=2)]


def read_events_csv(path: Path, labels: Path | None, tz: ZoneInfo) -> list[Recording]:
    """Recordings from an events CSV (and optional labels CSV) in the documented format."""
    events: dict[str, list[tuple[float, str]]] = {}
    for line, row in _rows(path, ("home_id", "ts", "kind", "value")):
        kind = (row["kind"] or "").strip()
        if kind not in KINDS:
            raise RecordingError(f"{path}:{line}: kind {kind!r} must be one of {', '.join(KINDS)}")
        try:
            ts = parse_time(row["ts"], tz)
            value = float(row["value"]) if (row.get("value") or "").strip() else None
        except ValueError as exc:
            raise RecordingError(f"{path}:{line}: {exc}") from None
        if kind in ("water", "gas") and value == 0:
            continue
        events.setdefault(row["home_id"].strip(), []).append((ts, kind))
    spans = read_labels_csv(labels, tz) if labels is not None else {}
    if not events:
        raise RecordingError(f"{path}: no events")
    return [build(home, tz, evs, spans.get(home, []), str(path)) for home, evs in events.items()]


def read_labels_csv(path: Path, tz: ZoneInfo) -> dict[str, list[Span]]:
    """Labelled spans per home from a labels CSV in the documented format."""
    spans: dict[str, list[Span]] = {}
    for line, row in _rows(path, ("home_id", "start", "end", "label")):
        label = (row["label"] or "").strip().lower()
        if label not in LABELS:
            continue
        try:
            span = Span(parse_time(row["start"], tz), parse_time(row["end"], tz), label)
        except ValueError as exc:
            raise RecordingError(f"{path}:{line}: {exc}") from None
        spans.setdefault(row["home_id"].strip(), []).append(span)
    return spans


def with_labels(recordings: list[Recording], labelled: list[dict[str, list[Span]]]) -> None:
    """Add labelled spans (from any number of labels files) to the recordings they name."""
    for spans in labelled:
        for recording in recordings:
            recording.labels = sorted(recording.labels + spans.get(recording.home_id, []),
                                      key=lambda s: s.start)


def write_events_csv(path: Path, *recordings: Recording) -> None:
    """Write recordings' signs in the documented format (naive local times), one file."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["home_id", "ts", "kind", "value"])
        for recording in recordings:
            out.writerows([recording.home_id, _local(float(ts), recording.tz), kind.value, 1]
                          for ts, kind in zip(recording.ts, recording.kinds, strict=True))


def write_labels_csv(path: Path, *recordings: Recording) -> None:
    """Write recordings' labelled spans in the documented format (naive local times)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["home_id", "start", "end", "label"])
        for recording in recordings:
            out.writerows([recording.home_id, _local(span.start, recording.tz),
                           _local(span.end, recording.tz), span.label]
                          for span in recording.labels)


def _local(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).replace(tzinfo=None).isoformat()
