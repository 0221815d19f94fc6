"""The 369 limits, measured: respond in 3 h, handle in 6, settle in 9, per grid and colour."""

from __future__ import annotations

from shouwang.domain.alerts import Alert, AlertKind, AlertState, Outcome, Severity
from shouwang.domain.model import Household, Tier
from shouwang.domain.responses import ResponseLimits, alert_times, all_times, csv_rows, summary

HOUR = 3600.0
NOW = 1_790_000_000.0
RED = Household("red", Tier.RED, "g-01")
GREEN = Household("green", Tier.GREEN, "g-02")
HOMES = {"red": RED, "green": GREEN}


def alert(id_: int, household: str, *, opened: float, acked: float | None = None,
          resolved: float | None = None, outcome: Outcome | None = None,
          severity: Severity = Severity.URGENT) -> Alert:
    state = AlertState.RESOLVED if resolved is not None else (
        AlertState.ACKNOWLEDGED if acked is not None else AlertState.OPEN)
    return Alert(id_, household, AlertKind.INACTIVITY, state, severity, opened, opened - HOUR, "quiet",
                 acknowledged_at=acked, acknowledged_by=1 if acked else None, resolved_at=resolved,
                 resolved_by=None if outcome is Outcome.CLEARED_ITSELF or resolved is None else 1,
                 outcome=outcome)


def test_each_step_is_timed_from_when_the_alert_opened() -> None:
    start = NOW - 20 * HOUR
    a = alert(1, "red", opened=start, acked=start + HOUR, resolved=start + 8 * HOUR,
              outcome=Outcome.ELDER_FINE)
    times = alert_times(a, RED, [start - 5 * HOUR, start + 2 * HOUR, start + 7 * HOUR])
    assert (times.respond_s, times.handle_s, times.settle_s) == (HOUR, 2 * HOUR, 8 * HOUR)


def test_without_a_visit_the_alert_was_handled_when_staff_closed_it() -> None:
    start = NOW - 20 * HOUR
    a = alert(1, "red", opened=start, resolved=start + 4 * HOUR, outcome=Outcome.FALSE_ALARM)
    times = alert_times(a, RED, [])
    # closed without acknowledging first: answering and closing were one act
    assert (times.respond_s, times.handle_s, times.settle_s) == (4 * HOUR, 4 * HOUR, 4 * HOUR)


def test_notes_and_alerts_that_cleared_themselves_are_not_measured() -> None:
    alerts = [alert(1, "red", opened=NOW - 5 * HOUR, severity=Severity.NOTE),
              alert(2, "red", opened=NOW - 5 * HOUR, resolved=NOW - 4 * HOUR, outcome=Outcome.CLEARED_ITSELF),
              alert(3, "elsewhere", opened=NOW - 5 * HOUR)]
    assert all_times(alerts, HOMES, {}) == []


def test_shares_per_grid_and_colour_count_misses_past_the_limit_and_wait_for_the_rest() -> None:
    alerts = [
        # red, g-01: acknowledged in 1 h, visited in 5 h, resolved in 8 h: all three in time
        alert(1, "red", opened=NOW - 30 * HOUR, acked=NOW - 29 * HOUR, resolved=NOW - 22 * HOUR,
              outcome=Outcome.ELDER_FINE),
        # red, g-01: acknowledged after 4 h, never visited, still open after 10 h: late on every step
        alert(2, "red", opened=NOW - 10 * HOUR, acked=NOW - 6 * HOUR),
        # green, g-02: opened 1 h ago, nobody yet: not judged on any step
        alert(3, "green", opened=NOW - HOUR),
    ]
    times = all_times(alerts, HOMES, {"red": [NOW - 25 * HOUR]})
    rows = {(r.by, r.key): r for r in summary(times, ResponseLimits(), now=NOW, grids=["g-01", "g-02", "g-03"])}
    east = rows[("grid", "g-01")]
    assert east.alerts == 2
    assert [(east.steps[s].measured, east.steps[s].within) for s in ("respond", "handle", "settle")] == [
        (2, 1), (2, 1), (2, 1)]
    assert east.steps["respond"].share == 0.5 and east.steps["respond"].median_s == 2.5 * HOUR
    west = rows[("grid", "g-02")]
    assert west.alerts == 1 and all(f.measured == 0 and f.share is None for f in west.steps.values())
    assert rows[("grid", "g-03")].alerts == 0  # a grid without alerts still has its row
    assert rows[("colour", "red")].alerts == 2 and rows[("colour", "green")].alerts == 1
    assert rows[("all", "")].steps["settle"].within == 1


def test_the_limits_are_the_communitys() -> None:
    a = alert(1, "red", opened=NOW - 30 * HOUR, acked=NOW - 28 * HOUR)  # 2 h to acknowledge
    times = all_times([a], HOMES, {})
    strict = summary(times, ResponseLimits(respond_s=HOUR), now=NOW)[-1].steps["respond"]
    usual = summary(times, ResponseLimits(), now=NOW)[-1].steps["respond"]
    assert (strict.within, usual.within) == (0, 1)


def test_the_csv_rows_give_shares_and_medians_in_minutes() -> None:
    a = alert(1, "red", opened=NOW - 30 * HOUR, acked=NOW - 29 * HOUR)
    rows = csv_rows(summary(all_times([a], HOMES, {}), ResponseLimits(), now=NOW))
    everyone = rows[-1]
    assert everyone["by"] == "all" and everyone["respond_share"] == "1.000"
    assert everyone["respond_median_min"] == 60 and everyone["handle_share"] == "0.000"
