"""The learned detector: each household's own rhythm, calibrated silences, plain-words reasons.

It learns from every sign of life (`learn_one`), hears every reading's arrival (`observe`), and
each tick judges all households at once (`assess`): silences at home against the household's
rhythm, silences after a door against its outings, silent hubs (and whole buildings going dark
together), water and gas running longer than the household's own longest normal use, and a
daily note for days unlike the household's usual ones. See docs/detector.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from detector import density, flows, judge, lights, limits, nights, outages
from detector.context import Context
from detector.explain import KIND_ORDER, no_water_words, quiet_since, silence_words
from detector.learning import KIND_CODES, Learner
from detector.limits import Population, apply_prior, bed_tail, day_share
from detector.localtime import day_of, local_hour
from detector.rhythm import cumulative, shrunk_rates, surprise
from detector.signs import HomeState, SignKind, SignOfLife
from detector.table import CHECKED_KINDS, HouseholdTable
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.settings import DetectorSettings

MIN_POPULATION = 3
"""Households with history needed before their rhythm replaces the built-in prior."""
OTHER_LIFE_AFTER_WATER_S = 3600.0
NOTE_SHOWN_S = 86400.0
SIGN_KINDS = [kind.value for kind in SignKind]  # by KIND_CODES, the codes of `last_kind`
CHUNK = 8192


class LearnedDetector:
    """Per-household learned inactivity detection, vectorised over households."""

    name = "learned"

    def __init__(self, settings: DetectorSettings, tz: ZoneInfo, *,
                 seed: int | None = None) -> None:
        self.settings = settings
        self.tz = tz
        self.seed = settings.learned.seed if seed is None else seed
        self.table = HouseholdTable(parts=len(settings.learned.day_parts_from_h) + 1)
        self.hubs = outages.HubTable()
        self.population = Population()
        self.ceiling_s = settings.inactivity_h * 3600.0
        self.learner = Learner(self.table, tz, settings.learned, self.population,
                               ceiling_s=self.ceiling_s)
        self.notes: dict[int, tuple[float, Finding]] = {}
        self._contexts: Mapping[str, Context] | None = None
        self._context_of: dict[int, Context] = {}
        self._devices_down: list[int] = []
        """Rows of the households some of whose bridged devices cannot be reached."""
        self.outages = outages.Outages(settings.learned, tz)
        self.population_fixed = False
        """`fix_population`: the prior is never pooled from this detector's own households."""
        self._clock = -math.inf
        """The latest clock time heard (`observe`, `assess`): when a sign arrives."""

    def replace_state(self, table: HouseholdTable, hubs: outages.HubTable) -> None:
        """Adopt a restored household table and hub table (see `detector.snapshot`)."""
        if table.parts != self.table.parts:
            raise ValueError(f"the table keeps {table.parts} parts of the day, the settings "
                             f"{self.table.parts}")
        self.table = self.learner.table = table
        self.learner.budgets.clear()  # (by row, of the table replaced: `set_budget`)
        self.hubs = hubs
        self.notes.clear()
        self._contexts = None
        self._context_of = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_contexts"] = None  # the service's mapping is not ours to keep
        return state

    # learning -------------------------------------------------------------------------
    def row(self, household_id: str) -> int:
        """The household's row, created from the population prior if new."""
        i = self.table.find(household_id)
        if i is None:
            i = self.table.row(household_id)
            self.learner.refresh(i)
        return i

    def add(self, household_ids: Iterable[str]) -> np.ndarray:
        """Rows for many households at once; new ones start from the population prior."""
        t = self.table
        before = len(t)
        rows = t.rows(list(household_ids))
        new = np.arange(before, len(t))
        if new.size:
            s = self.settings.learned
            prior = shrunk_rates(np.zeros((1, 168)), np.zeros((1, 168)), self.population.day_prior,
                                 day_strength=s.day_prior_days, week_strength=s.week_prior_days,
                                 jitter_h=s.jitter_min / 60.0)
            t.set_cum(new, cumulative(prior))
            self._apply_prior(new)
        return rows

    def set_budget(self, household_id: str, per_month: float) -> None:
        """Judge one household at its own alert budget (false alerts per household-month)
        instead of the community's. For evaluation: copies of one recorded home, one a budget,
        replayed in one detector cost little more than one copy (a small table's tick is mostly
        numpy's cost per call). Not kept in a snapshot."""
        i = self.row(household_id)
        update = {"false_alerts_per_month": per_month}
        self.learner.budgets[i] = self.settings.learned.model_copy(update=update)
        self.learner.refresh(i)

    def _apply_prior(self, rows: np.ndarray) -> None:
        """`limits.apply_prior` over `rows`, each group with the budget it is judged at."""
        budgets = self.learner.budgets
        own = np.array([int(i) in budgets for i in rows], dtype=bool) if budgets else None
        common = rows if own is None else rows[~own]
        if common.size:
            apply_prior(self.table, common, self.settings.learned, self.population,
                        ceiling_s=self.ceiling_s)
        for i in [] if own is None else rows[own]:
            apply_prior(self.table, np.array([i]), budgets[int(i)], self.population,
                        ceiling_s=self.ceiling_s)

    def learn_one(self, sign: SignOfLife) -> None:
        """A sign as it arrives: learned in time order with those arriving with it once the
        detector keeps time (after its first `observe` or `assess`), at once before."""
        live = self._clock > -math.inf
        self.learner.learn(self.row(sign.household_id), sign.ts, sign.kind,
                           arrived=max(self._clock, sign.ts) if live else None)

    def learn(self, signs: Iterable[SignOfLife]) -> None:
        """Learn from many signs (history), oldest first; the input is not changed."""
        self.learner.release(math.inf)
        for sign in signs:
            self.learner.learn(self.row(sign.household_id), sign.ts, sign.kind)

    def observe(self, home: HomeState, *, hub_id: str, at: float) -> None:
        """A reading from `hub_id` arrived at clock time `at`; `home` is the tracker after it."""
        t = self.table
        i = self.row(home.household_id)
        self._clock = max(self._clock, at)
        self.learner.release_row(i, at)
        # a reading per message: plain floats, and no write where nothing changes
        if not t.first_heard[i] <= at:
            t.first_heard[i] = at
        heard = float(t.heard_at[i])
        if at - heard > t.hub_limit[i]:
            # We could not hear this home for a while: from its return on we can. Not from the
            # first reading's stamp (tried: a backlog covering the outage then showed its silence at
            # once, but a hub whose clock restarted stale after a power cut, stamping hours behind,
            # opened a false alert at once; telling them apart needs the backlog's stamps to cover
            # the outage without a hole, not yet kept).
            t.resumed_at[i] = at
        if not heard >= at:  # (NaN: never heard)
            t.heard_at[i] = at
        h = self.hubs.index.get(hub_id)
        if h is None:
            h = self.hubs.row(hub_id, i, float(t.hub_limit[i]))
        if not self.hubs.heard_at[h] >= at:
            self.hubs.heard_at[h] = at
        flows.sync_runs(t, i, home, self.settings)
        lights.observe(t, i, home, at, self.tz, lit_w=self.settings.learned.lit_w)

    def history_days(self, household_id: str) -> int:
        """Normal days learned so far for the household (0 if unknown)."""
        i = self.table.find(household_id)
        return 0 if i is None else int(self.table.learned_days[i])

    def weekly_rates(self, household_id: str) -> list[float] | None:
        """Expected uses in each local hour of the week (Monday 00:00 first), as judged now."""
        i = self.table.find(household_id)
        return None if i is None else np.diff(self.table.cum_of(i)).tolist()

    def silence_score(self, household_id: str, now: float) -> float:
        """Λ: the uses the household would normally have shown during its current silence."""
        i = self.row(household_id)
        start = float(judge.silence_start(self.table, now)[i])
        t = self.table
        return float(t.expected(np.array([i]), np.array([local_hour(start, self.tz)]),
                                np.array([local_hour(now, self.tz)]))[0])

    # judging --------------------------------------------------------------------------
    def assess(self, now: float, homes: Mapping[str, HomeState],
               contexts: Mapping[str, Context]) -> list[Finding]:
        self._sync_contexts(contexts)
        self._clock = max(self._clock, now)
        self.learner.release(now)
        self._refresh_population(now)
        self._check_days(now)
        t = self.table
        n = len(t)
        base = t.view("known") & t.view("active")
        silent, since = outages.silent_hubs(self.hubs, t.view("watching_since"),
                                            t.checked[:len(t), 2], now)
        blind = outages.blind_households(self.hubs, silent | self._hubs_down(), n)
        findings = self.outages.findings(self.hubs, self.table, self._context_of, silent=silent,
                                         since=since, blind=blind, now=now)
        findings += self._device_findings(blind, {f.household_id for f in findings}, now)
        partial = np.zeros(n, dtype=bool)
        partial[self._devices_down] = True
        judged = base & ~blind & ~(t.view("away_until") > now)
        findings += self._silences(judged, now, ceiling_only=partial & ~blind)
        findings += self._no_water(judged, now)
        findings += flows.running(t, self.settings, judged=base & ~blind, now=now, tz=self.tz)
        findings += [note for row, (until, note) in self.notes.items() if base[row]]
        return findings

    def _hubs_down(self) -> outages.Bools:
        """Hubs all of whose mapped devices cannot be reached: they give no sign, like silent ones."""
        down = np.zeros(len(self.hubs.ids), dtype=bool)
        for row in self._devices_down:
            for hub_id in self._context_of[row].devices.hubs_down:
                h = self.hubs.index.get(hub_id)
                if h is not None:
                    down[h] = True
        return down

    def _device_findings(self, blind: np.ndarray, reported: set[str], now: float) -> list[Finding]:
        """A finding per household with unreachable devices (unless a silent hub's says it)."""
        findings = []
        for row in self._devices_down:
            ctx = self._context_of[row]
            if ctx.household.is_active and ctx.household.id not in reported:
                finding = outages.device_finding(ctx, blind=bool(blind[row]), now=now, tz=self.tz,
                                                 after_s=self.settings.hub_offline_after_s)
                if finding is not None:
                    findings.append(finding)
        return findings

    def pool_population(self, now: float) -> Population:
        """The population prior pooled from the households learned so far (see below)."""
        self._refresh_population(now)
        return self.population

    def use_population(self, population: Population) -> None:
        """Judge with `population` as the prior (evaluation: a community's, leave-one-out).

        It stays while fewer than `MIN_POPULATION` of this detector's own households have
        history; the rows already here are recalibrated with it."""
        self.population.__dict__.update(population.__dict__)
        for i in range(len(self.table)):
            self.learner.refresh(i)

    def fix_population(self) -> None:
        """Judge with the prior as it is from now on, never pooling this detector's own
        households into it (evaluation: copies of one home at several budgets are one home, not
        a community; alone, a home never has the `MIN_POPULATION` households that would)."""
        self.population_fixed = True

    def _sync_contexts(self, contexts: Mapping[str, Context]) -> None:
        if contexts is self._contexts:
            return
        self._contexts = contexts
        after_s = self.settings.hub_offline_after_s
        rows = self.add(contexts)
        ctxs = list(contexts.values())
        t = self.table
        t.known[:] = False
        t.known[rows] = True
        t.active[rows] = [c.household.is_active for c in ctxs]
        t.away_until[rows] = [c.household.away_until or math.nan for c in ctxs]
        t.watching_since[rows] = [c.watching_since for c in ctxs]
        t.tier[rows] = [int(c.household.tier) for c in ctxs]
        limits = [max(after_s, 3 * min((h.report_interval_s for h in c.hubs), default=after_s))
                  for c in ctxs]
        t.hub_limit[rows] = limits
        self.hubs.register((h.id, int(r), max(after_s, 3 * h.report_interval_s))
                           for r, c in zip(rows, ctxs, strict=True) for h in c.hubs)
        t.checked[rows] = np.nan
        for r, c in zip(rows, ctxs, strict=True):
            if c.checked:
                t.checked[r] = [c.checked.get(kind, np.nan) for kind in CHECKED_KINDS]
        self._context_of = dict(zip(rows.tolist(), ctxs, strict=True))
        self._devices_down = [int(r) for r, c in zip(rows, ctxs, strict=True) if c.devices.down]
        back = [(int(r), c.devices.back_at) for r, c in zip(rows, ctxs, strict=True)
                if c.devices.back_at is not None]
        if back:  # a device came back: its silence is counted from then, as after a blind spell
            at = np.array([r for r, _ in back], dtype=np.intp)
            t.resumed_at[at] = np.fmax(t.resumed_at[at], [b for _, b in back])

    def _refresh_population(self, now: float) -> None:
        """Once a local day: the population's rhythm and limits become the prior for new homes.

        Also within the day when the history behind it has grown by a tenth: a system that
        starts empty and then receives days of history at once (a first import, a restart
        without a snapshot, the demo) must not judge with the default limits, or a prior made
        from the first few households, until tomorrow."""
        if self.population_fixed:
            return
        pop, t = self.population, self.table
        day = day_of(local_hour(now, self.tz))
        days = t.view("learned_days")
        mature = days >= self.settings.learned.min_history_days
        if int(mature.sum()) < MIN_POPULATION:
            return
        history = int(days[mature].sum())
        if day == pop.refreshed_day and history <= 1.1 * pop.history_days:
            return
        pop.refreshed_day, pop.history_days = day, history
        counts, hours = np.zeros(24), np.zeros(24)
        for first in range(0, len(t), CHUNK):
            chunk_counts, chunk_hours = t.rhythm(first + np.flatnonzero(mature[first:first + CHUNK]))
            counts += chunk_counts.reshape(-1, 7, 24).sum(axis=(0, 1))
            hours += chunk_hours.reshape(-1, 7, 24).sum(axis=(0, 1))
        pop.day_prior = (counts + pop.day_prior) / (hours + 1.0)  # per hour of day, at home
        own = t.view("threshold_own")[mature]
        for bucket in range(own.shape[1]):
            if np.isfinite(own[:, bucket]).any():
                pop.threshold[bucket] = float(np.nanmedian(own[:, bucket]))
        for column, prior in (("outing_own_h", "outing_h"), ("wake_own_h", "wake_limit_h"),
                               ("quiet_own_h", "night_h")):
            values = t.view(column)[mature]
            if np.isfinite(values).any():
                setattr(pop, prior, float(np.nanmedian(values)))
        pop.bed_h = nights.median_clock(t.view("bed_h")[mature])
        for column, prior in (("bed_early_own_h", "bed_early_h"), ("bed_late_own_h", "bed_late_h")):
            values = t.view(column)[mature]  # hours from noon
            if np.isfinite(values).any():
                setattr(pop, prior, float(np.mod(np.nanmedian(values) + 12.0, 24.0)))
        pop.wake_h = nights.median_clock(t.view("wake_h")[mature])
        pop.bed_excesses, pop.bed_excess_h = bed_tail(t, np.flatnonzero(mature))
        pop.lit_nights, pop.power_nights = lights.pooled(t, np.flatnonzero(mature))
        s = self.settings.learned
        pop.quiet_excesses, pop.quiet_excess_rel = density.pooled_tail(
            t, np.flatnonzero(mature), s, day_share(s))
        pop.households = int(mature.sum())
        for first in range(0, len(t), CHUNK):
            rows = slice(first, min(first + CHUNK, len(t)))
            counts, exposure = t.rhythm(rows)
            rates = shrunk_rates(counts, exposure, pop.day_prior,
                                 day_strength=s.day_prior_days, week_strength=s.week_prior_days,
                                 jitter_h=s.jitter_min / 60.0)
            t.set_cum(rows, cumulative(rates))
        self._apply_prior(np.arange(len(t)))

    def _check_days(self, now: float) -> None:
        """Look at a budget of the finished days waiting; the notes stay shown for a day."""
        queue = self.learner.to_check
        if queue:
            from detector.unusual import check_day  # scikit-learn loads when a day is checked

            for _ in range(min(len(queue), self.settings.learned.unusual_day_per_tick)):
                item = queue.popleft()
                note = check_day(self.table, item.row, item.day, item.features, self.tz)
                if note is not None:
                    self.notes[item.row] = (now + NOTE_SHOWN_S, note)
        for row in [r for r, (until, _) in self.notes.items() if until <= now]:
            del self.notes[row]

    def _silences(self, judged: np.ndarray, now: float, *,
                  ceiling_only: np.ndarray | None = None) -> list[Finding]:
        t = self.table
        found = judge.inactive(t, now, judged=judged, tz=self.tz,
                               floor_s=self.settings.learned.min_silence_min * 60,
                               ceiling_s=self.ceiling_s,
                               parts_from_h=self.settings.learned.day_parts_from_h,
                               ceiling_only=ceiling_only, lit_w=self.settings.learned.lit_w,
                               max_outing_s=self.settings.learned.max_outing_h * 3600.0,
                               min_motion=limits.min_motion(self.settings.learned))
        t.alert_since[: len(t)] = np.nan
        t.alert_since[found.rows] = found.start
        t.alert_why[found.rows] = found.why
        findings = []
        dispersion = self.settings.learned.dispersion
        for k, row in enumerate(found.rows):
            why = judge.Why(int(found.why[k])).name.lower()
            last_door = float(t.last_door[row])
            start = float(found.start[k])
            away = float(t.away_until[row])
            quiet = quiet_since(start, last_sign=float(t.last_sign[row]),
                                checked=float(t.checked[row, 0]), resumed=float(t.resumed_at[row]),
                                away_end=away if away <= now else None,
                                last_kind=SIGN_KINDS[t.last_kind[row]] if t.last_kind[row] >= 0 else None)
            text, text_zh = silence_words(
                why=why, kinds=self._kinds(int(row)), since=start, now=now,
                expected=float(found.expected[k]), tz=self.tz,
                last_door=last_door if math.isfinite(last_door) else None,
                learned_days=int(t.learned_days[row]), outing_h=float(t.outing_h[row]),
                wake_h=float(t.wake_h[row]), wake_limit_h=float(t.wake_limit_h[row]),
                ceiling_h=float(found.limit_s[k]) / 3600,
                quiet=quiet, latest_wake_h=self.settings.learned.latest_wake_h,
                night_h=self._longest_night(int(row), float(found.limit_s[k])),
                bed_early_h=float(t.bed_early_h[row]), bed_late_h=float(t.bed_late_h[row]),
                lit=(float(t.power_floor_w[row]), float(t.night_power_w[row])),
            )
            findings.append(Finding(
                t.ids[row], AlertKind.INACTIVITY, Severity.URGENT, start, text,
                {"why": why, "expected_signs": round(float(found.expected[k]), 2),
                 "surprise": round(float(surprise(found.expected[k:k + 1], dispersion)[0]), 2),
                 "threshold": round(float(found.threshold[k]), 2),
                 "learned_days": int(t.learned_days[row]),
                 "silence_s": float(found.elapsed_s[k]),
                 "last_sign_at": quiet.last_sign, "counted_from": quiet.reason,
                 "limit": judge.LIMITS[judge.Why(int(found.why[k]))]},
                explanation_zh=text_zh,
            ))
        return findings

    def _longest_night(self, row: int, limit_s: float) -> float | None:
        """The household's calibrated longest silence at home (hours) if its own safety limit
        applied; None while it learns, or when the fixed ceiling applied."""
        own = float(self.table.quiet_own_h[row])
        return own if math.isfinite(own) and limit_s != self.ceiling_s else None

    def _kinds(self, row: int) -> list[str]:
        seen = int(self.table.kinds_seen[row])
        return [k for k in KIND_ORDER if seen & (1 << KIND_CODES[SignKind(k)])]

    def _no_water(self, judged: np.ndarray, now: float) -> list[Finding]:
        t, s = self.table, self.settings
        rows, asleep_s = judge.water_silent(t, now, judged=judged, after_s=s.no_water_h * 3600,
                                            other_life_s=OTHER_LIFE_AFTER_WATER_S, tz=self.tz)
        findings = []
        for row, asleep in zip(rows, asleep_s, strict=True):
            since = float(np.fmax(t.last_water[row], t.resumed_at[row]))
            out_s = float(t.out_since_water_s[row]) if since == t.last_water[row] else 0.0
            text, text_zh = no_water_words(since, float(t.last_sign[row]), now, self.tz,
                                           out_s=out_s, asleep_s=float(asleep))
            findings.append(Finding(t.ids[row], AlertKind.NO_WATER, Severity.URGENT, since, text,
                                    explanation_zh=text_zh))
        return findings
