"""The learned detector's operating curve: delay against false alerts at several budgets.

The learned detector is run once per alert budget (`false_alerts_per_month`: false alerts per
household-month a community can bear); each run gives one point, its median and p90 delay after
an incapacitation against the false alerts it measured per household-month. The 12-hour rule has
no budget and gives a single point. The curve *dominates* the rule when, among the budgets whose
measured false-alert rate is at most the rule's, one alerts sooner (a lower median delay): at the
rule's own false-alert rate the learned detector is faster. No interpolation between budgets:
only points actually measured count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from detector.base import Detector
from detector.learned import LearnedDetector
from detector.rules import FixedRules
from shouwang.settings import DetectorSettings

BUDGETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
"""False alerts per household-month the curve is measured at (`--budgets`)."""
LEARNED = "learned"
RULE = "fixed-12h"
NO_NOTES_DAYS = 10**6
"""`unusual_day_min_days` for the curve's extra runs: the daily note never touches a welfare
alert, and its outlier model is most of a run's time."""


def name_at(budget: float) -> str:
    """The detector's name at a budget other than the configured one."""
    return f"{LEARNED}@{budget:g}"


@dataclass(frozen=True)
class Learned:
    """The learned detector at a budget (None: the configured one); picklable, so a worker
    process can build it."""

    settings: DetectorSettings
    seed: int
    budget: float | None = None

    def __call__(self, tz: ZoneInfo) -> Detector:
        s = self.settings
        if self.budget is not None:
            learned = s.learned.model_copy(update={"false_alerts_per_month": self.budget,
                                                   "unusual_day_min_days": NO_NOTES_DAYS})
            s = s.model_copy(update={"learned": learned})
        return LearnedDetector(s, tz, seed=self.seed)


@dataclass(frozen=True)
class Rule:
    """The fixed 12-hour rules of practice; picklable."""

    settings: DetectorSettings
    seed: int

    def __call__(self, tz: ZoneInfo) -> Detector:
        return FixedRules(self.settings, tz, seed=self.seed)


def factories(settings: DetectorSettings, *, seed: int,
              budgets: tuple[float, ...] = ()) -> dict[str, Learned | Rule]:
    """The configured learned detector, the rule, and the learned detector at each other budget."""
    made: dict[str, Learned | Rule] = {LEARNED: Learned(settings, seed), RULE: Rule(settings, seed)}
    configured = settings.learned.false_alerts_per_month
    for budget in budgets:
        if not math.isclose(budget, configured):
            made[name_at(budget)] = Learned(settings, seed, budget)
    return made


def budget_groups(factories: dict[str, Any]) -> list[dict[str, Any]]:
    """`factories` in groups replayed together: the learned detector at its extra budgets (same
    settings and seed, the daily note off) in one group, every other detector alone."""
    together: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    for name, make in factories.items():
        first = next(iter(together.values()), make)
        if (isinstance(make, Learned) and make.budget is not None
                and make.settings == first.settings and make.seed == first.seed):
            together[name] = make
        else:
            groups.append({name: make})
    if len(together) == 1:
        groups.append(together)
    elif together:
        groups.insert(0, together)  # the longest task first
    return groups


def points(summaries: dict[str, dict[str, Any]], *, configured: float,
           budgets: tuple[float, ...]) -> list[dict[str, Any]]:
    """One point per budget measured, lowest budget first (the configured one included)."""
    named = {configured: LEARNED} | {b: name_at(b) for b in budgets
                                     if not math.isclose(b, configured)}
    return [_point(summaries[name], budget=b) for b, name in sorted(named.items())
            if name in summaries]


def _point(m: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**extra, "median_delay_h": m["median_delay_h"], "p90_delay_h": m["p90_delay_h"],
            "missed": m["missed"], "false_alerts": m["false_alerts"],
            "false_alerts_per_household_month": m["false_alerts_per_household_month"]}


def at_rate(curve: list[dict[str, Any]], rate: float) -> dict[str, Any] | None:
    """The fastest measured point (lowest median delay) whose false-alert rate is at most `rate`;
    None when every budget measured makes more false alerts."""
    within = [p for p in curve if _rate(p) <= rate + 1e-9 and p["median_delay_h"] is not None]
    return min(within, key=lambda p: (p["median_delay_h"], _rate(p)), default=None)


def _rate(point: dict[str, Any]) -> float:
    rate = point["false_alerts_per_household_month"]
    return math.inf if rate is None else float(rate)


def compare(curve: list[dict[str, Any]], rule: dict[str, Any]) -> dict[str, Any]:
    """The curve beside the rule: the point that dominates it, if any (see module docstring)."""
    rule_point = _point(rule)
    best = at_rate(curve, _rate(rule_point))
    rule_delay = rule_point["median_delay_h"]
    dominates = best is not None and (rule_delay is None or best["median_delay_h"] < rule_delay)
    return {"budgets": curve, "rule": rule_point, "at_rule_rate": best, "dominates": dominates}


def of(summaries: dict[str, dict[str, Any]], *, configured: float,
       budgets: tuple[float, ...]) -> dict[str, Any] | None:
    """The curve of one set from its per-detector summaries, or None without a rule to compare."""
    if RULE not in summaries or LEARNED not in summaries:
        return None
    return compare(points(summaries, configured=configured, budgets=budgets), summaries[RULE])


def _cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table(label: str, curve: dict[str, Any]) -> str:
    """The operating curve as plain text, the rule's point under it, and whether it dominates."""
    head = ("budget / hh-month", "median h", "p90 h", "missed", "false", "false/hh-month")
    rows = [(f"{p['budget']:g}", _cell(p["median_delay_h"]), _cell(p["p90_delay_h"]),
             _cell(p["missed"]), _cell(p["false_alerts"]),
             _cell(p["false_alerts_per_household_month"])) for p in curve["budgets"]]
    r = curve["rule"]
    rows.append(("12-hour rule", _cell(r["median_delay_h"]), _cell(r["p90_delay_h"]),
                 _cell(r["missed"]), _cell(r["false_alerts"]),
                 _cell(r["false_alerts_per_household_month"])))
    widths = [max(len(x[i]) for x in (head, *rows)) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(x, widths, strict=True)))
             for x in (head, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    best = curve["at_rule_rate"]
    if best is None:
        verdict = ("does NOT dominate the rule: every budget measured makes more false alerts "
                   f"than the rule's {_cell(r['false_alerts_per_household_month'])}")
    else:
        verdict = (f"{'dominates' if curve['dominates'] else 'does NOT dominate'} the rule: at "
                   f"budget {best['budget']:g} it makes "
                   f"{_cell(best['false_alerts_per_household_month'])} false alerts per "
                   f"household-month (rule {_cell(r['false_alerts_per_household_month'])}) with a "
                   f"median delay of {_cell(best['median_delay_h'])} h "
                   f"(rule {_cell(r['median_delay_h'])} h)")
    return "\n".join([f"Operating curve, {label}:", *lines, f"  the learned detector {verdict}."])


def markdown(label: str, curve: dict[str, Any]) -> str:
    """The same curve as Markdown rows for docs/detector.md (set, budget, figures)."""
    out = []
    for p in curve["budgets"]:
        out.append(f"| {label} | learned, budget {p['budget']:g} | {_cell(p['median_delay_h'])} | "
                   f"{_cell(p['p90_delay_h'])} | {p['false_alerts']} | "
                   f"{_cell(p['false_alerts_per_household_month'])} |")
    r = curve["rule"]
    out.append(f"| {label} | **12-hour rule** | {_cell(r['median_delay_h'])} | "
               f"{_cell(r['p90_delay_h'])} | {r['false_alerts']} | "
               f"{_cell(r['false_alerts_per_household_month'])} |")
    return "\n".join(out)
