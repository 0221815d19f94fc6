"""The varied simulated population as an events CSV and a labels CSV: a set judged as the
issue's held-out ones are (events only, no power readings), by `shouwang evaluate --events`.

    python -m benchmarks.events_export --homes 16 --days 60 --seed 21 --out /tmp/sim-21
    shouwang evaluate --events /tmp/sim-21/events.csv --labels /tmp/sim-21/labels.csv \\
        --inject 40 --seed 11 --budgets 0.5,1,2

Outings and trips are labelled `away`, nights `sleep` (the routine's ground truth): `evaluate`
injects no incapacitation inside them and counts every alert as false. The homes' kinds of
routine are those of `simulator.routines`, in turn (sim-0001 classic, sim-0002 early_riser, ...).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from detector.evaluation.recordings import write_events_csv, write_labels_csv
from detector.evaluation.simulated import Scenario, as_recordings
from shouwang.settings import DetectorSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=16)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    recordings = as_recordings(Scenario(homes=args.homes, days=args.days, seed=args.seed),
                               DetectorSettings())
    write_events_csv(args.out / "events.csv", *recordings)
    write_labels_csv(args.out / "labels.csv", *recordings)
    print(f"{len(recordings)} homes, {args.days} days, {sum(len(r.ts) for r in recordings):,} "
          f"signs, {sum(len(r.labels) for r in recordings):,} labelled spans -> {args.out}")


if __name__ == "__main__":
    main()
