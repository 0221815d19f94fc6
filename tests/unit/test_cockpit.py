"""The cockpit's figures, from rows and a time: what needs someone now, per grid."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from shouwang.domain.alerts import Alert, AlertKind, AlertState, Outcome, Severity
from shouwang.domain.cockpit import Community, GridRow, Limits, cockpit
from shouwang.domain.model import Grid, Household, Hub, HubPresence, Tier

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 11, 24, 16, 0, tzinfo=TZ).timestamp()
HOUR, DAY = 3600.0, 86400.0
BY_COLOUR = {t: 60.0 * m for t, m in zip(Tier, (5, 10, 15, 30, 30), strict=True)}
LIMITS = Limits(ack_s=lambda tier, _kind: BY_COLOUR[tier], hub_silent_after_s=2700)


def alert(id_: int, household: str, *, opened_ago: float, state: AlertState = AlertState.OPEN,
          acked_after: float | None = None, outcome: Outcome | None = None) -> Alert:
    opened = NOW - opened_ago
    return Alert(id_, household, AlertKind.INACTIVITY, state, Severity.URGENT, opened, opened - 12 * HOUR,
                 "quiet", acknowledged_at=None if acked_after is None else opened + acked_after,
                 outcome=outcome)


def community(**changes: object) -> Community:
    base = Community(
        grids=[Grid("g-01", "东园网格"), Grid("g-02", "西园网格")],
        households=[Household("red", Tier.RED, "g-01", monitoring_since=NOW - 30 * DAY),
                    Household("green", Tier.GREEN, "g-01", monitoring_since=NOW - 30 * DAY),
                    Household("west", Tier.YELLOW, "g-02", monitoring_since=NOW - 30 * DAY)],
        hubs=[Hub("h-red", "red"), Hub("h-green", "green"), Hub("h-west", "west")],
        presence={}, hub_last_seen={"red": NOW - 60, "green": NOW - 60, "west": NOW - 60},
        consenting={"red", "green", "west"}, alerts=[], last_visit={"red": NOW - HOUR, "green": NOW - HOUR,
                                                                   "west": NOW - HOUR})
    return replace(base, **changes)  # type: ignore[arg-type]


def grid(view_grid: str, c: Community) -> GridRow:
    return next(g for g in cockpit(c, LIMITS, now=NOW, tz=TZ).grids if g.grid_id == view_grid)


def test_an_open_alert_older_than_its_colours_limit_is_past_it_and_an_acknowledged_one_is_not() -> None:
    c = community(alerts=[alert(1, "red", opened_ago=6 * 60), alert(2, "green", opened_ago=20 * 60),
                          alert(3, "red", opened_ago=HOUR, state=AlertState.ACKNOWLEDGED, acked_after=60)])
    view = cockpit(c, LIMITS, now=NOW, tz=TZ)
    east = view.grids[0]
    assert east.past_limit == [1]
    assert sorted(east.open_alerts) == [1, 2, 3]
    assert east.open_by_colour == {"red": 2, "green": 1}
    assert east.oldest_open_s == 20 * 60
    assert view.alerts[0].id == 1 and view.alerts[0].past_limit


def test_each_unwatched_household_says_why() -> None:
    c = community(consenting={"red", "west"}, hubs=[Hub("h-red", "red"), Hub("h-green", "green")],
                  presence={"h-red": HubPresence("h-red", "offline", NOW - 100)})
    watch = {h.household_id: (h.watch, h.hub_offline) for h in cockpit(c, LIMITS, now=NOW, tz=TZ).households}
    assert watch == {"red": ("hub_silent", True), "green": ("no_consent", False), "west": ("no_hub", False)}


def test_a_hub_not_heard_from_past_its_limit_is_offline_though_it_never_said_so() -> None:
    c = community(hub_last_seen={"red": NOW - 2 * HOUR, "green": NOW - 60, "west": None})
    east, west = cockpit(c, LIMITS, now=NOW, tz=TZ).grids
    assert east.hubs_offline == ["red"] and west.hubs_offline == ["west"]


def test_visits_are_due_by_colour_red_daily_green_quarterly() -> None:
    c = community(last_visit={"red": NOW - 2 * DAY, "green": NOW - 30 * DAY})
    rows = {h.household_id: h for h in cockpit(c, LIMITS, now=NOW, tz=TZ).households}
    assert rows["red"].visit_overdue and not rows["green"].visit_overdue
    assert rows["west"].visit_overdue  # never visited, monitored 30 days, yellow: every 15
    assert grid("g-01", c).visits_overdue == ["red"]


def test_response_times_are_measured_against_each_colours_limit() -> None:
    c = community(alerts=[
        alert(1, "red", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=4 * 60),
        alert(2, "red", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=9 * 60),
        alert(3, "green", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=20 * 60),
        alert(4, "green", opened_ago=40 * DAY, state=AlertState.RESOLVED, acked_after=1),  # outside 30 days
    ])
    east = grid("g-01", c)
    assert east.acknowledged == 3
    assert east.median_ack_s == 9 * 60
    assert east.within_limit_share == 2 / 3
    assert east.open_alerts == []


def test_the_community_median_is_over_every_acknowledgement_not_a_median_of_medians() -> None:
    """Found by a newcomer: the total row said "none" beside each grid's median."""
    c = community(alerts=[
        alert(1, "red", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=4 * 60),
        alert(2, "red", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=9 * 60),
        alert(3, "green", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=20 * 60),
        alert(4, "west", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=30 * 60),
        alert(5, "west", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=50 * 60),
    ])
    view = cockpit(c, LIMITS, now=NOW, tz=TZ)
    assert [g.median_ack_s for g in view.grids] == [9 * 60, 40 * 60]
    assert view.median_ack_s == 20 * 60  # the grids' medians would give 24.5 min
    assert cockpit(community(), LIMITS, now=NOW, tz=TZ).median_ack_s is None


def test_the_trend_counts_alerts_opened_per_local_day_for_thirty_days() -> None:
    c = community(alerts=[alert(1, "red", opened_ago=HOUR, state=AlertState.RESOLVED, outcome=Outcome.FALSE_ALARM),
                          alert(2, "west", opened_ago=2 * HOUR),
                          alert(3, "red", opened_ago=3 * DAY, state=AlertState.RESOLVED)])
    trend = cockpit(c, LIMITS, now=NOW, tz=TZ).trend
    assert len(trend) == 30 and trend[-1].day == "2025-11-24"
    assert (trend[-1].opened, trend[-1].false_alarms) == (2, 1)
    assert trend[-4].opened == 1 and sum(t.opened for t in trend) == 3


def test_one_grids_alerts_never_count_in_another() -> None:
    c = community(alerts=[alert(1, "west", opened_ago=HOUR)])
    assert grid("g-01", c).open_alerts == []
    assert grid("g-02", c).past_limit == [1]


def test_each_alert_is_held_to_the_ladder_of_its_own_kind_and_a_note_to_none() -> None:
    help_first = Limits(ack_s=lambda tier, kind: 120.0 if kind is AlertKind.HELP else BY_COLOUR[tier],
                        hub_silent_after_s=2700)
    pressed = replace(alert(1, "green", opened_ago=3 * 60), kind=AlertKind.HELP)
    quiet = alert(2, "green", opened_ago=3 * 60)
    odd = replace(alert(3, "green", opened_ago=DAY), kind=AlertKind.UNUSUAL_DAY, severity=Severity.NOTE)
    view = cockpit(community(alerts=[pressed, quiet, odd]), help_first, now=NOW, tz=TZ)
    assert view.grids[0].past_limit == [1]  # help: 2 minutes; the green inactivity alert has 30
    rows = {a.id: a for a in view.alerts}
    assert (rows[1].limit_s, rows[2].limit_s, rows[3].limit_s) == (120.0, 1800.0, None)
    assert not rows[3].past_limit


def test_a_ladder_that_never_climbs_sets_no_limit_and_its_acknowledgements_are_not_judged() -> None:
    never = Limits(ack_s=lambda tier, _kind: None if tier is Tier.GREEN else BY_COLOUR[tier], hub_silent_after_s=2700)
    c = community(alerts=[alert(1, "green", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=HOUR),
                          alert(2, "red", opened_ago=DAY, state=AlertState.RESOLVED, acked_after=60),
                          alert(3, "green", opened_ago=DAY)])
    east = next(g for g in cockpit(c, never, now=NOW, tz=TZ).grids if g.grid_id == "g-01")
    assert east.past_limit == [] and east.acknowledged == 2 and east.within_limit_share == 1.0
