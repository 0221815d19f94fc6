"""From per-home results to the figures the evaluation reports, per home and overall.

Delays: hours from the incapacitation to the first welfare alert; a missed incident counts as
an infinitely long delay, so a detector cannot improve its median by missing (a percentile that
falls on missed incidents is reported as null). False alerts per household-month: false alerts
over the months evaluated after the learning days.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from detector.evaluation.replay import HomeResult


def percentile(delays: list[float], q: float) -> float | None:
    """The q-th percentile of delays in hours, with missed incidents (inf) ranked last."""
    if not delays:
        return None
    values = np.array(delays, dtype=np.float64)
    if np.isfinite(values).all():
        return float(np.percentile(values, q))
    # by rank, without interpolating, so that a miss is never averaged with a delay
    value = float(np.quantile(values, q / 100.0, method="inverted_cdf"))
    return value if math.isfinite(value) else None


def summarise(results: list[HomeResult]) -> dict[str, Any]:
    """Delays, misses and false alerts pooled over `results`."""
    delays = [d for r in results for d in r.delays_h]
    false = [f for r in results for f in r.false_alerts]
    months = sum(r.household_months for r in results)
    return {
        "median_delay_h": _round(percentile(delays, 50)),
        "p90_delay_h": _round(percentile(delays, 90)),
        "incidents": len(delays),
        "missed": sum(1 for d in delays if not math.isfinite(d)),
        "already_alerting": sum(r.already_alerting for r in results),
        "false_alerts": len(false),
        "false_alerts_in_away": sum(1 for f in false if f.label == "away"),
        "false_alerts_in_sleep": sum(1 for f in false if f.label == "sleep"),
        "false_alerts_by_limit": dict(sorted(Counter(
            f.limit for f in false if f.limit is not None).items())),
        "household_months": round(months, 3),
        "false_alerts_per_household_month": round(len(false) / months, 3) if months else None,
    }


def by_detector(results: dict[str, list[HomeResult]]) -> dict[str, dict[str, Any]]:
    """One entry per detector: the pooled figures, its name, and the figures per home."""
    return {
        name: {"name": name, **summarise(rs), "homes": {r.home_id: summarise([r]) for r in rs}}
        for name, rs in results.items()
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
