"""Hubs heard late by the same amount, reading after reading, have their signs dated as heard."""

from __future__ import annotations

from detector.lateness import LATE_S, SETTLE_S, Lateness

T0 = 1_700_000_000.0


def shifts(late: Lateness, hub: str, lags: list[float], every_s: float = 900.0) -> list[float]:
    return [late.shift(hub, T0 + every_s * i - lag, T0 + every_s * i) for i, lag in enumerate(lags)]


def test_a_hub_on_time_or_a_little_late_keeps_its_stamps() -> None:
    assert shifts(Lateness(), "h-1", [0.0, 5.0, 120.0, LATE_S - 1, 30.0] * 4) == [0.0] * 20


def test_a_clock_an_hour_behind_is_believed_after_half_an_hour_then_dated_as_heard() -> None:
    late = Lateness()
    got = shifts(late, "h-1", [3600.0 + jitter for jitter in (3.0, 1.0, 40.0, 2.0, 9.0, 1.0)])
    settled = int(SETTLE_S // 900)  # readings every 15 minutes
    assert got[:settled] == [0.0] * settled
    assert got[settled:] == [3601.0] * (6 - settled)  # the least lateness heard
    assert late.late() == {"h-1": 3601.0}  # for /health
    # The clock is put right: the next reading on time is dated by its stamp again.
    assert late.shift("h-1", T0 + 9000.0, T0 + 9000.0) == 0.0
    assert late.late() == {}
    assert late.shift("h-1", T0 + 9900.0 - 3600.0, T0 + 9900.0) == 0.0  # and must settle anew


def test_a_backlog_heard_late_by_ever_different_amounts_keeps_its_stamps() -> None:
    """A hub flushing the day it could not send, oldest first, a reading a second."""
    late = Lateness()
    backlog = [late.shift("h-1", T0 - 86400.0 + 900.0 * i, T0 + i) for i in range(96)]
    assert backlog == [0.0] * 96
    # ...even when flushed slowly over more than the settling time.
    slow = [late.shift("h-2", T0 - 86400.0 + 900.0 * i, T0 + 60.0 * i) for i in range(96)]
    assert slow == [0.0] * 96


def test_each_hub_is_judged_alone() -> None:
    late = Lateness()
    for i in range(6):
        late.shift("h-late", T0 + 900 * i - 1800.0, T0 + 900 * i)
        assert late.shift("h-right", T0 + 900 * i, T0 + 900 * i) == 0.0
    assert late.shift("h-late", T0 + 5400.0 - 1800.0, T0 + 5400.0) == 1800.0
