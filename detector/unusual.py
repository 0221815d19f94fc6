"""A daily note for the next visit: "this day looked unlike this household's usual days".

Each finished day is described by a few features (first and last sign of life, uses in all and
per kind, the longest daytime silence). Against the household's own last weeks of normal days,
robustly scaled (median and MAD), the day's Local Outlier Factor is computed (Breunig et al.,
"LOF: identifying density-based local outliers", SIGMOD 2000; scikit-learn's novelty mode). A day
more outlying than every day it was compared with, with LOF above 1.5 and a feature at least
three robust deviations out, becomes a low-severity note: never an emergency.
"""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sklearn.neighbors import LocalOutlierFactor

from detector.explain import WEEKDAYS_ZH, duration, duration_zh
from detector.localtime import day_start_ts
from detector.table import DAY_FEATURES, HouseholdTable
from shouwang.domain.alerts import AlertKind, Finding, Severity

Floats = npt.NDArray[np.float64]
MIN_LOF = 1.5
MIN_DEVIATION = 3.0
# A deviation smaller than this is never remarkable, however regular the home (hours or uses).
SCALE_FLOOR = np.array([0.5, 0.5, 3.0, 2.0, 2.0, 2.0, 1.0, 3.0, 0.5])
COUNT_WORDS = {"uses": "uses in all", "water": "water draws", "electricity": "appliance switches",
               "gas": "gas readings", "door": "door openings and closings",
               "activity": "movements"}
COUNT_WORDS_ZH = {"uses": "各类使用共", "water": "用水", "electricity": "电器开关",
                  "gas": "燃气读数", "door": "开关门", "activity": "活动"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def robust_scale(history: Floats) -> tuple[Floats, Floats]:
    """Median and scale (1.4826 · MAD, floored) of each feature over the household's days."""
    centre = np.nanmedian(history, axis=0)
    mad = np.nanmedian(np.abs(history - centre), axis=0) * 1.4826
    return np.nan_to_num(centre), np.maximum(np.nan_to_num(mad), SCALE_FLOOR)


def outlier_factor(history: Floats, day: Floats) -> tuple[float, float, Floats]:
    """The day's LOF, the largest LOF among the history days, and the day's robust deviations."""
    centre, scale = robust_scale(history)
    z_history = np.nan_to_num((history - centre) / scale)
    z_day = np.nan_to_num((day - centre) / scale)
    model = LocalOutlierFactor(n_neighbors=min(10, len(history) - 1), novelty=True)
    model.fit(z_history)
    lof = float(-model.score_samples(z_day[None, :])[0])
    return lof, float(np.max(-model.negative_outlier_factor_)), z_day


def _describe(feature: int, value: float, usual: float) -> tuple[str, str]:
    name = DAY_FEATURES[feature]
    if name.endswith("_h") and name != "longest_daytime_silence_h":
        first = name.startswith("first")
        what = "first sign of life" if first else "last sign of life"
        what_zh = "第一次生活迹象" if first else "最后一次生活迹象"
        return (f"{what} at {_clock(value)} (usually {_clock(usual)})",
                f"{what_zh}在{_clock(value, '无')}（平常{_clock(usual, '无')}）")
    if name == "longest_daytime_silence_h":
        return (f"longest daytime silence {duration(value * 3600)} "
                f"(usually {duration(usual * 3600)})",
                f"白天最长静默{duration_zh(value * 3600)}（平常{duration_zh(usual * 3600)}）")
    return (f"{value:.0f} {COUNT_WORDS[name]} (usually {usual:.0f})",
            f"{COUNT_WORDS_ZH[name]}{value:.0f}次（平常{usual:.0f}次）")


def _clock(hours: float, none: str = "none") -> str:
    if not math.isfinite(hours):
        return none
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_day(t: HouseholdTable, row: int, day: int, features: tuple[float, ...],
              tz: ZoneInfo) -> Finding | None:
    """A note if `day` looked unlike the household's other recent normal days, else None."""
    others = (t.ring_day[row] >= 0) & (t.ring_day[row] != day)
    history = t.features(row, others)
    if len(history) < 5:
        return None
    values = np.array(features, dtype=np.float64)
    lof, worst_seen, z = outlier_factor(history, values)
    if lof <= max(MIN_LOF, worst_seen) or np.nanmax(np.abs(z)) < MIN_DEVIATION:
        return None
    centre, _ = robust_scale(history)
    top = [int(k) for k in np.argsort(-np.abs(z))[:2] if abs(z[k]) >= MIN_DEVIATION]
    start = day_start_ts(day, tz)
    said = [_describe(k, float(values[k]), float(centre[k])) for k in top]
    words, words_zh = "; ".join(en for en, _ in said), "；".join(zh for _, zh in said)
    return Finding(
        t.ids[row], AlertKind.UNUSUAL_DAY, Severity.NOTE, start,
        f"{WEEKDAYS[day % 7]} looked unlike this home's usual days: {words}. "
        "Not an emergency: worth a word at the next visit",
        {"lof": lof, "day_start": start,
         "deviations": {DAY_FEATURES[k]: float(z[k]) for k in range(len(z))}},
        explanation_zh=f"这户的{WEEKDAYS_ZH[day % 7]}和平常不太一样：{words_zh}。"
                       "不是紧急情况：下次探访时值得问一问",
    )
