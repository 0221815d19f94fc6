"""One chart and the Markdown tables of docs/detector.md from several `shouwang evaluate --json` runs.

    python benchmarks/evaluation_chart.py sim11.json sim12.json sim13.json recorded.json \
        --chart docs/detector-evaluation.png

Each set of each file becomes a group named after the file's seed ("simulated, seed 11"); the
operating curves go under the bars, one panel per set, and the curve tables are printed as
Markdown rows (set, detector, median h, p90 h, false, false/hh-month).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from detector.evaluation import curve, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="JSON files of shouwang evaluate")
    parser.add_argument("--chart", type=Path, required=True)
    args = parser.parse_args()
    datasets: dict[str, dict[str, dict[str, Any]]] = {}
    curves: dict[str, dict[str, Any]] = {}
    for path in args.runs:
        data = json.loads(path.read_text(encoding="utf-8"))
        for label, entry in data["datasets"].items():
            name = f"{label}, seed {data['seed']}" if label == "simulated" else label
            datasets[name] = entry["detectors"]
            if entry.get("curve"):
                curves[name] = entry["curve"]
    report.write_chart(args.chart, datasets, curves)
    print("| set | detector | median h | p90 h | false | false/hh-month |")
    print("|---|---|---|---|---|---|")
    for name, made in curves.items():
        print(curve.markdown(name, made))
    for name, made in curves.items():
        best = made["at_rule_rate"]
        print(f"{name}: dominates {made['dominates']}; at the rule's rate: "
              f"{best and (best['budget'], best['median_delay_h'], best['p90_delay_h'])}")
    print(f"wrote {args.chart}")


if __name__ == "__main__":
    main()
