"""What the learned detector keeps per household, as columns: row i is one household.

Columns let a tick judge every household with a handful of numpy operations. The table grows by
doubling, so adding a household is amortised O(1). A few kilobytes per household in all (the
benchmark prints the figure).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

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


def _col(fill: float | bool, shape: tuple[int, ...] = (), dtype: Any = np.float64) -> Any:
    return field(
        default_factory=lambda: np.full((0, *shape), fill, dtype=dtype),
        metadata={"fill": fill},
    )


@dataclass
class HouseholdTable:
    """Columns of per-household state; `ids[i]` names row i."""

    ids: list[str] = field(default_factory=list)
    # the current silence
    last_sign: Any = _col(np.nan)
    last_kind: Any = _col(-1, dtype=np.int8)
    last_door: Any = _col(np.nan)
    last_water: Any = _col(np.nan)
    episode_start: Any = _col(np.nan)
    episode_end: Any = _col(np.nan)
    out: Any = _col(False, dtype=np.bool_)
    """Probably out: the last sign was a door passage while we believed the elder inside."""
    left_at: Any = _col(np.nan)
    """When the elder last went out (the door passage that made `out` true)."""
    out_since_water_s: Any = _col(0.0)
    """Time spent out since the last water: not time at home without water."""
    alert_since: Any = _col(np.nan)
    """The start of the silence the household is being alerted about (it stays alerting)."""
    alert_why: Any = _col(-1, dtype=np.int8)
    checked: Any = _col(np.nan, (len(CHECKED_KINDS),))
    """When staff last closed an alert of each of CHECKED_KINDS: its condition counts from then."""
    # hearing from the hubs (clock time of arrival)
    first_heard: Any = _col(np.nan)
    heard_at: Any = _col(np.nan)
    resumed_at: Any = _col(np.nan)
    # what staff and the registry say
    known: Any = _col(False, dtype=np.bool_)
    active: Any = _col(False, dtype=np.bool_)
    away_until: Any = _col(np.nan)
    watching_since: Any = _col(np.nan)
    tier: Any = _col(5, dtype=np.int8)
    hub_limit: Any = _col(2700.0)
    # the rhythm and its limits
    counts: Any = _col(0.0, (168,), np.float32)
    exposure: Any = _col(0.0, (168,), np.float32)
    cum: Any = _col(np.nan, (169,), np.float32)
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
    learned_days: Any = _col(0, dtype=np.int32)
    folded_day: Any = _col(-1, dtype=np.int32)
    # the local day in progress
    day: Any = _col(-1, dtype=np.int32)
    day_partial: Any = _col(True, dtype=np.bool_)
    """The first day we hear of: only part of a day, neither learned nor judged."""
    day_flags: Any = _col(0, dtype=np.uint8)
    """QUIET_DAY: a silence ran past the ceiling; UNSEEN_DAY: away or blind for a while."""
    day_counts: Any = _col(0.0, (24,), np.float32)
    day_exposure: Any = _col(1.0, (24,), np.float32)
    day_kinds: Any = _col(0, (len(KIND_COLUMNS),), np.int16)
    day_first_h: Any = _col(np.nan, dtype=np.float32)
    day_last_h: Any = _col(np.nan, dtype=np.float32)
    day_top: Any = _col(np.nan, (BUCKETS, 2), np.float32)
    day_top_score: Any = _col(-1.0, (BUCKETS,), np.float32)
    day_out_h: Any = _col(0.0, dtype=np.float32)
    day_sleep: Any = _col(np.nan, (2,), np.float32)
    """Bedtime and wake-up (clock hours) of the night that ended today."""
    day_morning_h: Any = _col(np.nan, dtype=np.float32)
    day_quiet_h: Any = _col(0.0, dtype=np.float32)
    day_longest_h: Any = _col(0.0, dtype=np.float32)
    """The day's longest silence at home (the night's included), hours."""
    day_spell_h: Any = _col(0.0, (24,), np.float32)
    """The day's longest quiet spell at home starting in each hour of the day, hours
    (`detector.density`)."""
    # the last HISTORY_DAYS normal days
    ring_day: Any = _col(-1, (HISTORY_DAYS,), np.int32)
    ring_top: Any = _col(np.nan, (HISTORY_DAYS, BUCKETS, 2), np.float32)
    ring_out_h: Any = _col(np.nan, (HISTORY_DAYS,), np.float32)
    ring_longest_h: Any = _col(np.nan, (HISTORY_DAYS,), np.float32)
    ring_sleep: Any = _col(np.nan, (HISTORY_DAYS, 2), np.float32)
    ring_features: Any = _col(np.nan, (HISTORY_DAYS, len(DAY_FEATURES)), np.float16)
    ring_spell_h: Any = _col(np.nan, (HISTORY_DAYS, 24), np.float16)
    quiet_spell_limit_h: Any = _col(np.nan, (24,), np.float32)
    """A dense home's quiet limit by the hour a silence starts, hours (NaN: none;
    `detector.density`)."""
    # water and gas runs: column 0 water, 1 gas
    run_since: Any = _col(np.nan, (2,))
    run_until: Any = _col(np.nan, (2,))
    run_normal_s: Any = _col(np.nan, (2,), np.float32)
    kinds_seen: Any = _col(0, dtype=np.uint8)

    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index = {hid: i for i, hid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def find(self, household_id: str) -> int | None:
        return self._index.get(household_id)

    def row(self, household_id: str) -> int:
        """The row of a household, adding it (with every column at its fill) if new."""
        i = self._index.get(household_id)
        if i is not None:
            return i
        i = len(self.ids)
        if i >= self.capacity:
            self._grow(max(16, 2 * self.capacity))
        self.ids.append(household_id)
        self._index[household_id] = i
        return i

    def reserve(self, capacity: int) -> None:
        """Room for `capacity` households at once (a city's registry known in advance): growing
        by doubling holds the old columns and the new, twice as large, at the same time."""
        if capacity > self.capacity:
            self._grow(capacity)

    @property
    def capacity(self) -> int:
        return int(self.last_sign.shape[0])

    def _grow(self, capacity: int) -> None:
        n = len(self.ids)
        for name, fill in self.columns():
            old = getattr(self, name)
            new = np.full((capacity, *old.shape[1:]), fill, dtype=old.dtype)
            new[:n] = old[:n]
            setattr(self, name, new)

    @classmethod
    def columns(cls) -> list[tuple[str, Any]]:
        fields = dataclasses.fields(cls)
        return [(f.name, f.metadata["fill"]) for f in fields if "fill" in f.metadata]

    def view(self, name: str) -> npt.NDArray[Any]:
        """Column `name` trimmed to the households present."""
        column: npt.NDArray[Any] = getattr(self, name)[: len(self.ids)]
        return column

    def nbytes_per_household(self) -> float:
        total = sum(int(getattr(self, name).nbytes) for name, _ in self.columns())
        return total / max(self.capacity, 1)

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Every column, trimmed, plus the ids: what a snapshot stores."""
        arrays = {name: self.view(name) for name, _ in self.columns()}
        arrays["ids"] = np.array(self.ids, dtype=np.str_)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> HouseholdTable:
        """The inverse of `to_arrays`; a column an older snapshot lacks starts at its fill."""
        table = cls(ids=[str(x) for x in arrays["ids"]])
        n = len(table.ids)
        table_capacity = max(16, n)
        for name, fill in cls.columns():
            template = getattr(table, name)
            column = np.full((table_capacity, *template.shape[1:]), fill, dtype=template.dtype)
            if name in arrays and arrays[name].shape[1:] == template.shape[1:]:
                column[:n] = arrays[name]
            setattr(table, name, column)
        return table
