"""Recorded homes replayed as one community, as production would run them (leave-one-out).

In production a new household is judged with the population prior: the hour-of-day rhythm and
the limits pooled over the households with history (`LearnedDetector.pool_population`). A
recording replayed alone never has one: it starts from the built-in elder profile. Here every
recording is first learned alone, from its whole history; then each home is replayed with the
prior pooled from the *other* homes only, so its own data never judges it twice. Pooling needs
the production number of households with history (three), so a community needs four homes or
more to change anything; with fewer, every home keeps the built-in profile.

The other homes' histories are pooled as they stand at the end of their recordings (their
decayed rates, their last four weeks of limits): the prior a home joining that community would
meet. The recordings need not overlap in time; each is learned in its own time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

import numpy as np

from detector.evaluation.recordings import Recording
from detector.learned import LearnedDetector
from detector.limits import Population
from detector.signs import SignOfLife
from detector.table import HouseholdTable
from shouwang.settings import DetectorSettings

Learned = Callable[[ZoneInfo], LearnedDetector]


def learned_alone(make: Learned, recording: Recording) -> HouseholdTable:
    """The household table after learning the whole recording as history, alone."""
    detector = make(recording.tz)
    detector.learn(SignOfLife(recording.home_id, float(ts), kind, kind.value)
                   for ts, kind in zip(recording.ts, recording.kinds, strict=True))
    return detector.table


def pooled(make: Learned, tables: Sequence[HouseholdTable], now: float) -> Population:
    """The population prior production pools from these households' learned state."""
    detector = make(ZoneInfo("UTC"))
    if tables:
        arrays = [t.to_arrays() for t in tables]
        merged = {name: np.concatenate([a[name] for a in arrays]) for name in arrays[0]}
        # each table's rows in `spells` follow the tables before it
        offsets = np.cumsum([0] + [len(a["spells.day_spell_h"]) for a in arrays[:-1]])
        merged["dense_row"] = np.concatenate([np.where(a["dense_row"] >= 0, a["dense_row"] + k, -1)
                                              for a, k in zip(arrays, offsets, strict=True)])
        detector.replace_state(HouseholdTable.from_arrays(merged), detector.hubs)
    return detector.pool_population(now)


def priors(make: Learned, recordings: Sequence[Recording],
           progress: Callable[[str], None] = lambda _: None) -> dict[str, Population]:
    """For each home, the prior pooled from every other home (never from its own data)."""
    tables = []
    for recording in recordings:
        progress(f"{recording.home_id}: learned for the community prior ({len(recording.ts):,} signs)")
        tables.append(learned_alone(make, recording))
    now = max((r.end for r in recordings), default=0.0)
    return {r.home_id: pooled(make, tables[:k] + tables[k + 1:], now)
            for k, r in enumerate(recordings)}


def learned_factory(settings: DetectorSettings, *, seed: int) -> Learned:
    return lambda tz: LearnedDetector(settings, tz, seed=seed)
