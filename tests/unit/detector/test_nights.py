"""Each household's own night: judged against its own nights, with community safety limits."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from detector import nights
from detector.learned import LearnedDetector
from detector.signs import SignKind, SignOfLife
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.unit.detector.helpers import TZ, at, welfare

DAYS = 21  # learned; the night before day 21 and its morning are under test


def nights_of(wake: float, bed: float, *, days: int = DAYS, seed: int = 0,
              household_id: str = "h-1") -> Iterator[SignOfLife]:
    """A household up at `wake` and in bed after its last sign at `bed`, nothing between."""
    rng = np.random.default_rng(seed)
    for day in range(days):
        up = wake + rng.normal(0, 0.15)
        times = [up + m for m in (0.0, 0.1, 0.3, 0.6)]
        times += list(rng.uniform(up + 1, bed - 0.2, size=rng.poisson(15)))
        times += [bed + rng.normal(0, 0.1)]
        for hour in sorted(times):
            kind = SignKind.WATER if rng.random() < 0.6 else SignKind.ELECTRICITY
            yield SignOfLife(household_id, at(day, float(hour)), kind, kind.value)


def learned(wake: float, bed: float, settings: DetectorSettings | None = None,
            ) -> LearnedDetector:
    detector = LearnedDetector(settings or DetectorSettings(), TZ)
    detector.learn(nights_of(wake, bed))
    detector.learn_one(SignOfLife("h-1", at(DAYS - 1, bed), SignKind.WATER, "water"))
    return detector



def test_a_long_sleeping_household_is_not_alerted_at_dawn() -> None:
    # to bed at 19:55, up at 08:10: every night is a silence of more than 12 hours
    detector = learned(wake=8.2, bed=19.9)
    assert detector.history_days("h-1") >= 14  # its nights are normal days to learn from
    found = welfare(detector, DAYS, [h / 6 for h in range(24, 50)])  # 04:00 to 08:10
    assert not found, [f.explanation for _, f in found]


def test_a_household_up_at_six_every_day_and_silent_at_nine_is_alerted() -> None:
    detector = learned(wake=6.0, bed=21.5)
    found = welfare(detector, DAYS, [h / 6 for h in range(30, 55)])  # 05:00 to 09:00
    assert found
    hour, finding = found[0]
    assert hour <= 8.0
    assert finding.details["limit"] == "wake_limit"
    assert finding.explanation.startswith("not up yet"), finding.explanation
    assert "usually up by 06:0" in finding.explanation, finding.explanation


def test_a_long_sleeper_who_does_not_get_up_is_alerted_by_her_own_wake_limit() -> None:
    detector = learned(wake=8.2, bed=19.9)
    found = welfare(detector, DAYS, [h / 6 for h in range(48, 73)])  # 08:00 to 12:00
    assert found
    hour, finding = found[0]
    assert 8.9 <= hour <= 11.0
    assert finding.details["limit"] == "wake_limit", finding.explanation


def test_the_communitys_latest_getting_up_time_is_said_when_it_fires() -> None:
    settings = DetectorSettings(learned=LearnedSettings(latest_wake_h=9.0))
    detector = learned(wake=8.6, bed=22.5, settings=settings)
    found = welfare(detector, DAYS, [h / 6 for h in range(48, 61)])  # 08:00 to 10:00
    assert found
    hour, finding = found[0]
    assert hour == 9.0
    assert "the latest getting-up time this community allows" in finding.explanation
    assert "社区设定的最晚起床时间" in (finding.explanation_zh or "")


def test_the_safety_limit_is_the_households_longest_silences_and_a_margin() -> None:
    long_sleeper = learned(wake=8.2, bed=19.9)
    early = learned(wake=6.0, bed=21.5)
    row = long_sleeper.table.find("h-1")
    assert row is not None
    limit = float(long_sleeper.table.quiet_limit_h[row])
    assert 12.3 + 1.0 <= limit <= LearnedSettings().max_quiet_h
    assert float(early.table.quiet_limit_h[0]) == LearnedSettings().min_quiet_h


def test_asleep_hours_count_the_usual_nights_inside_a_silence() -> None:
    # from 08:00 to 08:00 two days later, nights 21:30 to 06:30: two nights of 9 h
    start, end = np.array([8.0]), np.array([56.0])
    assert nights.asleep_hours(start, end, np.array([21.5]), np.array([6.5]))[0] == 18.0
    # from 23:00 to 05:00 the same night: 6 h of it
    assert nights.asleep_hours(np.array([23.0]), np.array([29.0]), np.array([21.5]),
                               np.array([6.5]))[0] == 6.0
