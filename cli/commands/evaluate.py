"""`shouwang evaluate`: the learned detector and the 12-hour rule, side by side, measured.

By default: the simulated population with seeded incidents, then real recorded homes from a
folder of public home-sensor datasets (`--eval-data DIR`; the project's developers keep one beside
the checkout; skipped, with a message, when there is none). With `--events` (one or more files):
any recording in the CSV format of `detector.evaluation.recordings`.

Recorded homes are replayed as one community, as production runs: each home is judged with the
population prior pooled from the others (leave-one-out; `detector.evaluation.community`).
`--alone` replays each home alone, with the built-in prior, for comparison.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cli.commands.common import load_settings, positive
from shouwang.domain.errors import InvalidInput

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATASETS = ("ordonez-adl", "kasteren-2008-houseA", "ampds2-water-gas")
"""The folders of --eval-data (`detector.evaluation.eval_data.load_all` reads them all)."""
SHOWN = ("learned", "fixed-12h")
"""The detectors of the per-home tables; the others are points of the operating curve."""


def _budgets(text: str) -> tuple[float, ...]:
    if text.strip().lower() == "none":
        return ()
    try:
        values = tuple(sorted({float(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give budgets as numbers separated by commas, e.g. 0.25,0.5,1") from None
    if any(not 0 < v <= 30 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: each budget must be above 0 and at most 30")
    return values


def add_parser(commands: Any) -> None:
    p = commands.add_parser("evaluate", help="measure detectors on simulated and recorded homes",
                            description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--events", type=Path, action="append",
                   help="evaluate this events CSV (home_id,ts,kind,value); may be repeated")
    p.add_argument("--labels", type=Path, action="append",
                   help="labelled spans for --events (home_id,start,end,label); may be repeated")
    p.add_argument("--alone", action="store_true",
                   help="replay each recorded home alone (the built-in prior) instead of as a "
                   "community where each home has the others' prior (leave-one-out)")
    p.add_argument("--timezone", help="time zone of naive times in --events (default: settings)")
    p.add_argument("--inject", type=int, default=30,
                   help="incapacitations injected per recorded home (default 30)")
    p.add_argument("--seed", type=int, default=1,
                   help="the same seed gives the same homes, incidents and cuts (default 1)")
    p.add_argument("--json", type=Path, default=Path("shouwang-evaluation/evaluation.json"),
                   help="where the figures are written (default shouwang-evaluation/evaluation.json)")
    p.add_argument("--chart", type=Path, help="PNG chart (default: beside the JSON)")
    p.add_argument("--learning-days", type=float, default=7.0,
                   help="first days of each recording used only for learning (default 7)")
    p.add_argument("--homes", type=positive(int), default=40, help="simulated homes (default 40)")
    p.add_argument("--days", type=positive(int), default=56, help="simulated days (default 56)")
    p.add_argument("--sim-learning-days", type=int, default=14,
                   help="first simulated days used only for learning (default 14)")
    p.add_argument("--routines", choices=("varied", "classic"), default="varied",
                   help="simulated homes: the kinds of routine of simulator/routines.py in turn "
                   "(default), or all of the classic routine")
    p.add_argument("--no-simulated", action="store_true", help="skip the simulated population")
    p.add_argument("--no-recorded", action="store_true", help="skip the recorded homes")
    p.add_argument("--eval-data", type=Path,
                   help="a folder of recorded homes (the ordonez-adl, kasteren-2008-houseA and "
                   "ampds2-water-gas datasets, as published); default: one beside the project, if any")
    p.add_argument("--tick-min", type=positive(float), default=5.0, help="minutes between assessments (default 5)")
    p.add_argument("--budgets", type=_budgets, default="0.05,0.1,0.25,0.5,1,2,4",
                   help="false alerts per household-month the learned detector's operating curve "
                   "is measured at, comma-separated (default 0.05,0.1,0.25,0.5,1,2,4); 'none': "
                   "only the configured budget")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes replaying the homes (default: one per core; 1: all in this "
                   "process): the recorded homes one detector a task (the curve's extra budgets "
                   "one task, as copies of each home in one detector); the simulated "
                   "population's detectors dealt among the workers, each of which simulates it")
    p.set_defaults(handler=handle)


def _say(text: str) -> None:
    print(text, flush=True)


def _eval_data(args: argparse.Namespace) -> Path | None:
    if args.eval_data is not None:  # asked for: a typo is said, not taken for "no recorded homes"
        lacking = [name for name in DATASETS if not (args.eval_data / name).is_dir()]
        if not args.eval_data.is_dir() or lacking:
            raise InvalidInput(f"--eval-data {args.eval_data}: "
                               + ("no such folder" if not args.eval_data.is_dir() else
                                  f"no {', '.join(lacking)} in it")
                               + f" (it holds the recorded homes' datasets: {', '.join(DATASETS)})")
    candidates = [args.eval_data] if args.eval_data else [
        PROJECT_ROOT.parent / "shared" / "eval-data", Path.cwd().parent / "shared" / "eval-data"]
    return next((p.resolve() for p in candidates if p.is_dir()), None)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from detector.evaluation import run as evaluation

    if args.events is None and not args.no_recorded:
        _eval_data(args)  # a folder that is not there: said before anything runs
    if args.events is None and not args.no_simulated and args.days <= args.sim_learning_days:
        # refused before any recorded home is replayed in the background
        raise InvalidInput(
            f"--days {args.days} ends within the {args.sim_learning_days} learning days "
            "(--sim-learning-days): incidents and false alerts are only counted after them, so "
            f"nothing would be measured. Use --days {args.sim_learning_days + 7} or more.")
    factories = evaluation.detectors(settings.detector, seed=args.seed, budgets=args.budgets)
    _say(f"shouwang evaluate: detectors {', '.join(SHOWN)}; the learned detector's operating "
         f"curve at budgets {', '.join(f'{b:g}' for b in args.budgets) or 'none'} (configured "
         f"{settings.detector.learned.false_alerts_per_month:g}); seed {args.seed}")
    results: dict[str, dict[str, list[Any]]] = {}
    extras: dict[str, dict[str, float]] = {}
    by_kind: dict[str, Any] = {}
    workers = max(1, min(args.workers, len(factories)))
    # spawned, not forked: a fork copies whatever locks the caller's other threads hold (a test
    # runner's, a client's), and a worker stuck on one leaves the evaluation waiting for ever
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn) if workers > 1 else _Inline() as pool:
        if args.events is not None:
            pending = _events(args, factories, settings, pool)
            results["events"] = _gather(pending, "events", args, settings)
        else:
            # the simulated parts first: they are the longest tasks
            simulating = (None if args.no_simulated
                          else _simulate(args, factories, settings, pool, workers))
            recorded = None if args.no_recorded else _recorded(args, factories, settings, pool)
            if simulating is not None:
                results["simulated"], extras = _simulated(args, simulating, settings, by_kind)
            if recorded is not None:
                results["recorded"] = _gather(recorded, "recorded homes", args, settings)
    return _write(args, settings, results, extras, by_kind)


class _Inline:
    """An executor that runs each task at once in this process (`--workers 1`)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def _gather(pending: dict[str, Any], label: str, args: argparse.Namespace,
            settings: Any) -> dict[str, list[Any]]:
    """The results of recordings replayed in the pool, then their tables."""
    from detector.evaluation import metrics, report

    started = time.perf_counter()
    results = {name: future.result()[name] for name, future in pending.items()}
    _say(f"\n{label.capitalize()}:")
    summaries = metrics.by_detector(results)
    _say(report.table({n: summaries[n] for n in SHOWN}))
    _say(_curve_text(label, summaries, args, settings))
    _say(f"  ({time.perf_counter() - started:.0f} s waited)")
    return results


def _curve_text(label: str, summaries: dict[str, Any], args: argparse.Namespace,
                settings: Any) -> str:
    from detector.evaluation import curve

    made = curve.of(summaries, configured=settings.detector.learned.false_alerts_per_month,
                    budgets=args.budgets)
    return "" if made is None else "\n" + curve.table(label, made)


def _events(args: argparse.Namespace, factories: dict[str, Any], settings: Any,
            pool: Any) -> dict[str, Any]:
    from detector.evaluation import run as evaluation
    from detector.evaluation.recordings import (
        RecordingError,
        read_events_csv,
        read_labels_csv,
        with_labels,
    )

    tz = ZoneInfo(args.timezone or settings.timezone)
    try:
        homes = [home for path in args.events
                 for home in read_events_csv(path, None, tz)]
        with_labels(homes, [read_labels_csv(path, tz) for path in args.labels or []])
    except (RecordingError, OSError) as exc:
        raise InvalidInput(str(exc)) from None
    if len({h.home_id for h in homes}) < len(homes):
        raise InvalidInput("the same home_id appears in two --events files; give each home "
                           "its own id")
    names = ", ".join(str(p) for p in args.events)
    _say(f"\n{names}: {len(homes)} home(s), {args.inject} incapacitations injected per "
         f"home. The first {args.learning_days:g} days of each are used only for learning; "
         "incidents are injected and false alerts counted after them.")
    return evaluation.recordings_in(pool, factories, homes, inject=args.inject, seed=args.seed,
                                    learning_days=args.learning_days, tick_s=args.tick_min * 60.0,
                                    priors=_priors(args, settings, homes))


def _priors(args: argparse.Namespace, settings: Any, homes: list[Any]) -> Any:
    from detector.evaluation import run as evaluation

    if args.alone:
        _say("Each home replayed alone: the learned detector starts from the built-in prior.")
        return None
    priors = evaluation.community_priors(settings.detector, homes, seed=args.seed,
                                         progress=_progress)
    pooled = sum(1 for p in priors.values() if p.households)
    _say(f"Replayed as one community: each home judged with the prior pooled from the others "
         f"(leave-one-out; {pooled} of {len(homes)} homes had at least three others with "
         "history, the rest the built-in prior). --alone replays each home alone.")
    return priors


def _recorded(args: argparse.Namespace, factories: dict[str, Any], settings: Any,
              pool: Any) -> dict[str, Any] | None:
    from detector.evaluation import eval_data
    from detector.evaluation import run as evaluation

    root = _eval_data(args)
    if root is None:
        _say("\nRecorded homes: skipped, no ../shared/eval-data next to the project "
             "(give --eval-data DIR to use another place).")
        return None
    _say(f"\nRecorded homes from {root}: {args.inject} incapacitations injected per home (every "
         "sign cut after a random at-home moment, 07:00-21:00). The first "
         f"{args.learning_days:g} days of each recording are used only for learning. (Replayed "
         "in the background; their tables come last.)")
    homes = eval_data.load_all(root)
    return evaluation.recordings_in(pool, factories, homes, inject=args.inject,
                                    seed=args.seed, learning_days=args.learning_days,
                                    tick_s=args.tick_min * 60.0, priors=_priors(args, settings, homes))


def _simulate(args: argparse.Namespace, factories: dict[str, Any], settings: Any, pool: Any,
              workers: int) -> tuple[list[Any], float]:
    """The simulated population's parts submitted to `pool`, one a worker, and when."""
    from detector.evaluation import run as evaluation
    from detector.evaluation.simulated import Scenario

    if args.days < args.sim_learning_days + 7:
        _say(f"note: only {args.days - args.sim_learning_days} day(s) are judged after learning; "
             "the figures below rest on few incidents.")
    scenario = Scenario(homes=args.homes, days=args.days, learning_days=args.sim_learning_days,
                        seed=args.seed, tick_s=args.tick_min * 60.0, routines=args.routines)
    _say(f"\nSimulated population: {scenario.homes} homes ({scenario.routines} routines), "
         f"{scenario.days} days, seed {scenario.seed}. The first {scenario.learning_days} days "
         "are used only for learning; then each home has two incapacitations at random at-home "
         "daytime moments, and some have a trip away, hub outages, a tap left running or gas left on.")
    return (evaluation.simulated_in(pool, factories, scenario, settings.detector, parts=workers),
            time.perf_counter())


def _simulated(args: argparse.Namespace, simulating: tuple[list[Any], float], settings: Any,
               extra_kinds: dict[str, Any]) -> tuple[dict[str, list[Any]], dict[str, dict[str, float]]]:
    """The simulated population's tables, once its parts are done."""
    from detector.evaluation import metrics, report
    from detector.evaluation import run as evaluation
    from detector.evaluation.simulated import by_kind

    pending, started = simulating
    outcome = evaluation.merged([future.result() for future in pending])
    summaries = metrics.by_detector(outcome.homes)
    _say(report.table({n: summaries[n] for n in SHOWN}))
    kinds = metrics.by_detector(by_kind(outcome))
    if len(next(iter(kinds.values()))["homes"]) > 1:
        _say("\nBy kind of routine (simulator/routines.py):")
        _say(report.table({n: kinds[n] for n in SHOWN}, legend=False))
    for name in SHOWN:
        _say(f"  {name}: " + ", ".join(
            f"{k} {v:g}" if math.isfinite(v) else f"{k} none (nothing detected)"
            for k, v in outcome.extra[name].items()))
    _say(_curve_text("simulated", summaries, args, settings))
    _say(f"  ({time.perf_counter() - started:.0f} s)")
    extra_kinds.update(kinds)
    return outcome.homes, {n: outcome.extra[n] for n in SHOWN}


def _write(args: argparse.Namespace, settings: Any, results: dict[str, dict[str, list[Any]]],
           extras: dict[str, dict[str, float]], extra_kinds: dict[str, Any]) -> int:
    from detector.evaluation import curve, metrics, report

    if not results:
        _say("nothing evaluated")
        return 1
    configured = settings.detector.learned.false_alerts_per_month
    everything = {label: metrics.by_detector(r) for label, r in results.items()}
    datasets = {label: {n: d[n] for n in SHOWN} for label, d in everything.items()}
    curves = {label: curve.of(d, configured=configured, budgets=args.budgets)
              for label, d in everything.items()}
    overall = metrics.by_detector({n: [h for r in results.values() for h in r[n]] for n in SHOWN})
    for name, extra in extras.items():
        datasets["simulated"][name]["simulated"] = {
            k: (v if math.isfinite(v) else None) for k, v in extra.items()}
        if name in extra_kinds:
            datasets["simulated"][name]["kinds"] = extra_kinds[name]["homes"]
    if len(results) > 1:
        _say("\nAll homes together:")
        _say(report.table(overall, per_home=False))
    data: dict[str, Any] = {
        "seed": args.seed, "inject_per_home": args.inject, "budget": configured,
        "learning_days": {"recorded": args.learning_days, "simulated": args.sim_learning_days},
        "detectors": overall,
        "datasets": {label: {"detectors": d, "curve": curves[label]}
                     for label, d in datasets.items()}}
    if extra_kinds:
        data["datasets"]["simulated"]["curve_by_kind"] = {
            kind: curve.of({n: m["homes"][kind] for n, m in extra_kinds.items()},
                           configured=configured, budgets=args.budgets)
            for kind in extra_kinds["learned"]["homes"]}
    report.write_json(args.json, data)
    chart = args.chart or args.json.with_suffix(".png")
    report.write_chart(chart, report.chart_groups(datasets),
                       {k: v for k, v in curves.items() if v is not None})
    _say(f"\nwrote {args.json} and {chart}")
    return 0
