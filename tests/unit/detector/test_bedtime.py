"""Evenings: a household's last evening sign, and the bedtime limit of silences that miss it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from detector import nights
from detector.learned import LearnedDetector
from detector.signs import SignKind, SignOfLife
from detector.table import unpack_hours
from shouwang.settings import DetectorSettings
from tests.unit.detector.helpers import TZ, at, welfare

DAYS = 21  # learned; day 21 is under test
BED = 22.0


def sparse_days(days: int = DAYS, seed: int = 0, bed: float = BED) -> Iterator[SignOfLife]:
    """A sparse elder: the toilet on getting up at 07:00, lunch, lights at 18:00, two or three
    flushes at random in the day and the toilet at bedtime (22:00): nothing else."""
    rng = np.random.default_rng(seed)
    for day in range(days):
        times = [7.0 + rng.normal(0, 0.2), 11.6 + rng.normal(0, 0.2), 12.1 + rng.normal(0, 0.2),
                 18.0 + rng.normal(0, 0.05), bed + rng.normal(0, 0.25)]
        times += list(rng.uniform(8.0, 21.0, size=rng.integers(2, 4)))
        for hour in sorted(times):
            yield SignOfLife("h-1", at(day, float(hour)), SignKind.WATER, "water")


def learned() -> LearnedDetector:
    detector = LearnedDetector(DetectorSettings(), TZ)
    detector.learn(sparse_days())
    return detector



def test_the_last_evening_sign_is_the_start_of_the_silence_running_at_one() -> None:
    assert nights.is_bedtime(22.0, 30.5)  # 22:00 to 06:30: the night
    assert nights.is_bedtime(23.5, 26.0)  # to bed at 23:30, the toilet at 02:00
    assert not nights.is_bedtime(18.0, 21.5)  # an evening's quiet spell ends before 01:00
    assert not nights.is_bedtime(26.0, 30.5)  # after the toilet at 02:00: not going to bed
    assert not nights.is_bedtime(10.0, 26.0)  # a silence from the morning is no bedtime


def test_a_sparse_household_learns_its_bedtime_not_its_quiet_evening() -> None:
    # 18:00 then nothing until 22:00 most evenings: "the first two-hour silence after 18:00"
    # made its bedtime 18:00, and an afternoon's silence looked like the night
    detector = learned()
    t, i = detector.table, detector.row("h-1")
    assert abs(float(t.bed_h[i]) - BED) < 0.5
    assert float(t.bed_early_h[i]) <= BED - 0.5
    late = float(nights.from_noon(float(t.bed_late_h[i])))
    assert BED - 12.0 <= late <= nights.BED_MARK_H + 12.0  # from 22:00 to 01:00


def test_a_sparse_household_silent_from_two_in_the_afternoon_is_alerted_well_before_morning(
) -> None:
    detector = learned()
    for hour in (7.0, 11.6, 12.1, 14.0):  # the day under test: then silent from 14:00
        detector.learn_one(SignOfLife("h-1", at(DAYS, hour), SignKind.WATER, "water"))
    found = welfare(detector, DAYS, [14.0 + h / 6 for h in range(6 * 18)])  # to 08:00
    assert found, "never alerted"
    hour, finding = found[0]
    assert hour <= 25.1, (hour, finding.explanation)  # by 01:00, not at the next morning
    assert finding.details["limit"] in ("day_rhythm", "bedtime_limit"), finding.explanation


def test_the_bedtime_limit_fires_and_says_so_when_the_rhythm_alone_would_not() -> None:
    detector = learned()
    for hour in (7.0, 11.6, 12.1, 17.5):  # silent from 17:30: the evening's signs never come
        detector.learn_one(SignOfLife("h-1", at(DAYS, hour), SignKind.WATER, "water"))
    found = welfare(detector, DAYS, [17.5 + h / 6 for h in range(6 * 14)])
    assert found
    hour, finding = found[0]
    assert hour <= 25.1, (hour, finding.explanation)
    assert finding.details["limit"] == "bedtime_limit", finding.explanation
    assert finding.explanation.startswith("not gone to bed as usual"), finding.explanation
    assert "睡前" in (finding.explanation_zh or "")


def test_a_sparse_household_whose_last_sign_is_at_its_usual_bedtime_is_not_alerted_at_dawn(
) -> None:
    detector = learned()
    for hour in (7.0, 11.6, 12.1, 18.0, BED):
        detector.learn_one(SignOfLife("h-1", at(DAYS, hour), SignKind.WATER, "water"))
    found = welfare(detector, DAYS, [BED + h / 6 for h in range(1, 6 * 9)])  # to 06:50
    assert not found, [(h, f.explanation) for h, f in found]


def _early_share_used(detector: LearnedDetector) -> tuple[float, float, float]:
    """(the household's own late limit, hours from noon; its own early limit; the early
    quantile with half the evening's share, hours from noon)."""
    from detector import calibration as cal
    from detector.limits import budget
    from detector.table import unpack_hours

    t, i = detector.table, detector.row("h-1")
    valid = t.ring_day[i] >= 0
    sleep = unpack_hours(t.ring_sleep[i][valid])
    evening = np.asarray(nights.from_noon(sleep[np.isfinite(sleep[:, 0]), 0]), dtype=np.float64)
    p_half = budget(detector.settings.learned).evening / 2 * int(valid.sum()) / evening.size
    half = -cal.own_threshold(-evening, p_half)
    return float(t.bed_late_own_h[i]), float(t.bed_early_own_h[i]), half


def test_the_early_bedtime_limit_takes_the_late_ones_share_when_that_cannot_be_passed() -> None:
    # to bed about 00:15: her latest evenings extrapolate past 01:00, where no last evening sign
    # can be, so the late limit never fires on a normal day and its half of the evening's share
    # goes to the early limit (later than with half the share)
    late_bed = LearnedDetector(DetectorSettings(), TZ)
    late_bed.learn(sparse_days(bed=24.25))
    late, early, half = _early_share_used(late_bed)
    assert late >= nights.BED_MARK_H + 12.0
    assert early > half + 0.05
    # to bed about 22:00: the late limit is before 01:00 and keeps its half
    late, early, half = _early_share_used(learned())
    assert late < nights.BED_MARK_H + 12.0
    assert abs(early - half) < 1e-5  # float32


def test_a_trip_to_the_toilet_before_one_is_not_taken_for_going_to_bed() -> None:
    # to bed about 20:30, the toilet at 00:40 one night in three: the silence running at 01:00
    # began at 00:40, but the night began at 20:30 (her bedtimes came out at 00:40 on those
    # nights, and her late bedtime limit at 01:00)
    def days() -> Iterator[SignOfLife]:
        for sign in sparse_days(bed=20.5):
            yield sign
            day, hour = divmod((sign.ts - at(0, 0.0)) / 3600.0, 24.0)
            if hour >= 19.5 and day % 3 == 0:  # the bedtime toilet: a trip follows at 00:40
                yield SignOfLife("h-1", at(int(day), 24.67), SignKind.WATER, "water")

    detector = LearnedDetector(DetectorSettings(), TZ)
    detector.learn(days())
    t, i = detector.table, detector.row("h-1")
    sleep = unpack_hours(t.ring_sleep[i][t.ring_day[i] >= 0])
    bedtimes = sleep[np.isfinite(sleep[:, 0]), 0]
    assert bedtimes.size >= DAYS - 3
    assert np.all((bedtimes > 19.0) & (bedtimes < 22.0)), bedtimes
    assert abs(float(t.bed_h[i]) - 20.5) < 0.3
    assert float(nights.from_noon(float(t.bed_late_h[i]))) < nights.BED_MARK_H + 12.0 - 1.0


def test_bedtime_of_a_night_broken_by_the_toilet() -> None:
    evening = np.array([20.5, 24.67])  # silent from 20:30 to the toilet at 00:40
    # the silence running at 01:00 began at 00:41: the night began at 20:30
    assert nights.bedtime_of(24.68, evening, usual_h=20.5) == 20.5
    # a night owl whose evening was quiet from 20:30: to bed after the toilet at 00:40, as usual
    assert nights.bedtime_of(24.68, evening, usual_h=0.5) == 24.68
    # after a longer break than a trip to the toilet the night began with the silence itself
    assert nights.bedtime_of(25.5, evening, usual_h=20.5) == 25.5
    assert nights.bedtime_of(23.0, np.array([np.nan, np.nan]), usual_h=22.0) == 23.0


def test_the_last_long_evening_silence_is_lengthened_by_short_ones_only() -> None:
    none = np.array([np.nan, np.nan])
    first = nights.evening_quiet(none, 20.5, 24.67)  # long, after noon: kept
    assert first.tolist() == [20.5, 24.67]
    assert nights.evening_quiet(first, 24.7, 24.95).tolist() == [20.5, 24.95]  # after a break
    assert nights.evening_quiet(first, 26.0, 26.3).tolist() == [20.5, 24.67]  # not after it
    assert np.isnan(nights.evening_quiet(none, 9.0, 11.0)).all()  # a morning's: none
    # a long afternoon silence does not reach over the evening's next long one
    afternoon = nights.evening_quiet(none, 16.0, 18.0)
    assert nights.evening_quiet(afternoon, 18.2, 21.0).tolist() == [18.2, 21.0]


def test_the_bedtime_limits_weigh_only_the_nights_whose_bedtime_was_seen() -> None:
    # a household whose bedtimes were seen on two nights only (its hub was down at 01:00, say)
    # has its own limits from those two: they must not weigh as much as three weeks of nights
    from detector.limits import apply_prior
    from detector.table import NO_HOURS

    detector = learned()
    t, i = detector.table, detector.row("h-1")
    t.ring_sleep[i, 2:, 0] = NO_HOURS
    pop = detector.population
    pop.bed_early_h, pop.bed_late_h = 19.0, 23.5
    t.bed_early_own_h[i], t.bed_late_own_h[i] = 9.5, 10.5  # 21:30 and 22:30, from noon
    apply_prior(t, np.array([i]), detector.settings.learned, pop, ceiling_s=detector.ceiling_s)
    assert float(t.bed_early_h[i]) == 19.0 and float(t.bed_late_h[i]) == 23.5  # the community's
