"""The household table's storage: rows kept across growth, new rows at each column's fill, and
the compact forms (names, hours, the rhythm, the day features, the top silences of the
configured parts of the day, the quiet spells of homes that showed motion)."""

from __future__ import annotations

import numpy as np

from detector.names import Names
from detector.rhythm import DEFAULT_DAY_PRIOR, cumulative, expected_signs
from detector.table import (
    CUM_STEPS,
    NO_HOURS,
    HouseholdTable,
    pack_features,
    pack_hours,
    unpack_features,
    unpack_hours,
)


def test_reserving_room_keeps_every_row_and_fills_the_new_ones() -> None:
    table = HouseholdTable()
    first = table.row("hh-1")
    table.last_sign[first] = 1_750_000_000.0
    table.counts_q[first, 5] = 250
    table.reserve(1000)
    assert table.capacity == 1000 and len(table) == 1
    assert table.last_sign[first] == 1_750_000_000.0 and table.counts_q[first, 5] == 250
    second = table.row("hh-2")
    assert second == 1 and table.capacity == 1000  # no growth while there is room
    assert np.isnan(table.last_sign[second]) and table.tier[second] == 5 and table.day_exposure_q[second, 0] == 255
    table.reserve(10)  # never shrinks
    assert table.capacity == 1000


def test_names_find_their_rows_whether_sorted_yet_or_just_added() -> None:
    names = Names(f"hh-{i:05d}" for i in range(5000))  # past MIN_RECENT: sorted
    names.append("栋-1")  # not ASCII, longer than the rest, kept apart until the next sort
    assert len(names) == 5001 and names[4999] == "hh-04999" and names[5000] == "栋-1"
    assert names.get("hh-01234") == 1234 and names.get("栋-1") == 5000
    assert names.get("hh-0123") is None and names.get("hh-012345") is None and "x" not in names
    assert names.rows(["栋-1", "nobody", "hh-00007"]).tolist() == [5000, -1, 7]
    assert list(Names(["b", "a"])) == ["b", "a"]


def test_hours_are_kept_to_under_two_seconds_and_none_stays_none() -> None:
    hours = np.array([0.0, 0.1667, 7.25, 23.999, 30.0, np.nan])
    back = unpack_hours(pack_hours(hours))
    assert np.isnan(back[-1]) and pack_hours(np.nan) == NO_HOURS
    assert np.abs(back[:-1] - hours[:-1]).max() * 3600 <= 0.9


def test_the_rhythm_is_kept_in_steps_of_its_busiest_hour_each_running_sum_to_half_a_step() -> None:
    table = HouseholdTable()
    i = table.row("hh-1")
    rates = np.random.default_rng(1).gamma(2.0, 0.5, size=(1, 168))
    table.set_cum(slice(i, i + 1), cumulative(rates))
    step = rates.max() / CUM_STEPS
    assert table.cum_q[i].max() <= 255
    # to half a step (and the float32 step's rounding)
    np.testing.assert_allclose(table.cum_of(i), cumulative(rates)[0], rtol=0, atol=step * 0.501)
    start = np.array([30.5, 0.0, 100.25, 23.99, 160.0, 170.5])
    end = np.array([35.25, 167.5, 100.75, 24.01, 190.0, 500.0])  # across days and weeks
    exact = expected_signs(cumulative(rates), start, end)
    kept = table.expected(np.full(start.size, i), start, end)
    np.testing.assert_allclose(kept, exact, rtol=0, atol=step * 1.001)


def test_only_a_home_that_showed_motion_keeps_quiet_spells_and_a_snapshot_keeps_them() -> None:
    table = HouseholdTable()
    table.row("quiet")
    dense = table.row("moving")
    j = table.spell_row(dense)
    table.spells.quiet_spell_limit_h[j, 9] = 1.5
    table.spells.ring_spell_h[j, 3, 9] = pack_hours(1.25)
    restored = HouseholdTable.from_arrays(table.to_arrays())
    assert restored.spells.size == 1 and restored.dense_row[0] == -1
    limits = restored.quiet_spell_limit_h(np.array([0, 1]))
    assert np.isnan(limits[0]).all() and limits[1, 9] == 1.5
    assert unpack_hours(restored.spells.ring_spell_h[restored.dense_row[1], 3, 9]) == 1.25
    assert restored.find("moving") == 1 and restored.ids[0] == "quiet"


def test_day_features_are_kept_in_bytes_hours_to_three_minutes_counts_exact_then_to_five_percent(
        ) -> None:
    # first and last sign, uses, water, electricity, gas, door, activity, longest daytime silence
    day = np.array([[6.55, 21.93, 41, 12, 0, np.nan, 7, 127, 3.33],
                    [np.nan, 0.0, 130, 1000, 20_000, 65_535, 1, 0, 14.0]])
    packed = pack_features(day)
    back = unpack_features(packed)
    assert packed.dtype == np.uint8 and np.array_equal(np.isnan(back), np.isnan(day))
    hours, counts = [0, 1, 8], [2, 3, 4, 5, 6, 7]
    assert np.nanmax(np.abs(back[:, hours] - day[:, hours])) <= 0.05 + 1e-9
    assert np.array_equal(back[0, counts][:3], day[0, counts][:3]) and back[0, 7] == 127
    big = day[1, counts][:4]
    assert np.abs(unpack_features(pack_features(day))[1, counts][:4] / big - 1).max() < 0.03


def test_the_ring_keeps_top_silences_of_the_configured_parts_of_the_day_only() -> None:
    table = HouseholdTable(parts=2)
    i = table.row("hh-1")
    assert table.ring_top.shape[1:] == (28, 2, 2) and table.ring_top[i].nbytes == 224
    assert table.day_top.shape[1:] == (2, 2) and table.day_top_score.shape[1:] == (2,)
    table.ring_top[i, 5, 1] = pack_hours([15.5, 2.25])
    restored = HouseholdTable.from_arrays(table.to_arrays())
    assert restored.parts == 2 and (restored.ring_top[i, 5, 1] == table.ring_top[i, 5, 1]).all()
    assert (table.ring_top[i, 5, 0] == NO_HOURS).all() and (table.ring_top[i, 4] == NO_HOURS).all()


def test_the_rhythm_in_bytes_follows_the_exact_decayed_sums_and_what_stops_still_fades() -> None:
    table = HouseholdTable()
    i = table.row("hh-1")
    rng = np.random.default_rng(3)
    counts, exposure = np.zeros(168), np.zeros(168)
    decay = 0.5 ** (1 / 28)
    for day in range(400):
        if day:
            table.decay_rhythm(i, decay)
            counts *= decay
            exposure *= decay
        hours = slice(day % 7 * 24, day % 7 * 24 + 24)
        seen = rng.poisson(DEFAULT_DAY_PRIOR)
        if day >= 300:
            seen[:12] = 0  # the night and the morning go quiet for good
        at_home = rng.uniform(0.5, 1.0, 24)
        table.add_to_rhythm(i, hours, seen, at_home)
        counts[hours] += seen
        exposure[hours] += at_home
    kept_counts, kept_exposure = table.rhythm(i)
    assert table.counts_q[i].max() >= 128  # two to three digits kept
    assert np.abs(kept_counts - counts).max() <= 0.015 * counts.max()
    assert np.abs(kept_exposure - exposure).max() <= 0.015 * exposure.max()
    quiet = np.concatenate([np.arange(d * 24, d * 24 + 12) for d in range(7)])
    assert kept_counts[quiet].sum() <= counts[quiet].sum() + 0.015 * counts.max() * quiet.size ** 0.5
