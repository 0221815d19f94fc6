"""Lights left on: an evening silence whose power never went down to the household's night.

Going to bed, people switch off the lights and the television; someone who fell in the evening
leaves them on. Where a home's electricity readings carry `power_w` (the MQTT contract's
optional instantaneous power), the detector keeps the lowest power reported since the last sign
of life (its *floor*: the machines that switch themselves, a fridge's compressor, come and go,
a lamp stays) and the household's usual night floor. A silence at home that began in the evening,
before the household's usual bedtime, whose floor still stands `lit_w` above that night floor at
its late bedtime limit (by when its last evening sign has nearly always come, `detector.limits`)
alerts then (`lights_on`): the evening's lights were never switched off.

This is the case the clock alone cannot tell (`docs/detector.md`, "Bedtimes broken by the
toilet"): a fall an hour before the usual bedtime against going to bed an hour early. Its cost
is the nights a household falls asleep with the lights on: each would be a false alert. So each
night's floor at 01:00 is kept (lit or dark, in two bit rings), the community's share of lit
nights is the prior, and the rule holds for a household only while its estimated share of lit
nights (its own with `PRIOR_NIGHTS` of the community's) is within half the evening's share of
the budget (`detector.limits`). A household that sleeps with a lamp on has that lamp in its night floor, and the rule
says nothing about it; a home without `power_w` never has a floor.
"""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from detector import nights
from detector.localtime import local_hour
from detector.signs import NIGHT_H, HomeState
from detector.table import HISTORY_DAYS, HouseholdTable

Rows = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]

FLOOR_AFTER_S = 45 * 60.0
"""A floor counts once it has stood this long: a fridge's compressor runs for a quarter of an
hour in every half hour or so, and the floor must have seen it off."""
NIGHT_MEMORY = 0.8
"""The usual night floor follows each night's by this much of the old one (an exponential
average: a new appliance on standby raises it within a week)."""
PRIOR_NIGHTS = 28.0
"""The community's share of lit nights weighs as this many nights of the household's own."""
MIN_NIGHTS = 7
"""Nights whose floor was seen at 01:00 before the rule holds for a household."""
DARK, LIT = 1, 2
"""How a night stood (`night_lit`, `day_lit`): lit or dark once its floor was seen (0: not)."""
BITS = np.uint32(1) << np.arange(HISTORY_DAYS, dtype=np.uint32)


def power(home: HomeState) -> float:
    """The home's total power as last reported (watts; NaN: none of its meters reports it)."""
    return float(sum(home.power_w.values())) if home.power_w else math.nan


def observe(t: HouseholdTable, i: int, home: HomeState, at: float, tz: ZoneInfo, *,
            lit_w: float) -> None:
    """A reading arrived at `at`: lower the floor, and at night learn the night's floor."""
    if lit_w <= 0 or not home.power_w:
        return
    watts = power(home)
    if not float(t.power_floor_w[i]) <= watts:  # (a reading per message: no numpy call when
        t.power_floor_w[i] = watts              # the floor stands, which is most of them)
    if not NIGHT_H[0] <= local_hour(at, tz) % 24.0 < NIGHT_H[1]:
        return
    if at - float(t.last_sign[i]) < FLOOR_AFTER_S:
        return
    floor = float(t.power_floor_w[i])
    t.night_floor_w[i] = np.fmin(t.night_floor_w[i], floor)
    night = float(t.night_power_w[i])
    if t.night_lit[i] == 0 and math.isfinite(night):
        t.night_lit[i] = LIT if floor - night >= lit_w else DARK


def sign(t: HouseholdTable, i: int) -> None:
    """A sign of life: the floor starts again from the next reading."""
    t.power_floor_w[i] = np.nan


def silence_ended(t: HouseholdTable, i: int, *, normal: bool) -> None:
    """A silence at home ended: how it stood at night counts for the night that ended today if
    it was a normal one (not a fall: a silence past the household's limits, or away)."""
    if normal:
        if t.day_lit[i] == 0:
            t.day_lit[i] = t.night_lit[i]
        t.day_night_w[i] = np.fmin(t.day_night_w[i], t.night_floor_w[i])
    t.night_lit[i] = 0
    t.night_floor_w[i] = np.nan


def fold(t: HouseholdTable, i: int, slot: int) -> None:
    """The night that ended on a day learned into ring slot `slot`, and into the usual night
    floor."""
    bit = BITS[slot]
    t.ring_lit[i] = (t.ring_lit[i] & ~bit) | (bit if t.day_lit[i] == LIT else 0)
    t.ring_dark[i] = (t.ring_dark[i] & ~bit) | (bit if t.day_lit[i] == DARK else 0)
    seen = float(t.day_night_w[i])
    if math.isfinite(seen):
        old = float(t.night_power_w[i])
        t.night_power_w[i] = seen if math.isnan(old) else NIGHT_MEMORY * old + (1 - NIGHT_MEMORY) * seen


def count(masks: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """Nights marked in each of `masks` (a population count of 32-bit rings)."""
    bits = np.unpackbits(np.ascontiguousarray(masks, dtype="<u4").view(np.uint8).reshape(-1, 4),
                         axis=1)
    counted: npt.NDArray[np.int64] = bits.sum(axis=1).astype(np.int64)
    return counted


def pooled(t: HouseholdTable, rows: Rows) -> tuple[float, float]:
    """The community's lit nights and nights seen at 01:00, over `rows`."""
    lit = int(count(t.ring_lit[rows]).sum())
    return float(lit), float(lit + int(count(t.ring_dark[rows]).sum()))


def calibrate(t: HouseholdTable, rows: Rows, share: float, prior: tuple[float, float]) -> None:
    """Whether the rule holds for each of `rows`: its share of lit nights (its own, with
    `PRIOR_NIGHTS` of the community's; none known: no rule) within `share` a night."""
    lit = count(t.ring_lit[rows]).astype(np.float64)
    seen = lit + count(t.ring_dark[rows])
    community_lit, community_seen = prior
    rate = community_lit / community_seen if community_seen > 0 else math.nan
    estimate = (lit + PRIOR_NIGHTS * rate) / (seen + PRIOR_NIGHTS)
    with np.errstate(invalid="ignore"):
        t.lit_ok[rows] = (seen >= MIN_NIGHTS) & (estimate <= share)


def left_on(t: HouseholdTable, rows: Rows, start_h: npt.NDArray[np.float64],
            now_h: npt.NDArray[np.float64], gone_s: npt.NDArray[np.float64], *,
            lit_w: float) -> Bools:
    """Of `rows`, silent at home since `start_h` (local hours), those the rule alerts now: the
    silence began after noon and before the usual bedtime, the floor has stood `lit_w` above
    the night's for `FLOOR_AFTER_S`, and it is past the late bedtime limit."""
    floor = t.power_floor_w[rows].astype(np.float64) - t.night_power_w[rows].astype(np.float64)
    start = nights.from_noon(np.mod(start_h, 24.0))
    deadline = nights.wake_deadline(start_h, t.bed_late_h[rows].astype(np.float64))
    with np.errstate(invalid="ignore"):
        return np.asarray(t.lit_ok[rows] & (floor >= lit_w) & (gone_s >= FLOOR_AFTER_S)
                          & (start < nights.from_noon(t.bed_h[rows].astype(np.float64)))
                          & (now_h >= deadline) & (lit_w > 0))
