"""Keeping the learned model across restarts: a compact snapshot file beside the data.

Rebuilding from the reading store would mean re-reading four weeks of every household's
readings at each start (billions of rows for a city); the model itself is a few kilobytes per
household. So the detector service saves the household table, the hub table and the population
prior as one `.npz` (no pickle: arrays and a JSON header only), atomically, every hour and on
stop. On start it loads the snapshot and replays only the readings stored since it was taken.
Without a snapshot (first start, or a deleted file) it learns from the stored history instead.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from detector.learned import LearnedDetector
from detector.names import Names
from detector.outages import HubTable
from detector.table import HouseholdTable

VERSION = 4
"""2: compact columns (uint16 rhythm, byte-packed hours, quiet spells of dense homes apart);
3: the day features in bytes, the top silences of the configured parts of the day only; 4: the
rhythm's counts and exposure in bytes with a step a row (`HouseholdTable.add_to_rhythm`). A
snapshot of another version is not loaded: the model is learned again from stored readings."""


def save(detector: LearnedDetector, path: Path, *, now: float, visit_cursor: int) -> None:
    """Write the model to `path` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pop = detector.population
    header = {
        "version": VERSION, "saved_at": now, "timezone": detector.tz.key,
        "visit_cursor": visit_cursor,
        "population": {"threshold": pop.threshold.tolist(), "outing_h": pop.outing_h,
                       "wake_limit_h": pop.wake_limit_h, "bed_h": pop.bed_h,
                       "wake_h": pop.wake_h, "bed_early_h": pop.bed_early_h,
                       "bed_late_h": pop.bed_late_h, "bed_excesses": pop.bed_excesses,
                       "bed_excess_h": pop.bed_excess_h, "lit_nights": pop.lit_nights,
                       "power_nights": pop.power_nights, "households": pop.households,
                       "refreshed_day": pop.refreshed_day, "history_days": pop.history_days},
    }
    arrays: dict[str, Any] = {f"t.{k}": v for k, v in detector.table.to_arrays().items()}
    hubs = detector.hubs
    arrays |= {"h.ids": hubs.ids.to_array(), "h.household": hubs.household,
               "h.limit_s": hubs.limit_s, "h.heard_at": hubs.heard_at,
               "p.day_prior": pop.day_prior, "header": np.array(json.dumps(header))}
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def load(detector: LearnedDetector, path: Path) -> dict[str, Any] | None:
    """Restore the model from `path`; its header, or None if absent or not for this detector."""
    if not path.is_file():
        return None
    with path.open("rb") as f, np.load(f, allow_pickle=False) as data:  # closed even when damaged
        header: dict[str, Any] = json.loads(str(data["header"]))
        if header.get("version") != VERSION or header.get("timezone") != detector.tz.key:
            return None
        table = HouseholdTable.from_arrays(
            {k[2:]: data[k] for k in data.files if k.startswith("t.")})
        hubs = HubTable(ids=Names(str(x) for x in data["h.ids"]),
                        household=data["h.household"].astype(np.int32),
                        limit_s=data["h.limit_s"].astype(np.float32), heard_at=data["h.heard_at"].copy(),
                        registered=np.zeros(len(data["h.ids"]), dtype=bool))
        day_prior = data["p.day_prior"].copy()
    if table.parts != detector.table.parts:
        return None  # the day parts were changed: the top silences kept are others
    saved = header["population"]
    threshold = np.array(saved["threshold"], dtype=np.float64)
    kept = {name: saved[name] for name in ("outing_h", "wake_limit_h", "bed_h", "wake_h", "households",
                                           "refreshed_day")}  # all read before anything is replaced
    detector.replace_state(table, hubs)
    pop = detector.population
    pop.day_prior = day_prior
    pop.threshold = threshold
    for name, value in kept.items():
        setattr(pop, name, value)
    pop.history_days = int(saved.get("history_days", 0))
    for name in ("bed_early_h", "bed_late_h"):  # absent from older snapshots
        setattr(pop, name, float(saved.get(name, math.nan)))
    # absent from older snapshots: none lent
    for name in ("bed_excesses", "bed_excess_h", "lit_nights", "power_nights"):
        setattr(pop, name, float(saved.get(name, 0.0)))
    return header
