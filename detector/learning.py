"""Learning each household's rhythm from its signs of life, one sign and one day at a time.

Per sign: merge it into the current episode or start a new one (closing the silence before it),
keep the door logic, and count it for the local day in progress. The door logic: any use inside
means the elder is in; each passage through the door (door events more than a few minutes
apart) turns "in" to "probably out" and back, so a door after time at home is a departure and
the next door a return.

Each closed silence is sorted: an outing (kept for the outing limit, and taken off the day's
hours at home), a night (its bedtime and wake-up kept for the wake limit), or a silence in the
day (the largest of the morning's and of the afternoon's kept for the day thresholds).

Per day, when the first sign of the next day arrives: if the day looks like a day at home,
fold it into the rhythm (with exponential forgetting) and into the last weeks' history, and
recalibrate the limits (`detector.limits`). A day with far fewer uses than usual teaches
nothing: the household was probably away.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from detector import density, lights, limits, nights
from detector.limits import Population, calibrate, day_share
from detector.localtime import day_of, local_hour, weekday_of
from detector.rhythm import cumulative, expected_one, shrunk_rates
from detector.signs import SignKind
from detector.table import (
    BASE_HOURS,
    DAY_STEPS,
    HISTORY_DAYS,
    KIND_COLUMNS,
    QUIET_DAY,
    UNSEEN_DAY,
    HouseholdTable,
    pack_features,
    pack_hours,
)
from shouwang.settings import LearnedSettings

KIND_CODES = {kind: code for code, kind in enumerate(SignKind)}
SIGN_KINDS = list(SignKind)
KIND_INDEX = {SignKind(name): i for i, name in enumerate(KIND_COLUMNS)}
KIND_INDEX[SignKind.MOTION] = KIND_INDEX[SignKind.ACTIVITY]  # a day's movements, either way
MIN_DAY_FRACTION = 0.3
"""A day with fewer uses than this share of the household's typical day was mostly away."""
FIRST_SIGN_AFTER_H = 4.0
DAYTIME_H = (7.0, 21.0)
MIN_CALIBRATION_SILENCE_S = 600.0
WAKE_FOLLOW_UP_H = 1.0
MOTION_KINDS = (SignKind.MOTION, SignKind.ACTIVITY)
MOTION_COLUMN = KIND_INDEX[SignKind.ACTIVITY]
"""Only a home that has shown this many motion signs in a day (`dense_motion_per_h` over the
shortest waking day density counts) may be dense: only then are its quiet spells kept."""
DOOR_PASSAGE_S = 180.0
"""Door events closer than this are one passage (opened, then closed)."""


@dataclass(frozen=True, slots=True)
class DayToCheck:
    row: int
    day: int
    features: tuple[float, ...]


def day_part(start_h: float, parts_from_h: list[float]) -> int:
    """Which part of the day (0 = the morning) a silence starting at `start_h` belongs to."""
    clock = start_h % 24
    return sum(clock >= h for h in parts_from_h)


class Learner:
    """Updates the household table from signs of life (see the module docstring)."""

    def __init__(self, table: HouseholdTable, tz: ZoneInfo, settings: LearnedSettings,
                 population: Population, *, ceiling_s: float) -> None:
        self.table = table
        self.tz = tz
        self.s = settings
        self.population = population
        self.ceiling_s = ceiling_s
        self.to_check: deque[DayToCheck] = deque()
        self.pending: dict[int, list[tuple[float, float, int]]] = {}
        """Per row: signs (time, arrival, kind code) waiting to be learned in time order."""
        self.budgets: dict[int, LearnedSettings] = {}
        """Per row: the settings of a household judged at its own alert budget
        (`LearnedDetector.set_budget`); the others use the community's."""
        self._gap_s = settings.episode_gap_min * 60.0

    # one sign -------------------------------------------------------------------------
    def learn(self, i: int, ts: float, kind: SignKind, *, arrived: float | None = None) -> None:
        """A sign of life: the silence ends at once; the sign is learned for the rhythm in time
        order with the others that arrived within `reorder_hold_s` of it (`release`), so a
        backlog flushed sensor by sensor teaches what the same signs in time order would.
        Without `arrived` (history, oldest first) it is learned at once."""
        t = self.table
        if not t.last_sign[i] >= ts:
            t.last_sign[i] = ts
            t.last_kind[i] = KIND_CODES[kind]
            lights.sign(t, i)
        if arrived is None or self.s.reorder_hold_s <= 0 or kind is SignKind.VISIT:
            self._learn(i, ts, kind)  # a visit is not part of the rhythm: it counts at once
            return
        if kind is SignKind.WATER and not t.last_water[i] >= ts:
            t.last_water[i] = ts  # "no water" must not wait for the rhythm
            t.out_since_water_s[i] = 0.0
        self.pending.setdefault(i, []).append((ts, arrived, KIND_CODES[kind]))

    def release(self, now: float) -> None:
        """Learn, in time order, every sign that arrived `reorder_hold_s` or more before `now`."""
        for i in list(self.pending):
            self.release_row(i, now)

    def release_row(self, i: int, now: float) -> None:
        """`release` for one household."""
        waiting = self.pending.get(i)
        cutoff = now - self.s.reorder_hold_s
        if not waiting or min(w[1] for w in waiting) > cutoff:
            return
        for ts, _, code in sorted(w for w in waiting if w[1] <= cutoff):
            self._learn(i, ts, SIGN_KINDS[code])
        rest = [w for w in waiting if w[1] > cutoff]
        if rest:
            self.pending[i] = rest
        else:
            del self.pending[i]

    def _learn(self, i: int, ts: float, kind: SignKind) -> None:
        t = self.table
        if not t.last_sign[i] >= ts:
            t.last_sign[i] = ts
            t.last_kind[i] = KIND_CODES[kind]
            lights.sign(t, i)
        t.kinds_seen[i] |= np.uint8(1 << KIND_CODES[kind])
        if kind is SignKind.VISIT:
            if not t.episode_end[i] > ts:
                self._home(i, ts)  # seen at home after the last use
            if t.last_water[i] < ts:
                t.last_water[i] = ts  # seen well: every silence starts again
                t.out_since_water_s[i] = 0.0
            return
        end = float(t.episode_end[i])
        if ts < end - 1.0:
            return  # late (a backlog sensor by sensor): the silence is no longer open
        hours = local_hour(ts, self.tz)
        day = day_of(hours)
        if day > t.day[i]:
            self._new_day(i, day)
        if not ts - end <= self._gap_s:
            if not math.isnan(end):
                self._silence_ended(i, end, ts, bool(t.out[i]))
            hour = int(hours % 24)
            t.day_counts[i, hour] = min(int(t.day_counts[i, hour]) + 1, 255)
            self._morning(i, hours - day * 24)
        t.episode_end[i] = ts
        if kind is SignKind.DOOR:
            if not ts - t.last_door[i] <= DOOR_PASSAGE_S:
                if t.out[i]:  # a passage: out if we thought her in, in if out
                    self._home(i, ts)
                else:
                    t.out[i] = True
                    t.left_at[i] = ts
            t.last_door[i] = ts
        else:
            self._home(i, ts)
            if kind is SignKind.WATER:
                t.last_water[i] = ts
                t.out_since_water_s[i] = 0.0
        t.day_kinds[i, KIND_INDEX[kind]] += 1
        if kind in MOTION_KINDS and t.dense_row[i] < 0 and (
                t.day_kinds[i, MOTION_COLUMN] >= self.s.dense_motion_per_h * density.MIN_WAKING_H):
            t.spell_row(i)  # from now on its quiet spells are kept (`HouseholdTable.spells`)
        hour_of_day = hours - day * 24
        if math.isnan(t.day_first_h[i]) and hour_of_day >= FIRST_SIGN_AFTER_H:
            t.day_first_h[i] = hour_of_day
        t.day_last_h[i] = hour_of_day

    def _home(self, i: int, ts: float) -> None:
        """The elder is in at `ts`; time just spent out is not time at home without water."""
        t = self.table
        if t.out[i]:
            since = np.fmax(t.left_at[i], t.last_water[i])
            if ts > since:
                t.out_since_water_s[i] += ts - since
            t.out[i] = False

    def _morning(self, i: int, hour_of_day: float) -> None:
        """Getting up: the first use after 04:00 that another follows within the hour (a
        night-time trip to the toilet is followed by more sleep, not by breakfast)."""
        t = self.table
        if not math.isnan(t.day_sleep[i, 1]) or hour_of_day < nights.NIGHT_MARK_H:
            return
        candidate = float(t.day_morning_h[i])
        if hour_of_day - candidate <= WAKE_FOLLOW_UP_H:
            t.day_sleep[i, 1] = candidate
        else:
            t.day_morning_h[i] = hour_of_day

    def _silence_ended(self, i: int, start: float, end: float, out: bool) -> None:
        """Sort a closed silence (see the module docstring) and keep what calibration needs."""
        t = self.table
        start_h, end_h = local_hour(start, self.tz), local_hour(end, self.tz)
        elsewhere = t.resumed_at[i] > start or t.away_until[i] > start
        if out or elsewhere:
            self._not_at_home(i, start_h, end_h)
        length = end - start
        normal = not (elsewhere or length >= self._longest_normal_s(i, out, start_h, end_h))
        lights.silence_ended(t, i, normal=normal and not out)
        if not normal:
            t.day_flags[i] |= np.uint8(UNSEEN_DAY if elsewhere else QUIET_DAY)
            return  # not a day to learn from
        if length < MIN_CALIBRATION_SILENCE_S:
            return
        if out:
            t.day_out_h[i] = max(float(t.day_out_h[i]), length / 3600.0)
            return
        day_start_h = t.day[i] * 24.0
        quiet = min(end_h, day_start_h + DAYTIME_H[1]) - max(start_h, day_start_h + DAYTIME_H[0])
        t.day_quiet_h[i] = max(float(t.day_quiet_h[i]), quiet)
        t.day_longest_h[i] = max(float(t.day_longest_h[i]), length / 3600.0)
        evening = t.evening_quiet[i].astype(np.float64) + BASE_HOURS
        if nights.is_bedtime(start_h, end_h) and math.isnan(t.day_sleep[i, 0]):
            t.day_sleep[i, 0] = nights.bedtime_of(start_h, evening, float(t.bed_h[i])) % 24
        t.evening_quiet[i] = nights.evening_quiet(evening, start_h, end_h) - BASE_HOURS
        crossed = bool(nights.crosses_mark(start_h, end_h))
        up = bool(nights.already_up(start_h, t.day[i], t.day_sleep[i, 1]))
        j = int(t.dense_row[i])
        if j >= 0 and (up or bool(nights.before_bedtime(start_h, t.bed_h[i], t.wake_h[i]))):
            # a quiet spell up to the usual bedtime, an early night's included (`density`)
            spell = density.spell_hours(start_h, end_h, float(t.bed_h[i]))
            hour = int(start_h % 24)
            day_spell = t.spells.day_spell_h
            day_spell[j, hour] = max(float(day_spell[j, hour]), spell)
        if crossed or (bool(nights.in_night_window(start_h, t.bed_h[i], t.wake_h[i])) and not up):
            return
        bucket = day_part(start_h, self.s.day_parts_from_h)
        score = expected_one(t.cum_of(i), start_h, end_h)
        if score > t.day_top_score[i, bucket]:
            t.day_top_score[i, bucket] = score
            t.day_top[i, bucket] = (start_h - BASE_HOURS, end_h - BASE_HOURS)

    def _longest_normal_s(self, i: int, out: bool, start_h: float, end_h: float) -> float:
        """A silence at least this long makes a day not to learn from: the fixed ceiling for
        time out, the community's longest safety limit for a night at home, the household's
        own safety limit for another silence at home. (A long sleeper's nights are normal
        days: with the fixed ceiling such a household would never learn its nights.)"""
        if out:
            return float(limits.outing_ceiling_s(self.table, np.array([i]), ceiling_s=self.ceiling_s,
                                                 max_outing_s=self.s.max_outing_h * 3600.0,
                                                 min_motion=limits.min_motion(self.s))[0])
        if bool(nights.crosses_mark(start_h, end_h)):
            return max(self.s.max_quiet_h * 3600.0, self.ceiling_s)
        limit = float(self.table.quiet_limit_h[i]) * 3600.0
        return max(limit, self.ceiling_s) if math.isfinite(limit) else self.ceiling_s

    def _not_at_home(self, i: int, start_h: float, end_h: float) -> None:
        """Take a silence spent out (or unseen) off today's hours at home."""
        t = self.table
        hours = np.arange(24) + t.day[i] * 24.0
        overlap = np.clip(np.minimum(end_h, hours + 1) - np.maximum(start_h, hours), 0.0, 1.0)
        t.day_exposure_q[i] = np.rint(np.maximum(t.day_exposure_q[i] - overlap * DAY_STEPS, 0.0))

    # one day --------------------------------------------------------------------------
    def _new_day(self, i: int, day: int) -> None:
        t = self.table
        if t.day[i] >= 0 and not t.day_partial[i]:
            self._fold(i)
        t.day_partial[i] = t.day[i] < 0  # the first day we hear of is only part of a day
        t.day_flags[i] = 0
        t.day[i] = day
        t.day_counts[i] = 0
        t.day_exposure_q[i] = DAY_STEPS
        t.day_kinds[i] = 0
        t.day_first_h[i] = np.nan
        t.day_last_h[i] = np.nan
        t.day_top[i] = np.nan
        t.day_top_score[i] = -1.0
        t.day_out_h[i] = 0.0
        t.day_quiet_h[i] = 0.0
        t.day_longest_h[i] = 0.0
        if t.dense_row[i] >= 0:
            t.spells.day_spell_h[t.dense_row[i]] = 0.0
        t.day_sleep[i] = np.nan
        t.day_morning_h[i] = np.nan
        t.day_lit[i] = 0
        t.day_night_w[i] = np.nan

    def _typical_uses(self, i: int) -> float:
        t = self.table
        uses = t.features(i, t.ring_day[i] >= 0)[:, 2]
        uses = uses[np.isfinite(uses)]
        if uses.size >= 3:
            return float(np.median(uses))
        return float(self.population.day_prior.sum()) * 0.5

    def _fold(self, i: int) -> None:
        t = self.table
        day = int(t.day[i])
        uses = float(t.day_counts[i].sum())
        features = (
            float(t.day_first_h[i]), float(t.day_last_h[i]), uses,
            *(float(k) for k in t.day_kinds[i]), float(t.day_quiet_h[i]),
        )
        flags = int(t.day_flags[i])
        if t.learned_days[i] >= self.s.unusual_day_min_days and not flags & UNSEEN_DAY:
            self.to_check.append(DayToCheck(i, day, features))
        if flags or uses < MIN_DAY_FRACTION * self._typical_uses(i):
            return
        if t.folded_day[i] >= 0:
            decay = 0.5 ** ((day - t.folded_day[i]) / self.s.history_half_life_days)
            t.decay_rhythm(i, decay)
            t.run_normal_s[i] *= decay
        weekday = weekday_of(day)
        t.add_to_rhythm(i, slice(weekday * 24, (weekday + 1) * 24), t.day_counts[i],
                        t.day_exposure_q[i] / DAY_STEPS)
        slot = int(t.learned_days[i]) % HISTORY_DAYS
        t.ring_day[i, slot] = day
        lights.fold(t, i, slot)
        t.keep_top(i, slot)
        t.ring_out_h[i, slot] = pack_hours(t.day_out_h[i] if t.day_out_h[i] > 0 else np.nan)
        t.ring_longest_h[i, slot] = pack_hours(
            t.day_longest_h[i] if t.day_longest_h[i] > 0 else np.nan)
        sleep = t.day_sleep[i].copy()
        if math.isnan(sleep[1]):
            sleep[1] = t.day_first_h[i]
        t.ring_sleep[i, slot] = pack_hours(sleep)
        t.ring_features[i, slot] = pack_features(features)
        if t.dense_row[i] >= 0:
            j = t.dense_row[i]
            t.spells.ring_spell_h[j, slot] = pack_hours(t.spells.day_spell_h[j])
        t.learned_days[i] += 1
        t.folded_day[i] = day
        self.refresh(i)

    def settings_of(self, i: int) -> LearnedSettings:
        """The settings row `i` is calibrated with: the community's, or its own budget's."""
        return self.budgets.get(i, self.s)

    def refresh(self, i: int) -> None:
        """Recompute a household's rates from its counts, then its own limits."""
        t = self.table
        counts, exposure = t.rhythm(slice(i, i + 1))
        rates = shrunk_rates(counts, exposure, self.population.day_prior,
                             day_strength=self.s.day_prior_days,
                             week_strength=self.s.week_prior_days,
                             jitter_h=self.s.jitter_min / 60.0)
        t.set_cum(slice(i, i + 1), cumulative(rates))
        s = self.settings_of(i)
        calibrate(t, i, s, self.population, ceiling_s=self.ceiling_s)
        pop = self.population
        density.calibrate(t, i, s, day_share(s), prior=(pop.quiet_excesses, pop.quiet_excess_rel))
