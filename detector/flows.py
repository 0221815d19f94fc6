"""Water or gas running far too long, judged against the household's own longest normal runs.

The limit for a run is margin x the longest run the household has finished normally (forgotten
slowly), held between an absolute floor and the fixed rule's ceiling; a home with too little
history gets the fixed rule's limit. A run that reached its limit is an incident and teaches
nothing.
"""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from detector.explain import running_words
from detector.signs import HomeState
from detector.table import HouseholdTable
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import SensorKind
from shouwang.settings import DetectorSettings

RUN_KINDS = (SensorKind.WATER, SensorKind.GAS)
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def limits_s(t: HouseholdTable, settings: DetectorSettings,
             rows: slice = slice(None)) -> tuple[Floats, Bools]:
    """(N, 2) seconds a water (column 0) or gas (column 1) run may last, and whether learned."""
    s = settings.learned
    ceiling = np.array([settings.water_run_max_min, settings.gas_run_max_min]) * 60.0
    floor = np.array([s.water_run_min_min, s.gas_run_min_min]) * 60.0
    normal = t.view("run_normal_s")[rows].astype(np.float64)
    learned = (t.view("learned_days")[rows] >= s.min_history_days)[:, None] & np.isfinite(normal)
    own = np.clip(s.run_margin * np.nan_to_num(normal), floor, ceiling)
    return np.where(learned, own, ceiling), learned


def sync_runs(t: HouseholdTable, i: int, home: HomeState, settings: DetectorSettings) -> None:
    """Copy the tracker's runs into the table; learn from each run that ended below its limit."""
    for col, kind in enumerate(RUN_KINDS):
        run = home.runs.get(kind)
        since = float(t.run_since[i, col])
        if run is None and math.isnan(since):
            continue  # no run then or now: most readings
        if not math.isnan(since) and (run is None or run[0] != since):
            length = float(t.run_until[i, col]) - since
            if length < limits_s(t, settings, slice(i, i + 1))[0][0, col]:
                t.run_normal_s[i, col] = np.fmax(t.run_normal_s[i, col], length)
        t.run_since[i, col], t.run_until[i, col] = run if run is not None else (np.nan, np.nan)


def running(t: HouseholdTable, settings: DetectorSettings, *, judged: npt.NDArray[np.bool_],
            now: float, tz: ZoneInfo) -> list[Finding]:
    """A finding for every run that has reached its household's limit."""
    run_since = t.view("run_since")  # (a copy: timestamps are kept packed, `Times`)
    if np.isnan(run_since).all():
        return []  # no water or gas running in any home: most ticks
    limit, learned = limits_s(t, settings)
    since_all = np.fmax(run_since, t.checked[:len(t), 3:5])
    since_all = np.where(np.isnan(run_since), np.nan, since_all)
    length = t.view("run_until") - since_all
    with np.errstate(invalid="ignore"):
        over = (length >= limit) & judged[:, None]
    findings = []
    for i, col in zip(*np.nonzero(over), strict=True):
        kind = RUN_KINDS[col]
        since = float(since_all[i, col])
        run_s = float(length[i, col])
        alert = AlertKind.WATER_RUNNING if kind is SensorKind.WATER else AlertKind.GAS_RUNNING
        usual_s = float(t.run_normal_s[i, col]) if learned[i, col] else float(limit[i, col])
        text, text_zh = running_words(kind.value, since, run_s, now, tz, limit_s=usual_s,
                                      learned=bool(learned[i, col]),
                                      started=float(t.run_since[i, col]))
        findings.append(Finding(
            t.ids[i], alert, Severity.URGENT, since, text,
            {"run_s": run_s, "limit_s": float(limit[i, col])}, explanation_zh=text_zh,
        ))
    return findings
