"""The learned detector at city scale: a tick and the size of its state, for 100,000 and 1,000,000
households, on one core. Prints figures; asserts nothing.

    python -m benchmarks.detector_scale                       # 100,000 and 1,000,000
    python -m benchmarks.detector_scale --households 100000 --ticks 5

The households are those of `benchmarks/bench_detector_tick.py` (four weeks of synthetic learned
rhythm each, one hub each, buildings of 40); the table is sized for them up front
(`HouseholdTable.reserve`). The process is pinned to one CPU. State counts the
household table's columns (per household present, and as allocated: the table grows by
doubling), the quiet spells of the households that have shown motion (a share of them, printed:
`--dense-share`), the hub table, and the row names (`detector.names`); the resident set growth
is printed beside it as a check.

Goal (issue 11): a million-household tick in at most 1 s on one core, with at most 1 GB of state.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import time
from zoneinfo import ZoneInfo

import numpy as np

from benchmarks.bench_detector_tick import NOW, contexts
from detector.learned import LearnedDetector
from detector.limits import apply_prior
from detector.rhythm import DEFAULT_DAY_PRIOR, cumulative, shrunk_rates
from detector.table import HISTORY_DAYS, pack_hours
from shouwang.settings import DetectorSettings

MB = 1024 * 1024
GOAL_BYTES = 1000
DENSE_SHARE = 0.25
"""Households with a motion sensor, that keep quiet spells: an assumption (the simulated community
has none, every recorded home has one), on the generous side."""
CHUNK = 65_536


def learned_state(detector: LearnedDetector, rng: np.random.Generator, dense_share: float) -> None:
    """As bench_detector_tick's, in chunks, so a million households need no temporaries of their size;
    `dense_share` of them have shown motion, so they keep quiet spells (`HouseholdTable.spells`)."""
    t, s = detector.table, detector.settings.learned
    motion = np.random.default_rng(8)  # apart, so the rest is drawn as before
    for first in range(0, len(t), CHUNK):
        rows = slice(first, min(first + CHUNK, len(t)))
        n = rows.stop - rows.start
        scale = rng.gamma(4.0, 0.25, size=(n, 1))
        t.set_rhythm(rows, rng.poisson(np.tile(DEFAULT_DAY_PRIOR, 7) * 4 * scale), np.full((n, 168), 4.0))
        counts, exposure = t.rhythm(rows)
        t.set_cum(rows, cumulative(shrunk_rates(counts, exposure, DEFAULT_DAY_PRIOR,
                                                day_strength=s.day_prior_days,
                                                week_strength=s.week_prior_days,
                                                jitter_h=s.jitter_min / 60.0)))
        for i in np.flatnonzero(motion.random(n) < dense_share) + rows.start:
            j = t.spell_row(int(i))
            t.spells.ring_spell_h[j] = pack_hours(motion.exponential(0.5, size=(HISTORY_DAYS, 24)))
        t.learned_days[rows] = 28
        t.threshold_own[rows] = rng.uniform(3, 8, size=(n, t.threshold_own.shape[1]))
        t.wake_own_h[rows] = rng.uniform(7, 9, size=n)
        t.last_sign[rows] = NOW - rng.exponential(1800.0, size=n)
        t.last_water[rows] = t.last_sign[rows] - rng.exponential(3600.0, size=n)
        t.heard_at[rows] = NOW - rng.uniform(0, 600, size=n)
        t.first_heard[rows] = NOW - 60 * 86400
        apply_prior(t, np.arange(rows.start, rows.stop), s, detector.population, ceiling_s=detector.ceiling_s)
    detector.hubs.heard_at[:] = t.heard_at[detector.hubs.household]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def state_bytes(detector: LearnedDetector) -> dict[str, float]:
    t, hubs = detector.table, detector.hubs
    n = len(t)
    spells = t.spells.nbytes()
    present = sum(int(t.raw(name)[:n].nbytes) for name, _ in t.columns()) + spells * t.spells.size // max(
        t.spells.capacity, 1)
    allocated = sum(int(t.raw(name).nbytes) for name, _ in t.columns()) + spells
    hub_arrays = sum(int(a.nbytes) for a in (hubs.household, hubs.limit_s, hubs.heard_at, hubs.registered))
    names = t.ids.nbytes() + hubs.ids.nbytes()
    return {"columns": present, "allocated": allocated, "hubs": hub_arrays, "names": names,
            "total": allocated + hub_arrays + names, "per_household": (allocated + hub_arrays + names) / n}


def largest_columns(detector: LearnedDetector, k: int = 6) -> str:
    """Per household: a column's row, and the quiet spells averaged over every household."""
    t = detector.table
    sizes = [(float(t.raw(name)[:1].nbytes), name) for name, _ in t.columns()]
    sizes.append((t.spells.nbytes() / max(len(t), 1), "spells (averaged)"))
    return ", ".join(f"{name} {size:,.0f} B" for size, name in sorted(sizes, reverse=True)[:k])


def run(households: int, ticks: int, dense_share: float) -> None:
    rng = np.random.default_rng(7)
    ctx = contexts(households)
    gc.collect()
    before = rss_mb()
    detector = LearnedDetector(DetectorSettings(), ZoneInfo("Asia/Shanghai"))
    detector.table.reserve(households)
    started = time.perf_counter()
    detector.assess(NOW, {}, ctx)
    first_s = time.perf_counter() - started
    learned_state(detector, rng, dense_share)
    gc.collect()
    grown = rss_mb() - before
    times = []
    findings = 0
    for k in range(ticks):
        started = time.perf_counter()
        findings = len(detector.assess(NOW + 60.0 * (k + 1), {}, ctx))
        times.append(time.perf_counter() - started)
    size = state_bytes(detector)
    print(f"households {households:>9,}   first tick (registers them) {first_s:7.2f} s")
    print(f"  steady tick, median of {ticks}: {statistics.median(times) * 1000:8.1f} ms "
          f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; {findings:,} findings)")
    print(f"  state {size['total'] / MB:8,.0f} MB = {size['per_household']:,.0f} B/household: columns "
          f"{size['columns'] / households:,.0f} B/household present ({size['allocated'] / MB:,.0f} MB allocated, "
          f"capacity {detector.table.capacity:,}), hub table {size['hubs'] / MB:,.0f} MB, "
          f"row names {size['names'] / MB:,.0f} MB")
    print(f"  {detector.table.spells.size:,} households ({dense_share:.0%}) keep quiet spells "
          f"({detector.table.spells.nbytes() / max(detector.table.spells.size, 1):,.0f} B each)")
    print(f"  resident set grew {grown:,.0f} MB while the detector was built and filled")
    print(f"  largest columns per household: {largest_columns(detector)}")
    tick_ms, per = statistics.median(times) * 1000, size["per_household"]
    tick = ("met" if tick_ms <= 1000 else "NOT met") if households >= 1_000_000 else "judged at a million"
    print(f"  goal (issue 11, at a million: tick <= 1 s on one core, state <= 1 GB = {GOAL_BYTES:,} B/household): "
          f"tick {tick} ({tick_ms:,.0f} ms), "
          f"state {'met' if per <= GOAL_BYTES else 'NOT met'} ({per:,.0f} B/household, "
          f"{per / GOAL_BYTES:.1f}x the goal)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--households", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--dense-share", type=float, default=DENSE_SHARE,
                        help="share of households that have shown motion (they keep quiet spells)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"one core (CPU {sorted(os.sched_getaffinity(0))}), numpy {np.__version__}")
    for n in args.households:
        run(n, args.ticks, args.dense_share)
        gc.collect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident set {peak:,.0f} MB")


if __name__ == "__main__":
    main()
