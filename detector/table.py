"""What the learned detector keeps per household, as columns: row i is one household.

Columns let a tick judge every household with a handful of numpy operations. The table grows by
doubling, so adding a household is amortised O(1).

Each row is 1,622 bytes with the default two parts of the day (`python -m
benchmarks.detector_scale` prints the whole state, with the quiet spells of a quarter of the
households, the hub table and the row names). The rhythm is 530 bytes: its counts and exposure
are bytes with one step a row (block floating point, `add_to_rhythm`: the decay scales the
step, so only the hours a day adds round), its cumulative form a byte an hour in steps of the
busiest hour with the running sum at each day's end (`cum_q`, `cum_day`: every position to half
a step, about 0.005 of an episode). The history rings' hours are uint16 in 1.8-second steps
(`pack_hours`; in 6-minute bytes, ties among a few weeks' maxima moved calibrated limits, and
in 12 bits of 30 seconds Kasteren A's median delay went from 3.56 to 3.91 h: not kept), the
top silences only for the configured parts of the day (`parts`: 224 bytes), the day features
bytes (`pack_features`: 252). The quiet spells are kept only for the homes that have shown
motion (`SpellTable`), timestamps as
int32 whole seconds (`Times`: 80 bytes), the row names as numpy bytes (`detector.names`).
`shouwang evaluate`'s figures stay within a few hundredths of an hour of the float64 layout's
(docs/detector.md §7). The goal of 1 kB a household with the names (issue 11) is not met: the
rest is the model itself (a rhythm by hour of weekdays and weekend days, 48 bins instead of 168,
and three weeks of history instead of four both moved `shouwang evaluate`'s delays: not kept).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from detector.names import Names
from shouwang.domain.alerts import AlertKind

HISTORY_DAYS = 28
"""Days of daily maxima and day features kept for calibration and the unusual-day note."""
DAY_FEATURES = (
    "first_sign_h", "last_sign_h", "uses", "water", "electricity", "gas", "door", "activity",
    "longest_daytime_silence_h",
)
KIND_COLUMNS = ("water", "electricity", "gas", "door", "activity")
BUCKETS = 4
"""At most this many parts of the day whose silences are calibrated apart (by start time)."""
CHECKED_KINDS = (AlertKind.INACTIVITY, AlertKind.NO_WATER, AlertKind.HUB_OFFLINE,
                 AlertKind.WATER_RUNNING, AlertKind.GAS_RUNNING)
QUIET_DAY, UNSEEN_DAY = 1, 2
BASE_HOURS = 2600 * 168
"""Stored silences are local hours minus this whole number of weeks, so float32 keeps seconds."""
HOUR_STEP = 1 / 2000
"""The resolution of hours kept in the history rings (1.8 s; up to 32.7 h): two bytes each,
`pack_hours`. (In 6-minute steps, one byte, ties among a few weeks' daily maxima moved the
calibrated tails: `detector.calibration` counts the days above the median.)"""
NO_HOURS = 65535
"""The value that stands for "none" (NaN) among packed hours."""
RHYTHM_STEPS = 255
"""The rhythm's counts and exposure are bytes in steps of one scale a row (`add_to_rhythm`)."""
CHUNK = 65_536
"""Rows judged at once by `expected` (its temporaries are a few bytes an hour of a row)."""
DAY_STEPS = 255
"""The day in progress's hours at home are bytes in 1/DAY_STEPS of an hour (14 s)."""
CUM_STEPS = 254
"""The busiest hour's rate in steps of the cumulative rate (`cum_q`): an hour's rounded
difference is then at most 255, a byte."""


def _pack(hours: Any, step: float, none: int, dtype: Any) -> Any:
    """Hours in `step`s, to the nearest, as `dtype` below `none`; NaN as `none`."""
    h = np.asarray(hours, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = np.clip(np.rint(h / step), 0, none - 1)
    return np.where(np.isnan(h), none, q).astype(dtype)


def _unpack(packed: Any, step: float, none: int) -> Any:
    """The inverse of `_pack` (float64, NaN for `none`)."""
    q = np.asarray(packed)
    return np.where(q == none, np.nan, q.astype(np.float64) * step)


def pack_hours(hours: Any) -> Any:
    """Hours (0 to 32.7) as uint16 in HOUR_STEP steps, to the nearest; NaN as NO_HOURS."""
    return _pack(hours, HOUR_STEP, NO_HOURS, np.uint16)


def unpack_hours(packed: Any) -> Any:
    """The inverse of `pack_hours` (float64, NaN for NO_HOURS)."""
    return _unpack(packed, HOUR_STEP, NO_HOURS)


TENTH = 0.1
"""The resolution of the day features' hours (6 minutes; one byte each: `pack_tenths`). (The
top silences' ends and lengths in such bytes moved detection delays by ±0.1-0.2 h a home in
`shouwang evaluate`, one incident by 3 h: they stay `pack_hours`.)"""
NO_TENTHS = 255
"""The value that stands for "none" (NaN) among bytes (`pack_tenths`, `pack_features`)."""
FEATURE_HOURS = tuple(DAY_FEATURES.index(f) for f in DAY_FEATURES if f.endswith("_h"))
EXACT_COUNTS = 128
"""Day features that count (uses, signs of a kind) are kept exactly below this, then in steps of
about 5% (`pack_features`)."""
COUNT_STEPS = (NO_TENTHS - 1 - EXACT_COUNTS) / np.log(65535 / EXACT_COUNTS)


def pack_tenths(hours: Any) -> Any:
    """Hours (0 to 25.4) as uint8 in tenths of an hour, to the nearest; NaN as NO_TENTHS."""
    return _pack(hours, TENTH, NO_TENTHS, np.uint8)


def unpack_tenths(packed: Any) -> Any:
    """The inverse of `pack_tenths` (float64, NaN for NO_TENTHS)."""
    return _unpack(packed, TENTH, NO_TENTHS)


def pack_features(features: Any) -> Any:
    """A day's DAY_FEATURES as bytes: hours by `pack_tenths`, counts exact below EXACT_COUNTS
    and on a logarithmic scale above (up to 65,535); NaN as NO_TENTHS."""
    x = np.asarray(features, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        big = EXACT_COUNTS + np.rint(np.log(np.maximum(x, 1.0) / EXACT_COUNTS) * COUNT_STEPS)
        q = np.clip(np.where(x < EXACT_COUNTS - 0.5, np.rint(x), big), 0, NO_TENTHS - 1)
    q = np.where(np.isnan(x), NO_TENTHS, q).astype(np.uint8)
    q[..., list(FEATURE_HOURS)] = pack_tenths(x[..., list(FEATURE_HOURS)])
    return q


def unpack_features(packed: Any) -> Any:
    """The inverse of `pack_features` (float64, NaN for NO_TENTHS)."""
    q = np.asarray(packed)
    x = q.astype(np.float64)
    big = EXACT_COUNTS * np.exp((x - EXACT_COUNTS) / COUNT_STEPS)
    x = np.where(q == NO_TENTHS, np.nan, np.where(x < EXACT_COUNTS, x, big))
    x[..., list(FEATURE_HOURS)] = unpack_tenths(q[..., list(FEATURE_HOURS)])
    return x


EPOCH_S = 1_577_836_800
"""Timestamps are kept as whole seconds from 2020-01-01 00:00 UTC, int32 (1952 to 2088)."""
NO_TIME, END_OF_TIME = np.iinfo(np.int32).min, np.iinfo(np.int32).max
"""The values that stand for "none" (NaN) and "never" (+inf) among kept timestamps."""


def pack_times(ts: Any) -> npt.NDArray[np.int32]:
    """Timestamps (seconds, float) as int32 whole seconds from EPOCH_S; NaN as NO_TIME."""
    x = np.asarray(ts, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = np.clip(np.rint(x - EPOCH_S), NO_TIME + 1, END_OF_TIME)
    packed: npt.NDArray[np.int32] = np.where(np.isnan(x), NO_TIME, q).astype(np.int32)
    return packed


def unpack_times(packed: Any) -> npt.NDArray[np.float64]:
    """The inverse of `pack_times` (float64 seconds; NaN for NO_TIME, +inf for END_OF_TIME)."""
    q = np.asarray(packed)
    ts: npt.NDArray[np.float64] = np.add(q, float(EPOCH_S), dtype=np.float64)
    np.copyto(ts, np.nan, where=q == NO_TIME)
    if q.max(initial=0) == END_OF_TIME:
        ts[q == END_OF_TIME] = np.inf
    return ts


_SCALARS = (float, int, np.floating, np.integer)


class Times:
    """A column of timestamps kept as `pack_times` (`raw`), read and written as float seconds:
    `column[rows]` is a float64 copy (NaN: none), `column[rows] = ts` packs. Whole seconds:
    nothing the detector judges turns on less (its limits are minutes and hours)."""

    __slots__ = ("raw",)

    def __init__(self, raw: npt.NDArray[np.int32]) -> None:
        self.raw = raw

    def __getitem__(self, key: Any) -> Any:
        q = self.raw[key]
        if isinstance(q, np.integer):  # one value: without numpy's per-call overhead
            v = int(q)
            return np.float64(math.nan if v == NO_TIME else math.inf if v == END_OF_TIME else v + EPOCH_S)
        return unpack_times(q)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, _SCALARS):
            x = float(value) - EPOCH_S
            self.raw[key] = (NO_TIME if math.isnan(x) else END_OF_TIME if x >= END_OF_TIME
                             else NO_TIME + 1 if x <= NO_TIME + 1 else round(x))
        else:
            self.raw[key] = pack_times(value)

    def __len__(self) -> int:
        return len(self.raw)

    def __array__(self, dtype: Any = None, copy: Any = None) -> npt.NDArray[Any]:
        return unpack_times(self.raw) if dtype is None else unpack_times(self.raw).astype(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.raw.shape)

    @property
    def nbytes(self) -> int:
        return int(self.raw.nbytes)


def _raw(column: Any) -> npt.NDArray[Any]:
    """A column's stored array (a `Times` column's packed seconds)."""
    raw: npt.NDArray[Any] = column.raw if isinstance(column, Times) else column
    return raw


def _times(shape: tuple[int, ...] = ()) -> Any:
    """A column of timestamps (`Times`)."""
    return field(default_factory=lambda: Times(np.full((0, *shape), NO_TIME, dtype=np.int32)),
                 metadata={"fill": NO_TIME})


def _col(fill: float | bool, shape: tuple[int, ...] = (), dtype: Any = np.float64) -> Any:
    return field(
        default_factory=lambda: np.full((0, *shape), fill, dtype=dtype),
        metadata={"fill": fill},
    )


@dataclass
class SpellTable:
    """The quiet spells of the homes that have shown motion (`detector.density`), row j for the
    household whose `dense_row` is j: only such a home can be dense, and a city's homes are
    mostly not, so the other homes keep none of it."""

    size: int = 0
    day_spell_h: Any = _col(0.0, (24,), np.float16)
    """The day's longest quiet spell at home starting in each hour of the day, hours."""
    ring_spell_h: Any = _col(0, (HISTORY_DAYS, 24), np.uint16)
    """The same for the ring's days (HouseholdTable.ring_day), `pack_hours` (0: none)."""
    quiet_spell_limit_h: Any = _col(np.nan, (24,), np.float16)
    """A dense home's quiet limit by the hour a silence starts, hours (NaN: none)."""

    def add(self) -> int:
        j = self.size
        if j >= self.capacity:
            capacity = max(16, 2 * self.capacity)
            for name, fill in _columns(SpellTable):
                old = getattr(self, name)
                new = np.full((capacity, *old.shape[1:]), fill, dtype=old.dtype)
                new[:j] = old[:j]
                setattr(self, name, new)
        self.size = j + 1
        return j

    @property
    def capacity(self) -> int:
        return int(self.day_spell_h.shape[0])

    def nbytes(self) -> int:
        return sum(int(getattr(self, name).nbytes) for name, _ in _columns(SpellTable))


def _columns(cls: Any) -> list[tuple[str, Any]]:
    return [(f.name, f.metadata["fill"]) for f in dataclasses.fields(cls) if "fill" in f.metadata]


@dataclass
class HouseholdTable:
    """Columns of per-household state; `ids[i]` names row i."""

    ids: Names = field(default_factory=Names)
    # the current silence
    last_sign: Any = _times()
    last_kind: Any = _col(-1, dtype=np.int8)
    last_door: Any = _times()
    last_water: Any = _times()
    episode_end: Any = _times()
    out: Any = _col(False, dtype=np.bool_)
    """Probably out: the last sign was a door passage while we believed the elder inside."""
    left_at: Any = _times()
    """When the elder last went out (the door passage that made `out` true)."""
    out_since_water_s: Any = _col(0.0, dtype=np.float32)
    """Time spent out since the last water: not time at home without water."""
    alert_since: Any = _times()
    """The start of the silence the household is being alerted about (it stays alerting)."""
    alert_why: Any = _col(-1, dtype=np.int8)
    checked: Any = _times((len(CHECKED_KINDS),))
    """When staff last closed an alert of each of CHECKED_KINDS: its condition counts from then."""
    # hearing from the hubs (clock time of arrival)
    first_heard: Any = _times()
    heard_at: Any = _times()
    resumed_at: Any = _times()
    # what staff and the registry say
    known: Any = _col(False, dtype=np.bool_)
    active: Any = _col(False, dtype=np.bool_)
    away_until: Any = _times()
    watching_since: Any = _times()
    tier: Any = _col(5, dtype=np.int8)
    hub_limit: Any = _col(2700.0, dtype=np.float32)
    # the rhythm and its limits
    counts_q: Any = _col(0, (168,), np.uint8)
    """Episodes seen in each hour of the week, decayed, in steps of `counts_step` (one scale a
    row, `rhythm`: block floating point)."""
    counts_step: Any = _col(1.0, dtype=np.float32)
    exposure_q: Any = _col(0, (168,), np.uint8)
    """Hours at home in each hour of the week, decayed, in steps of `exposure_step`."""
    exposure_step: Any = _col(1.0, dtype=np.float32)
    cum_q: Any = _col(0, (168,), np.uint8)
    """The cumulative rate (`detector.rhythm.cumulative`) hour by hour, in steps of `cum_step`:
    the rate of each hour of the week rounded so that every running sum is the cumulative rate
    to half a step (`set_cum`; `cum_of`, `expected`)."""
    cum_day: Any = _col(0, (7,), np.uint16)
    """The running sum of `cum_q` at the end of each day of the week (Sunday's: the week's)."""
    cum_step: Any = _col(np.nan, dtype=np.float32)
    """Expected episodes per step of `cum_q`: the row's busiest hour is CUM_STEPS of them."""
    threshold: Any = _col(np.nan, (BUCKETS,), np.float32)
    threshold_own: Any = _col(np.nan, (BUCKETS,), np.float32)
    outing_h: Any = _col(np.nan, dtype=np.float32)
    outing_own_h: Any = _col(np.nan, dtype=np.float32)
    bed_h: Any = _col(np.nan, dtype=np.float32)
    wake_h: Any = _col(np.nan, dtype=np.float32)
    wake_limit_h: Any = _col(np.nan, dtype=np.float32)
    wake_own_h: Any = _col(np.nan, dtype=np.float32)
    bed_early_h: Any = _col(np.nan, dtype=np.float32)
    """The bedtime limits (clock hours; `detector.limits`): a silence at home that began before
    the early one and still runs at the late one missed the evening's last sign."""
    bed_late_h: Any = _col(np.nan, dtype=np.float32)
    bed_early_own_h: Any = _col(np.nan, dtype=np.float32)
    """The household's own, in hours from noon (NaN: too few nights)."""
    bed_late_own_h: Any = _col(np.nan, dtype=np.float32)
    quiet_limit_h: Any = _col(np.nan, dtype=np.float32)
    """The safety limit: hours of silence at home longer than this household's nights."""
    quiet_own_h: Any = _col(np.nan, dtype=np.float32)
    learned_days: Any = _col(0, dtype=np.int16)
    folded_day: Any = _col(-1, dtype=np.int16)
    """The local day last folded into the rhythm (days as `ring_day`'s)."""
    # the local day in progress
    day: Any = _col(-1, dtype=np.int16)
    day_partial: Any = _col(True, dtype=np.bool_)
    """The first day we hear of: only part of a day, neither learned nor judged."""
    day_flags: Any = _col(0, dtype=np.uint8)
    """QUIET_DAY: a silence ran past the ceiling; UNSEEN_DAY: away or blind for a while."""
    day_counts: Any = _col(0, (24,), np.uint8)
    """Episodes in each hour of the day (at most one per `episode_gap_min`: a few)."""
    day_exposure_q: Any = _col(DAY_STEPS, (24,), np.uint8)
    """Hours at home in each hour of the day, in 1/DAY_STEPS of an hour."""
    day_kinds: Any = _col(0, (len(KIND_COLUMNS),), np.int16)
    day_first_h: Any = _col(np.nan, dtype=np.float32)
    day_last_h: Any = _col(np.nan, dtype=np.float32)
    day_top: Any = _col(np.nan, (BUCKETS, 2), np.float32)
    """The day's top silence of each of the `parts` of the day (start, end: local hours minus
    BASE_HOURS), by `day_top_score` (Λ)."""
    day_top_score: Any = _col(-1.0, (BUCKETS,), np.float32)
    day_out_h: Any = _col(0.0, dtype=np.float32)
    day_sleep: Any = _col(np.nan, (2,), np.float32)
    """Bedtime and wake-up (clock hours) of the night that ended today."""
    evening_quiet: Any = _col(np.nan, (2,), np.float32)
    """The last long silence at home that began after noon, with those that followed it after
    only a short break (a trip to the toilet): its start and end, local hours minus
    BASE_HOURS (`nights.bedtime_of`). Kept across midnight."""
    day_morning_h: Any = _col(np.nan, dtype=np.float32)
    day_quiet_h: Any = _col(0.0, dtype=np.float32)
    day_longest_h: Any = _col(0.0, dtype=np.float32)
    """The day's longest silence at home (the night's included), hours."""
    power_floor_w: Any = _col(np.nan, dtype=np.float16)
    """The lowest total power reported since the last sign, watts (`detector.lights`)."""
    night_power_w: Any = _col(np.nan, dtype=np.float16)
    """The household's usual floor at night, watts (NaN: none seen)."""
    night_floor_w: Any = _col(np.nan, dtype=np.float16)
    """The lowest floor seen at night in the silence running now, watts."""
    day_night_w: Any = _col(np.nan, dtype=np.float16)
    """The same for the night that ended today, once it ended normally."""
    night_lit: Any = _col(0, dtype=np.uint8)
    """How the silence running now stood at night: `lights.LIT`, `lights.DARK`, 0 (not seen)."""
    day_lit: Any = _col(0, dtype=np.uint8)
    """The same for the night that ended today, once it ended normally."""
    lit_ok: Any = _col(False, dtype=np.bool_)
    """Whether the lights rule holds for the household (`lights.calibrate`)."""
    dense_row: Any = _col(-1, dtype=np.int32)
    """The household's row in `spells` (homes that have shown motion), or -1."""
    # the last HISTORY_DAYS normal days
    ring_day: Any = _col(-1, (HISTORY_DAYS,), np.int16)
    """The local day number (`detector.localtime.day_of`: int16 lasts until 2059), -1: none."""
    ring_top: Any = _col(NO_HOURS, (HISTORY_DAYS, BUCKETS, 2), np.uint16)
    """Each day's top silence per part of the day as `pack_hours` of (its end, from the start
    of the ring's day; its length) (`top_silences`), for the `parts` the settings use."""
    ring_out_h: Any = _col(NO_HOURS, (HISTORY_DAYS,), np.uint16)
    """The day's longest outing, `pack_hours`."""
    ring_longest_h: Any = _col(NO_HOURS, (HISTORY_DAYS,), np.uint16)
    """The day's longest silence at home, `pack_hours`."""
    ring_sleep: Any = _col(NO_HOURS, (HISTORY_DAYS, 2), np.uint16)
    """Bedtime and wake-up (clock hours), `pack_hours`."""
    ring_features: Any = _col(NO_TENTHS, (HISTORY_DAYS, len(DAY_FEATURES)), np.uint8)
    """Each day's DAY_FEATURES, `pack_features` (`features`)."""
    ring_lit: Any = _col(0, dtype=np.uint32)
    """Bit k: the night of ring slot k was lit at 01:00 (`detector.lights`)."""
    ring_dark: Any = _col(0, dtype=np.uint32)
    """Bit k: the night of ring slot k was dark at 01:00."""
    # water and gas runs: column 0 water, 1 gas
    run_since: Any = _times((2,))
    run_until: Any = _times((2,))
    run_normal_s: Any = _col(np.nan, (2,), np.float32)
    kinds_seen: Any = _col(0, dtype=np.uint8)
    spells: SpellTable = field(default_factory=SpellTable)
    parts: int = BUCKETS
    """The parts of the day whose top silences the ring keeps (`ring_top`): the settings'
    (`day_parts_from_h`: two by default), not BUCKETS, the most they allow."""

    def __post_init__(self) -> None:
        if not isinstance(self.ids, Names):
            self.ids = Names(self.ids)
        if not 1 <= self.parts <= BUCKETS:
            raise ValueError(f"parts must be 1 to {BUCKETS}, not {self.parts}")
        if self.ring_top.shape[2] != self.parts:
            top = self.ring_top[:, :, :self.parts]
            self.ring_top = np.full((top.shape[0], HISTORY_DAYS, self.parts, 2), NO_HOURS,
                                    dtype=np.uint16)
            self.ring_top[:, :, :top.shape[2]] = top
        for name, fill in (("day_top", np.nan), ("day_top_score", -1.0)):
            column = getattr(self, name)
            if column.shape[1] != self.parts:  # the day in progress's, likewise
                resized = np.full((column.shape[0], self.parts, *column.shape[2:]), fill, dtype=column.dtype)
                resized[:, :min(self.parts, column.shape[1])] = column[:, :self.parts]
                setattr(self, name, resized)

    def __len__(self) -> int:
        return len(self.ids)

    def find(self, household_id: str) -> int | None:
        return self.ids.get(household_id)

    def row(self, household_id: str) -> int:
        """The row of a household, adding it (with every column at its fill) if new."""
        i = self.ids.get(household_id)
        if i is not None:
            return i
        i = len(self.ids)
        if i >= self.capacity:
            self._grow(max(16, 2 * self.capacity))
        self.ids.append(household_id)
        return i

    def rows(self, household_ids: list[str]) -> npt.NDArray[np.intp]:
        """`row` for many households at once (new ones added in order of first mention)."""
        rows = self.ids.rows(household_ids)
        missing = np.flatnonzero(rows < 0)
        if missing.size:
            new = list(dict.fromkeys(household_ids[k] for k in missing))
            first = len(self.ids)
            if first + len(new) > self.capacity:
                self._grow(max(16, 2 * self.capacity, first + len(new)))
            self.ids.extend(new)
            added = {hid: first + k for k, hid in enumerate(new)}
            rows[missing] = [added[household_ids[k]] for k in missing]
        return rows

    def reserve(self, capacity: int) -> None:
        """Room for `capacity` households at once (a city's registry known in advance): growing
        by doubling holds the old columns and the new, twice as large, at the same time."""
        if capacity > self.capacity:
            self._grow(capacity)
        self.ids.reserve(capacity)

    @property
    def capacity(self) -> int:
        return int(self.last_sign.shape[0])

    def raw(self, name: str) -> npt.NDArray[Any]:
        """Column `name` as stored (a timestamp column's packed seconds, `Times`)."""
        return _raw(getattr(self, name))

    def _set_raw(self, name: str, column: npt.NDArray[Any]) -> None:
        setattr(self, name, Times(column) if isinstance(getattr(self, name), Times) else column)

    def _grow(self, capacity: int) -> None:
        n = len(self.ids)
        for name, fill in self.columns():
            old = self.raw(name)
            new = np.full((capacity, *old.shape[1:]), fill, dtype=old.dtype)
            new[:n] = old[:n]
            self._set_raw(name, new)

    @classmethod
    def columns(cls) -> list[tuple[str, Any]]:
        return _columns(cls)

    # the compact columns, as the models use them -------------------------------------------
    def set_cum(self, rows: Any, cum: npt.NDArray[Any]) -> None:
        """Keep `cum` (rows of `detector.rhythm.cumulative`) for `rows` (see `cum_q`)."""
        cum = np.asarray(cum, dtype=np.float64)
        top = np.diff(cum, axis=1).max(axis=1)
        step = np.where(top > 0, top / CUM_STEPS, 1.0)
        running = np.rint(cum / step[:, None])
        self.cum_q[rows] = np.diff(running, axis=1)
        self.cum_day[rows] = running[:, 24::24]
        self.cum_step[rows] = step

    def rhythm(self, rows: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The decayed counts and exposure of `rows` (rows, 168), as the models use them."""
        counts = self.counts_q[rows] * self.counts_step[rows, None].astype(np.float64)
        exposure = self.exposure_q[rows] * self.exposure_step[rows, None].astype(np.float64)
        return counts, exposure

    def set_rhythm(self, rows: Any, counts: Any, exposure: Any) -> None:
        """Keep the counts and exposure (rows, 168) of `rows`, each row to RHYTHM_STEPS of its
        largest value (a starting state: `decay_rhythm` and `add_to_rhythm` keep it up)."""
        for q, step, values in ((self.counts_q, self.counts_step, counts),
                                (self.exposure_q, self.exposure_step, exposure)):
            x = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
            top = x.max(axis=-1, keepdims=True)
            scale = np.where(top > 0, top / RHYTHM_STEPS, 1.0)
            q[rows] = np.rint(x / scale)
            step[rows] = scale[..., 0]

    def decay_rhythm(self, i: int, factor: float) -> None:
        """Row i's counts and exposure times `factor`: their steps alone, so no value rounds."""
        self.counts_step[i] *= factor
        self.exposure_step[i] *= factor

    def add_to_rhythm(self, i: int, hours: slice, counts: Any, exposure: Any) -> None:
        """Add a day's counts and exposure to row i's `hours` of the week. Only those hours
        round, unless a value outgrows RHYTHM_STEPS: then the row's step doubles (as often as
        needed) and the row rounds once; a row whose values are all below half the steps gets
        a step halved (exactly) until they are not, so a row keeps two to three digits."""
        for q, step, add in ((self.counts_q, self.counts_step, counts),
                             (self.exposure_q, self.exposure_step, exposure)):
            row = q[i].astype(np.float64)
            scale = float(step[i]) if row.any() and step[i] > 0 else 1.0
            row[hours] += np.asarray(add, dtype=np.float64) / scale
            top = float(row.max())
            if top > RHYTHM_STEPS:
                k = math.ceil(math.log2(top / RHYTHM_STEPS))
            elif 0 < top < RHYTHM_STEPS / 2:
                k = -math.floor(math.log2(RHYTHM_STEPS / top))
            else:
                k = 0
            q[i] = np.clip(np.rint(np.ldexp(row, -k)), 0, RHYTHM_STEPS)
            step[i] = math.ldexp(scale, k)

    def cum_of(self, i: int) -> npt.NDArray[np.float64]:
        """Row i's cumulative rate, expected episodes from Monday 00:00 (169 values)."""
        cum = np.zeros(169)
        np.cumsum(self.cum_q[i], out=cum[1:])
        scaled: npt.NDArray[np.float64] = cum * float(self.cum_step[i])
        return scaled

    def expected(self, rows: npt.NDArray[np.intp], start_h: Any, end_h: Any) -> npt.NDArray[np.float64]:
        """Λ of `rows` between local hours `start_h` and `end_h` (`detector.rhythm.expected_signs`
        on the kept cumulative rate), a day of `cum_q` summed at most for each position."""
        out = np.zeros(rows.size)
        for first in range(0, rows.size, CHUNK):
            part = slice(first, first + CHUNK)
            r = rows[part]
            steps = self._position(r, np.asarray(end_h)[part]) - self._position(r, np.asarray(start_h)[part])
            out[part] = np.maximum(steps, 0.0) * self.cum_step[r]
        return out

    def _position(self, rows: npt.NDArray[np.intp], hours: Any) -> npt.NDArray[np.float64]:
        """The cumulative rate of `rows` at local `hours`, in steps of `cum_step`."""
        weeks = np.floor(hours / 168.0)
        within = hours - weeks * 168.0
        hour = np.minimum(within.astype(np.int64), 167)
        day, k = np.divmod(hour, 24)
        anchors = self.cum_day[rows]
        position: npt.NDArray[np.float64] = weeks * anchors[:, 6]
        for d in np.unique(day):
            sel = np.flatnonzero(day == d)
            through = np.cumsum(self.cum_q[rows[sel], 24 * d:24 * (d + 1)], axis=1, dtype=np.uint16)
            at, kk = np.arange(sel.size), k[sel]
            before = np.where(kk > 0, through[at, np.maximum(kk - 1, 0)], 0).astype(np.float64)
            here = through[at, kk] - before  # hour kk's own steps
            if d > 0:
                before += anchors[sel, d - 1]
            position[sel] += before + here * (within[sel] - hour[sel])  # linear within the hour
        return position

    def top_silences(self, i: int, slots: Any) -> npt.NDArray[np.float64]:
        """Row i's top silences of the ring's `slots` as local hours (days, BUCKETS, (start,
        end)); NaN where none."""
        packed = self.ring_top[i, slots]
        end = unpack_hours(packed[..., 0]) + (self.ring_day[i, slots, None] * 24.0)
        return np.stack([end - unpack_hours(packed[..., 1]), end], axis=-1)

    def keep_top(self, i: int, slot: int) -> None:
        """The day in progress's top silences into ring slot `slot` (see `ring_top`)."""
        top = self.day_top[i].astype(np.float64) + BASE_HOURS
        end = top[:, 1] - self.day[i] * 24.0
        packed = np.stack([pack_hours(end), pack_hours(top[:, 1] - top[:, 0])], axis=-1)
        packed[~np.isfinite(top).all(axis=1) | (end < 0) | (end > 24.0)] = NO_HOURS
        self.ring_top[i, slot] = packed

    def features(self, i: int, slots: Any) -> npt.NDArray[np.float64]:
        """Row i's day features of the ring's `slots` (days, DAY_FEATURES); NaN where none."""
        features: npt.NDArray[np.float64] = unpack_features(self.ring_features[i, slots])
        return features

    def spell_row(self, i: int) -> int:
        """Row i's row in `spells`, added if it has none (a home that has shown motion)."""
        j = int(self.dense_row[i])
        if j < 0:
            j = self.dense_row[i] = self.spells.add()
        return j

    def quiet_spell_limit_h(self, rows: Any) -> npt.NDArray[np.float64]:
        """The quiet limits (rows, 24 hours of the day) of `rows`; NaN where none."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.intp))
        j = self.dense_row[rows]
        out = np.full((rows.size, 24), np.nan)
        out[j >= 0] = self.spells.quiet_spell_limit_h[j[j >= 0]]
        return out

    def view(self, name: str) -> npt.NDArray[Any]:
        """Column `name` trimmed to the households present (timestamps: a float64 copy)."""
        column: npt.NDArray[Any] = getattr(self, name)[: len(self.ids)]
        return column

    def nbytes_per_household(self) -> float:
        total = sum(int(self.raw(name).nbytes) for name, _ in self.columns())
        return (total + self.spells.nbytes()) / max(self.capacity, 1)

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Every column, trimmed, plus the ids: what a snapshot stores."""
        arrays = {name: self.raw(name)[: len(self.ids)] for name, _ in self.columns()}
        arrays["ids"] = self.ids.to_array()
        for name, _ in _columns(SpellTable):
            arrays[f"spells.{name}"] = getattr(self.spells, name)[: self.spells.size]
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> HouseholdTable:
        """The inverse of `to_arrays`; a column an older snapshot lacks starts at its fill."""
        top = arrays.get("ring_top")
        parts = top.shape[2] if top is not None and top.ndim == 4 else BUCKETS
        table = cls(ids=Names(str(x) for x in arrays["ids"]), parts=parts)
        n = len(table.ids)
        table_capacity = max(16, n)
        for name, fill in cls.columns():
            template = table.raw(name)
            column = np.full((table_capacity, *template.shape[1:]), fill, dtype=template.dtype)
            if name in arrays and arrays[name].shape[1:] == template.shape[1:]:
                column[:n] = arrays[name]
            table._set_raw(name, column)
        size = len(arrays.get("spells.day_spell_h", ()))
        for _ in range(size):
            table.spells.add()
        for name, _ in _columns(SpellTable):
            if f"spells.{name}" in arrays:
                getattr(table.spells, name)[:size] = arrays[f"spells.{name}"]
        return table
