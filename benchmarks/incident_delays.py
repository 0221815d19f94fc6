"""Each simulated incapacitation, one line: where a detector's p90 delay comes from.

    python -m benchmarks.incident_delays --seed 11                 # budget 0.5, 24 homes, 42 days
    python -m benchmarks.incident_delays --seed 12 --budget 1 --homes 12

Runs the learned detector alone over the varied simulated population (as `shouwang evaluate
--no-recorded` does) and prints, per incapacitation: the home's kind of routine, when she fell,
when the silence it alerted on began, the delay, which limit fired ("open": an alert was already
open), and the household's learned night (usual bedtime and getting-up, bedtime limits, wake and
safety limits, Λ thresholds by part of the day) as they stand at the end of the run; then every
false alert with its limit and label, and the median and p90 delay.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from detector.evaluation import curve
from detector.evaluation import simulated as sim
from detector.evaluation.replay import WELFARE
from detector.learned import LearnedDetector
from shouwang.settings import DetectorSettings
from simulator.incidents import IncidentKind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--budget", type=float, default=0.5)
    parser.add_argument("--homes", type=int, default=24)
    parser.add_argument("--days", type=int, default=42)
    args = parser.parse_args()
    settings = DetectorSettings()
    seen: dict[str, Any] = {}
    score = sim._score

    def keep(watch: Any, homes: Any, plan: Any, first: float, end: float) -> Any:
        seen.update(watch=watch, homes=homes, plan=plan, end=end)
        return score(watch, homes, plan, first, end)

    sim._score = keep  # type: ignore[assignment]
    scenario = sim.Scenario(homes=args.homes, days=args.days, seed=args.seed)
    outcome = sim.run(scenario, {"learned": curve.Learned(settings, args.seed, args.budget)},
                      settings)
    tz = ZoneInfo(scenario.timezone)
    watch = seen["watch"]
    detector: LearnedDetector = watch.detector
    t = detector.table

    def clock(ts: float) -> str:
        return datetime.fromtimestamp(ts, tz).strftime("%a %H:%M") if math.isfinite(ts) else "-"

    delays = []
    for home in sorted(seen["homes"], key=lambda h: (outcome.kinds[h.home_id], h.home_id)):
        i = t.find(home.home_id)
        night = (f"bed {t.bed_h[i]:5.2f} up {t.wake_h[i]:5.2f} bed limits {t.bed_early_h[i]:5.2f}"
                 f"-{t.bed_late_h[i]:5.2f} wake limit {t.wake_limit_h[i]:5.2f} safety "
                 f"{t.quiet_limit_h[i]:5.2f} Λ {float(t.threshold[i, 0]):.1f}, {float(t.threshold[i, 1]):.1f}")
        for incident in seen["plan"].incidents:
            if incident.home_id != home.home_id or incident.kind is not IncidentKind.INCAPACITATION:
                continue
            end = incident.end or seen["end"]
            hits = [(at, f) for at, f in watch.rose if f.household_id == home.home_id
                    and f.kind in WELFARE and incident.start <= at <= end]
            if watch.alerting_at(home.home_id, incident.start):
                delay, limit, since = 0.0, "open", math.nan
            elif hits:
                at, finding = min(hits, key=lambda hit: hit[0])
                delay = (at - incident.start) / 3600.0
                limit, since = finding.details.get("limit", finding.kind.value), finding.since
            else:
                delay, limit, since = math.inf, "missed", math.nan
            delays.append(delay)
            print(f"{outcome.kinds[home.home_id]:18s} {home.home_id} fell {clock(incident.start)} "
                  f"silent since {clock(since)} delay {delay:5.2f} h {limit:13s} {night}")
    months = 0.0
    for result in outcome.homes["learned"]:
        months += result.household_months
        for alert in result.false_alerts:
            print(f"false alert {result.home_id} {outcome.kinds[result.home_id]} {clock(alert.at)} "
                  f"{alert.limit} {alert.label or ''}")
    values = np.array(delays)
    print(f"median {np.median(values):.2f} h, p90 {np.percentile(values, 90):.2f} h, "
          f"{sum(len(r.false_alerts) for r in outcome.homes['learned'])} false alerts in "
          f"{months:.1f} household-months")


if __name__ == "__main__":
    main()
