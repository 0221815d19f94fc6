"""The duty leader's cockpit (社区智治在线): per grid, what needs someone now and how the month went.

Pure: the repository hands in rows and the time; every figure keeps the ids behind it, so the page
can show the list a number stands for.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shouwang.domain.alerts import Alert, AlertKind, AlertState, Outcome, Severity
from shouwang.domain.model import Grid, Household, Hub, HubPresence, Tier

VISIT_EVERY_DAYS: dict[Tier, float] = {
    Tier.RED: 1, Tier.ORANGE: 7, Tier.YELLOW: 15, Tier.BLUE: 30, Tier.GREEN: 91,
}
"""五色五访: daily, weekly, twice a month, monthly, quarterly."""


@dataclass(frozen=True, slots=True)
class Community:
    """What the cockpit is computed from (the repository fills it)."""

    grids: list[Grid]
    households: list[Household]
    hubs: list[Hub]
    presence: dict[str, HubPresence]
    hub_last_seen: dict[str, float | None]
    consenting: set[str]
    alerts: list[Alert]
    last_visit: dict[str, float]


@dataclass(frozen=True, slots=True)
class Limits:
    ack_s: Callable[[Tier, AlertKind], float | None]
    """How long an alert may stay unacknowledged: the wait before the ladder in force for its
    colour and kind climbs (settings change ladders; the help button's climbs in two minutes);
    None for a ladder that never climbs."""
    hub_silent_after_s: float
    visit_every_days: dict[Tier, float] = field(default_factory=lambda: dict(VISIT_EVERY_DAYS))


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    household_id: str
    grid_id: str
    colour: str
    kind: str
    state: str
    opened_at: float
    age_s: float
    limit_s: float | None
    past_limit: bool


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    household_id: str
    alias: str | None
    grid_id: str
    colour: str
    watch: str
    """`watched`, or why not: `no_consent`, `no_hub`, `hub_silent`."""
    hub_offline: bool
    last_visit_at: float | None
    visit_due_at: float
    visit_overdue: bool


@dataclass(frozen=True, slots=True)
class GridRow:
    grid_id: str
    name: str
    households: int
    open_by_colour: dict[str, int]
    open_alerts: list[int]
    past_limit: list[int]
    oldest_open_s: float | None
    hubs_offline: list[str]
    unwatched: list[str]
    visits_overdue: list[str]
    acknowledged: int
    median_ack_s: float | None
    within_limit_share: float | None


@dataclass(frozen=True, slots=True)
class TrendRow:
    day: str
    opened: int
    false_alarms: int


@dataclass(frozen=True, slots=True)
class Cockpit:
    grids: list[GridRow]
    alerts: list[AlertRow]
    households: list[HouseholdRow]
    trend: list[TrendRow]
    median_ack_s: float | None = None
    """The median time to acknowledgement over every grid shown (not a median of the grids')."""


def cockpit(community: Community, limits: Limits, *, now: float, tz: ZoneInfo, days: int = 30) -> Cockpit:
    """Every figure of the cockpit, per grid, at `now`."""
    homes = {h.id: h for h in community.households}
    unresolved = [a for a in community.alerts if a.state is not AlertState.RESOLVED and a.household_id in homes]
    alert_rows = sorted((_alert_row(a, homes[a.household_id], limits, now) for a in unresolved),
                        key=lambda r: (not r.past_limit, -r.age_s))
    hubs_of: dict[str, list[Hub]] = {}
    for hub in community.hubs:
        hubs_of.setdefault(hub.household_id, []).append(hub)
    household_rows = [_household_row(h, hubs_of.get(h.id, []), community, limits, now)
                      for h in community.households]
    start = now - days * 86400
    recent = [a for a in community.alerts if a.opened_at >= start and a.household_id in homes]
    names = {g.id: g.name for g in community.grids}
    grid_ids = sorted(names.keys() | {h.grid_id for h in community.households})
    by_grid: dict[str, tuple[list[AlertRow], list[HouseholdRow], list[Alert]]] = {
        g: ([], [], []) for g in grid_ids}
    for row in alert_rows:
        by_grid[row.grid_id][0].append(row)
    for home in household_rows:
        by_grid[home.grid_id][1].append(home)
    for alert in recent:
        by_grid[homes[alert.household_id].grid_id][2].append(alert)
    grids = [_grid_row(g, names.get(g, g), *by_grid[g], homes, limits) for g in grid_ids]
    waits = [a.acknowledged_at - a.opened_at for a in recent if a.acknowledged_at is not None]
    return Cockpit(grids, alert_rows, household_rows, _trend(recent, now=now, tz=tz, days=days),
                   median_ack_s=statistics.median(waits) if waits else None)


def _limit(alert: Alert, tier: Tier, limits: Limits) -> float | None:
    # A note waits for the next visit: dispatch never climbs its ladder, so it has no limit.
    return None if alert.severity is Severity.NOTE else limits.ack_s(tier, alert.kind)


def _alert_row(alert: Alert, home: Household, limits: Limits, now: float) -> AlertRow:
    limit = _limit(alert, home.tier, limits)
    age = now - alert.opened_at
    return AlertRow(alert.id, home.id, home.grid_id, home.tier.colour, alert.kind.value,
                    alert.state.value, alert.opened_at, age, limit,
                    alert.state is AlertState.OPEN and limit is not None and age > limit)


def _household_row(home: Household, hubs: list[Hub], community: Community, limits: Limits,
                   now: float) -> HouseholdRow:
    seen = community.hub_last_seen.get(home.id)
    said_offline = any((p := community.presence.get(hub.id)) is not None and p.state == "offline"
                       for hub in hubs)
    silent = bool(hubs) and (said_offline or seen is None or now - seen > limits.hub_silent_after_s)
    watch = ("no_consent" if home.id not in community.consenting else
             "no_hub" if not hubs else "hub_silent" if silent else "watched")
    last_visit = community.last_visit.get(home.id)
    every = limits.visit_every_days[home.tier] * 86400
    due = (last_visit if last_visit is not None else home.monitoring_since or now) + every
    return HouseholdRow(home.id, home.alias, home.grid_id, home.tier.colour, watch, silent, last_visit,
                        due, due < now)


def _grid_row(grid_id: str, name: str, alerts: list[AlertRow], homes: list[HouseholdRow],
              recent: list[Alert], households: dict[str, Household], limits: Limits) -> GridRow:
    """One grid's figures, from its own alerts, households and recently opened alerts."""
    mine, residents = alerts, homes
    open_now = [a for a in mine if a.state == AlertState.OPEN.value]
    acks = [(a.acknowledged_at - a.opened_at, _limit(a, households[a.household_id].tier, limits))
            for a in recent if a.acknowledged_at is not None]
    waits = [wait for wait, _ in acks]
    limited = [(wait, limit) for wait, limit in acks if limit is not None]
    return GridRow(
        grid_id=grid_id, name=name, households=len(residents),
        open_by_colour=dict(Counter(a.colour for a in mine)),
        open_alerts=[a.id for a in mine],
        past_limit=[a.id for a in mine if a.past_limit],
        oldest_open_s=max((a.age_s for a in open_now), default=None),
        hubs_offline=[h.household_id for h in residents if h.hub_offline],
        unwatched=[h.household_id for h in residents if h.watch != "watched"],
        visits_overdue=[h.household_id for h in residents if h.visit_overdue],
        acknowledged=len(acks),
        median_ack_s=statistics.median(waits) if waits else None,
        within_limit_share=(sum(wait <= limit for wait, limit in limited) / len(limited)) if limited else None,
    )


def _trend(alerts: Iterable[Alert], *, now: float, tz: ZoneInfo, days: int) -> list[TrendRow]:
    """Alerts opened per local day over the last `days` days, oldest first."""
    today = datetime.fromtimestamp(now, tz).date()
    opened: Counter[str] = Counter()
    false: Counter[str] = Counter()
    for alert in alerts:
        day = datetime.fromtimestamp(alert.opened_at, tz).date().isoformat()
        opened[day] += 1
        false[day] += alert.outcome is Outcome.FALSE_ALARM
    labels = [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]
    return [TrendRow(day, opened[day], false[day]) for day in labels]
