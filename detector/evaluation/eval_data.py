"""Real recorded homes from `../shared/eval-data` (read at run time, never copied into the repo).

Each sensor interval gives a sign of life when it starts and when it ends (a door opened and
closed, a pressure mat sat on and left). Kinds follow the folder's README recipe; AMPds2 gives
its whole-house water meter only (its gas meter is the furnace: weather, not people).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from detector.evaluation.recordings import Recording, Span, build

TABS = re.compile(r"\t+")
ORDONEZ_KINDS = {"Maindoor": "door", "Microwave": "electricity", "Toaster": "electricity",
                 "Toilet": "water", "Basin": "water", "Shower": "water", "Cooktop": "gas"}
KASTEREN_KINDS = {12: "door", 14: "water", 1: "electricity", 13: "electricity",
                  20: "electricity"}
KASTEREN_LABELS = {1: "away", 10: "sleep"}
ORDONEZ_LABELS = {"Leaving": "away", "Sleeping": "sleep"}


def default_root(project_root: Path) -> Path:
    """Where the shared evaluation data lives relative to the project root."""
    return (project_root / ".." / "shared" / "eval-data").resolve()


def _local(text: str, fmt: str, tz: ZoneInfo) -> float:
    return datetime.strptime(text.strip(), fmt).replace(tzinfo=tz).timestamp()


def _table(path: Path) -> Iterator[list[str]]:
    for line in path.read_text(encoding="latin-1").splitlines()[2:]:
        cells = [c.strip() for c in TABS.split(line.strip())]
        if len(cells) >= 3 and cells[0]:
            yield cells


def ordonez(root: Path, which: str) -> Recording:
    """Ordóñez home A or B (Madrid time)."""
    tz = ZoneInfo("Europe/Madrid")
    folder = root / "ordonez-adl"
    fmt = "%Y-%m-%d %H:%M:%S"
    events: list[tuple[float, str]] = []
    for cells in _table(folder / f"Ordonez{which}_Sensors.txt"):
        kind = ORDONEZ_KINDS.get(cells[2], "activity")
        events += [(_local(cells[0], fmt, tz), kind), (_local(cells[1], fmt, tz), kind)]
    labels = [Span(_local(c[0], fmt, tz), _local(c[1], fmt, tz), ORDONEZ_LABELS[c[2]])
              for c in _table(folder / f"Ordonez{which}_ADLs.txt") if c[2] in ORDONEZ_LABELS]
    return build(f"ordonez_{which}", tz, events, labels, "ordonez-adl")


def _kasteren_rows(path: Path) -> Iterator[list[str]]:
    for line in path.read_text(encoding="latin-1").splitlines():
        if re.match(r"\d{2}-\w{3}-\d{4}", line):
            yield [c.strip() for c in TABS.split(line.strip())]


def kasteren(root: Path) -> Recording:
    """Kasteren house A (Amsterdam time)."""
    tz = ZoneInfo("Europe/Amsterdam")
    folder = root / "kasteren-2008-houseA"
    fmt = "%d-%b-%Y %H:%M:%S"
    events: list[tuple[float, str]] = []
    for cells in _kasteren_rows(folder / "kasterenSenseData.txt"):
        kind = KASTEREN_KINDS.get(int(cells[2]), "activity")
        events += [(_local(cells[0], fmt, tz), kind), (_local(cells[1], fmt, tz), kind)]
    labels = [Span(_local(c[0], fmt, tz), _local(c[1], fmt, tz), KASTEREN_LABELS[int(c[2])])
              for c in _kasteren_rows(folder / "kasterenActData.txt")
              if int(c[2]) in KASTEREN_LABELS]
    return build("kasteren_A", tz, events, labels, "kasteren-2008-houseA")


def ampds2(root: Path) -> Recording:
    """AMPds2's whole-house water meter: a sign of life for every minute water ran."""
    tz = ZoneInfo("America/Vancouver")
    chunks = sorted((root / "ampds2-water-gas" / "chunks").glob("Water_WHW-*.csv.gz"),
                    key=lambda p: int(p.name.split("-")[-1].split(".")[0]))
    events: list[tuple[float, str]] = []
    for chunk in chunks:
        with gzip.open(chunk, "rt", encoding="utf-8") as f:
            next(f)
            for line in f:
                ts, _counter, rate, _inst = line.split(",", 3)
                if float(rate) > 0:
                    events.append((float(ts), "water"))
    return build("ampds2", tz, events, [], "ampds2-water-gas")


def load_all(root: Path) -> list[Recording]:
    """Every real home we know how to read, in a fixed order."""
    return [ordonez(root, "A"), ordonez(root, "B"), kasteren(root), ampds2(root)]
