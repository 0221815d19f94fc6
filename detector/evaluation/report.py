"""What `shouwang evaluate` prints and writes: tables per home and overall, JSON, a PNG chart."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

HEADER = ("home", "detector", "incidents", "median h", "p90 h", "missed", "false",
          "in away", "in sleep", "hh-months", "false/hh-month")
LEGEND = (
    "incidents: injected or scripted emergencies judged; median h / p90 h: hours from an "
    "incident's start to the detector's alert\n(- when that rank falls on a missed incident, "
    "or there were none); missed: incidents never alerted on; false: alerts "
    "with no incident,\nof which 'in away' and 'in sleep' fell inside labelled spans; hh-months: "
    "household-months judged after learning; false/hh-month: false alerts per household-month."
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if math.isfinite(value) else "inf"
    return str(value)


def _row(home: str, name: str, m: dict[str, Any]) -> tuple[str, ...]:
    return (home, name, _cell(m["incidents"]), _cell(m["median_delay_h"]),
            _cell(m["p90_delay_h"]), _cell(m["missed"]), _cell(m["false_alerts"]),
            _cell(m["false_alerts_in_away"]), _cell(m["false_alerts_in_sleep"]),
            _cell(m["household_months"]), _cell(m["false_alerts_per_household_month"]))


def table(detectors: dict[str, dict[str, Any]], *, per_home: bool = True,
          legend: bool = True) -> str:
    """A plain-text table: each home, then the pooled figures, for every detector."""
    rows: list[tuple[str, ...]] = [HEADER]
    names = list(detectors)
    homes = list(detectors[names[0]]["homes"]) if names and per_home else []
    for home in homes:
        rows += [_row(home, n, detectors[n]["homes"][home]) for n in names]
    rows += [_row("overall", n, detectors[n]) for n in names]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths, strict=True))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + ([LEGEND] if legend else []))


def markdown(detectors: dict[str, dict[str, Any]], *, per_home: bool = True) -> str:
    """The same table in Markdown, for docs/detector.md."""
    names = list(detectors)
    homes = list(detectors[names[0]]["homes"]) if names and per_home else []
    rows = [_row(h, n, detectors[n]["homes"][h]) for h in homes for n in names]
    rows += [_row("**overall**", n, detectors[n]) for n in names]
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")


def chart_groups(datasets: dict[str, dict[str, dict[str, Any]]],
                 most_homes: int = 6) -> dict[str, dict[str, dict[str, Any]]]:
    """What the chart shows: each dataset overall, and each home of a small one."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for label, detectors in datasets.items():
        groups[label] = detectors
        homes = list(next(iter(detectors.values()))["homes"])
        if 1 < len(homes) <= most_homes:
            for home in homes:
                groups[home] = {n: m["homes"][home] for n, m in detectors.items()}
    return groups


def write_chart(path: Path, datasets: dict[str, dict[str, dict[str, Any]]],
                curves: dict[str, dict[str, Any]] | None = None) -> None:
    """Median delay and false alerts per household-month, per group and detector; under them,
    each set's operating curve (`detector.evaluation.curve`) with the rule's point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = curves or {}
    labels = list(datasets)
    columns = max(2, len(curves))
    fig = plt.figure(figsize=(max(11.0, 1.6 * len(labels) * 2, 4.6 * columns),
                              4.2 * (2 if curves else 1)))
    grid = fig.add_gridspec(2 if curves else 1, 2 * columns)
    half = columns
    _bars(fig.add_subplot(grid[0, :half]), fig.add_subplot(grid[0, half:]), datasets)
    for k, (label, made) in enumerate(curves.items()):
        _curve(fig.add_subplot(grid[1, 2 * k:2 * k + 2]), label, made)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(left: Any, right: Any, datasets: dict[str, dict[str, dict[str, Any]]]) -> None:
    labels = list(datasets)
    names = sorted({name for dets in datasets.values() for name in dets})
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        delays = [datasets[lb][name]["median_delay_h"] or 0.0 for lb in labels]
        rates = [datasets[lb][name]["false_alerts_per_household_month"] or 0.0 for lb in labels]
        xs = [i + k * width for i in range(len(labels))]
        left.bar(xs, delays, width, label=name)
        right.bar(xs, rates, width, label=name)
    for ax, title in zip((left, right), ("median delay after a daytime incapacitation (h)",
                                         "false alerts per household-month"), strict=True):
        ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(labels))], labels,
                      rotation=30, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.legend()
    left.axhline(3.0, color="grey", linestyle="--", linewidth=0.8)
    right.axhline(1.0, color="grey", linestyle="--", linewidth=0.8)


def _curve(ax: Any, label: str, made: dict[str, Any]) -> None:
    """Delay against false alerts per household-month: one point per budget, the rule's cross."""
    points = [p for p in made["budgets"] if p["false_alerts_per_household_month"] is not None]
    xs = [p["false_alerts_per_household_month"] for p in points]
    for key, style, what in (("median_delay_h", "o-", "median"), ("p90_delay_h", "s--", "p90")):
        ys = [p[key] if p[key] is not None else math.nan for p in points]
        ax.plot(xs, ys, style, label=f"learned, {what}", color="C0", markersize=4)
        if key == "median_delay_h":
            for p, x, y in zip(points, xs, ys, strict=True):
                ax.annotate(f"{p['budget']:g}", (x, y), textcoords="offset points",
                            xytext=(3, 4), fontsize=7)
    rule = made["rule"]
    for key, marker, what in (("median_delay_h", "X", "median"), ("p90_delay_h", "P", "p90")):
        if rule[key] is not None and rule["false_alerts_per_household_month"] is not None:
            ax.plot([rule["false_alerts_per_household_month"]], [rule[key]], marker,
                    color="C3", markersize=9, label=f"12-hour rule, {what}")
    ax.set_xlabel("false alerts per household-month (budget beside each point)", fontsize=8)
    ax.set_ylabel("delay (h)", fontsize=8)
    verdict = "dominates the rule" if made["dominates"] else "does NOT dominate the rule"
    ax.set_title(f"operating curve, {label}: {verdict}", fontsize=9)
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.legend(fontsize=7)
