"""From stored readings to what staff read: hourly use per sensor, signs of life per hour.

Pure: no web framework, no database; the route hands in readings, settings and times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo

from detector.signs import HomeState, SignOfLife, SignReader
from shouwang.domain.model import SensorKind, StoredReading, Visit
from shouwang.domain.usual import expected_uses

HOUR = 3600.0
UNITS = {SensorKind.WATER: "m3", SensorKind.GAS: "m3", SensorKind.ELECTRICITY: "kWh",
         SensorKind.DOOR: "changes", SensorKind.MOTION: "movements", SensorKind.BUTTON: "presses"}
SIGN_KINDS = ("water", "electricity", "gas", "door", "visit")


def hour_floor(ts: float) -> float:
    return ts - ts % HOUR


def hourly_use(readings: Iterable[StoredReading], *, start: float,
               end: float) -> dict[str, list[tuple[float, float, int]]]:
    """Per sensor: (hour start, use in the hour, readings in the hour) for each hour in range.

    A register's use is its rise since the previous reading, counted in the hour of the later
    reading (a reset or a late reading counts as none); a door's is its changes of state; a motion
    sensor's the movements it saw, a button's its presses.
    """
    first = hour_floor(start)
    hours = max(0, int((end - first + HOUR - 1) // HOUR))
    use: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    last: dict[str, StoredReading] = {}
    for r in sorted(readings, key=lambda r: r.ts):
        previous = last.get(r.sensor)
        last[r.sensor] = r
        slot = int((r.ts - first) // HOUR)
        if not 0 <= slot < hours:
            continue
        use.setdefault(r.sensor, [0.0] * hours)
        counts.setdefault(r.sensor, [0] * hours)
        counts[r.sensor][slot] += 1
        if r.kind in (SensorKind.MOTION, SensorKind.BUTTON):
            use[r.sensor][slot] += 1.0 if r.value > 0.5 else 0.0
            continue
        if previous is None:
            continue
        if r.kind is SensorKind.DOOR:
            use[r.sensor][slot] += 1.0 if r.value != previous.value else 0.0
        elif r.value > previous.value:
            use[r.sensor][slot] += r.value - previous.value
    return {sensor: [(first + i * HOUR, round(use[sensor][i], 6), counts[sensor][i])
                     for i in range(hours)] for sensor in sorted(use)}


def signs_of_life(readings: Sequence[StoredReading], reader: SignReader,
                  household_id: str) -> list[SignOfLife]:
    """Every sign of life in the readings, read the way the detector reads them."""
    home = HomeState(household_id)
    found: list[SignOfLife] = []
    for r in sorted(readings, key=lambda r: r.ts):
        found.extend(reader.read(home, r))
    return found


def activity(signs: Iterable[SignOfLife], visits: Iterable[Visit], *, start: float,
             hours: int) -> dict[str, list[int]]:
    """Signs of life per kind in each hour from `start` (visits count as their own kind)."""
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0] * hours)
    moments = [(s.ts, s.kind.value) for s in signs] + [(v.at, "visit") for v in visits]
    for ts, kind in moments:
        slot = int((ts - start) // HOUR)
        if 0 <= slot < hours:
            counts[kind][slot] += 1
    return {kind: counts[kind] if kind in counts else [0] * hours for kind in SIGN_KINDS}


def usual_per_hour(signs: Iterable[SignOfLife], *, tz: tzinfo) -> tuple[dict[str, list[float]], int]:
    """Per kind, the household's own average signs of life in each local hour of the day, over
    the days it showed any life (a day away is not a usual day at home); and how many such days."""
    totals: dict[str, list[int]] = {kind: [0] * 24 for kind in SIGN_KINDS if kind != "visit"}
    days: set[date] = set()
    for sign in signs:
        moment = datetime.fromtimestamp(sign.ts, tz)
        days.add(moment.date())
        totals[sign.kind.value][moment.hour] += 1
    n = len(days)
    return {kind: [round(c / n, 3) if n else 0.0 for c in counts] for kind, counts in totals.items()}, n


def expected_between(usual: dict[str, list[float]], start: float, end: float, *, tz: tzinfo) -> float:
    """Signs of life a usual day brings between two moments (each hour counted by its share)."""
    day = [sum(rates[hour] for rates in usual.values()) for hour in range(24)]
    return expected_uses(day * 7, start, end, tz=tz)  # the same every day of the week


def uses(signs: Iterable[SignOfLife], *, gap_s: float) -> list[SignOfLife]:
    """Signs of life as uses, the way the detector counts them: signs closer than `gap_s` to the
    one before are the same use (a kettle and the tap beside it), counted once, as the first."""
    kept: list[SignOfLife] = []
    last = float("-inf")
    for sign in sorted(signs, key=lambda s: s.ts):
        if sign.ts - last > gap_s:
            kept.append(sign)
        last = sign.ts
    return kept
