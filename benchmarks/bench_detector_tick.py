"""How long the learned detector's tick takes over many households, and how big its state is.

    python benchmarks/bench_detector_tick.py [--households 100000] [--ticks 20]

Builds a detector whose households each have four weeks of learned rhythm (synthetic, drawn
from a seeded generator, straight into the household table), registers them with one hub
each in buildings of 40, then times: registering the households (the first tick), steady
ticks (the same contexts, as between registry re-reads), a tick after a registry re-read, a
tick during power cuts in ten buildings, and learning signs of life one by one. Prints the
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np

from detector.context import Context
from detector.learned import LearnedDetector
from detector.limits import apply_prior
from detector.rhythm import DEFAULT_DAY_PRIOR, cumulative, shrunk_rates
from detector.signs import SignKind, SignOfLife
from shouwang.domain.model import Household, Hub, Tier
from shouwang.settings import DetectorSettings

NOW = 1_732_269_600.0  # 2024-11-22 18:00 Asia/Shanghai


def contexts(n: int) -> dict[str, Context]:
    out = {}
    for i in range(n):
        hid = f"hh-{i:06d}"
        household = Household(hid, Tier(1 + i % 5), f"g-{i // 400:03d}", alias=f"elder {i}",
                              address=f"{i // 40}-{i % 40}", building=f"b-{i // 40:05d}",
                              monitoring_since=NOW - 60 * 86400)
        out[hid] = Context(household, (Hub(f"hub-{i:06d}", hid),), NOW - 60 * 86400)
    return out


def learned_state(detector: LearnedDetector, rng: np.random.Generator) -> None:
    """Four weeks of plausible rhythm per household, written straight into the table."""
    t = detector.table
    n = len(t)
    scale = rng.gamma(4.0, 0.25, size=(n, 1))
    t.set_rhythm(slice(0, n), rng.poisson(np.tile(DEFAULT_DAY_PRIOR, 7) * 4 * scale), np.full((n, 168), 4.0))
    counts, exposure = t.rhythm(slice(0, n))
    s = detector.settings.learned
    t.set_cum(slice(0, n), cumulative(shrunk_rates(counts, exposure, DEFAULT_DAY_PRIOR,
                                                   day_strength=s.day_prior_days,
                                                   week_strength=s.week_prior_days,
                                                   jitter_h=s.jitter_min / 60.0)))
    t.learned_days[:n] = 28
    t.threshold_own[:n] = rng.uniform(3, 8, size=(n, t.threshold_own.shape[1]))
    t.wake_own_h[:n] = rng.uniform(7, 9, size=n)
    t.last_sign[:n] = NOW - rng.exponential(1800.0, size=n)
    t.last_water[:n] = t.last_sign[:n] - rng.exponential(3600.0, size=n)
    t.heard_at[:n] = NOW - rng.uniform(0, 600, size=n)
    t.first_heard[:n] = NOW - 60 * 86400
    apply_prior(t, np.arange(n), s, detector.population, ceiling_s=detector.ceiling_s)
    detector.hubs.heard_at[:] = t.heard_at[detector.hubs.household]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    detector = LearnedDetector(DetectorSettings(), ZoneInfo("Asia/Shanghai"))
    ctx = contexts(args.households)
    started = time.perf_counter()
    detector.assess(NOW, {}, ctx)
    first_s = time.perf_counter() - started
    learned_state(detector, rng)
    times: list[float] = []
    found: Counter[str] = Counter()
    for k in range(args.ticks):
        started = time.perf_counter()
        found = Counter(f.kind.value for f in detector.assess(NOW + 60.0 * (k + 1), {}, ctx))
        times.append(time.perf_counter() - started)
    reread = contexts(args.households)
    started = time.perf_counter()
    detector.assess(NOW + 60.0 * (args.ticks + 1), {}, reread)
    refresh_s = time.perf_counter() - started
    dark = detector.hubs.household < 400  # ten buildings lose power
    detector.hubs.heard_at[dark] = NOW - 3 * 3600
    started = time.perf_counter()
    outage = detector.assess(NOW + 60.0 * (args.ticks + 2), {}, reread)
    outage_s = time.perf_counter() - started
    signs = [SignOfLife(f"hh-{int(i):06d}", NOW + 1200 + k, SignKind.WATER, "water")
             for k, i in enumerate(rng.integers(args.households, size=50_000))]
    started = time.perf_counter()
    detector.learn(signs)
    learn_s = time.perf_counter() - started
    print(f"households                       {args.households:,}")
    print(f"first tick (registers them)      {first_s * 1000:8.1f} ms")
    print(f"steady tick, median of {args.ticks:<3d}      {statistics.median(times) * 1000:8.1f} ms"
          f"   (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; findings {dict(found)})")
    print(f"tick after a registry re-read    {refresh_s * 1000:8.1f} ms"
          "   (every household's context compared again)")
    print(f"tick with 400 homes blind        {outage_s * 1000:8.1f} ms"
          f"   ({sum(f.details.get('building') is not None for f in outage)} building events, "
          f"{len(outage)} findings)")
    print(f"learning signs of life           {len(signs) / learn_s:8,.0f} signs/s")
    print(f"state per household              {detector.table.nbytes_per_household():8,.0f} bytes"
          f"   (table capacity {detector.table.capacity:,})")


if __name__ == "__main__":
    main()
