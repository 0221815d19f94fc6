"""What a (re)started detector takes from the stores, and what may close an alert.

A restart must never close an alert whose condition still holds. So the state after a start
comes from what is stored, whatever its age (each household's last sign of life, last water,
first reading heard, since when it has been watched; the open alerts), never from a recent
window of readings or from the moment the process started. And an alert clears itself only on
evidence newer than its silence began: a sign of life, water drawn, the hub heard again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from detector.context import Context
from detector.learned import LearnedDetector
from detector.learning import KIND_CODES
from detector.signs import HomeState, SignKind
from shouwang.domain.alerts import Alert, AlertKind
from shouwang.storage.memory import HouseholdMemory
from shouwang.storage.status import HouseholdStatus

CATCH_UP_MARGIN_S = 3600.0
"""Readings stored this long before the detector's last save are read again at start (a hub's
backlog arrives late, with its own older times)."""
CATCH_UP_MAX_S = 28 * 86400.0
"""A detector down longer re-reads only this much (older signs of life come from the status)."""


def _later(a: float | None, b: float | None) -> float | None:
    return b if a is None or (b is not None and b > a) else a


def _earlier(a: float | None, b: float | None) -> float | None:
    return b if a is None or (b is not None and b < a) else a


def remember(home: HomeState, status: HouseholdStatus | None,
             memory: HouseholdMemory | None) -> None:
    """Merge what the stores remember into a home rebuilt from recent readings: the newest of
    each (the oldest first reading), so a sign older than any window re-read is not lost."""
    if status is not None and status.last_sign_at is not None and (
            home.last_sign_at is None or status.last_sign_at > home.last_sign_at):
        home.last_sign_at = status.last_sign_at
        kind = status.last_sign_kind
        home.last_sign_kind = SignKind(kind) if kind in set(SignKind) else None
    if status is not None:
        home.last_door_at = _later(home.last_door_at, status.last_door_at)
    if memory is not None:
        home.last_water_at = _later(home.last_water_at, memory.last_water_at)
        home.first_seen_at = _earlier(home.first_seen_at, memory.first_heard_at)


def catch_up_start(now: float, window_s: float, last_saved_at: float | None) -> float:
    """From when to re-read stored readings at start: the usual window, or from the detector's
    last save if it was down longer (everything the gateway stored meanwhile), but no further
    back than CATCH_UP_MAX_S unless the window itself is longer."""
    start = now - window_s
    if last_saved_at is not None:
        start = min(start, max(last_saved_at - CATCH_UP_MARGIN_S, now - CATCH_UP_MAX_S))
    return start


def _heard_after(homes: Mapping[str, HomeState], household_ids: list[str], at: float) -> bool:
    for household_id in household_ids:
        home = homes.get(household_id)
        heard = home.hub_last_seen_at if home is not None else None
        if heard is not None and heard > at:
            return True
    return False


def may_clear(alert: Alert, homes: Mapping[str, HomeState], ctx: Context | None,
              now: float) -> bool:
    """Whether an open alert the detector no longer finds may resolve itself: staff stopped
    the watching (no context, retired, away), or there is evidence newer than its silence."""
    if ctx is None or not ctx.household.is_active or ctx.is_away(now):
        return True
    home = homes.get(alert.household_id)
    if alert.kind is AlertKind.INACTIVITY:
        return home is not None and home.last_sign_at is not None and home.last_sign_at > alert.since
    if alert.kind is AlertKind.NO_WATER:
        return (home is not None and home.last_water_at is not None
                and home.last_water_at > alert.since)
    if alert.kind is AlertKind.HUB_OFFLINE and "devices" in alert.details:
        return not ctx.devices.down  # the bridges said the devices are back
    if alert.kind is AlertKind.HUB_OFFLINE:
        households = alert.details.get("households") or [alert.household_id]
        return _heard_after(homes, [str(h) for h in households], alert.since)
    if alert.kind in (AlertKind.WATER_RUNNING, AlertKind.GAS_RUNNING):
        return _heard_after(homes, [alert.household_id], alert.opened_at)
    return True


def records(household_ids: list[str], homes: Mapping[str, HomeState],
            memory: Mapping[str, HouseholdMemory], learned_days: Callable[[str], int],
            now: float) -> tuple[list[HouseholdStatus], list[HouseholdMemory]]:
    """What to store of the households that changed: their status (the last sign of life, for
    the API and for restarts), and what else the detector must remember where that changed or
    was never stored (`updated_at` 0)."""
    statuses, memories = [], []
    for household_id in household_ids:
        home = homes.get(household_id)
        kept = memory.get(household_id)
        if kept is not None and home is not None and (
                kept.updated_at == 0.0 or home.first_seen_at != kept.first_heard_at
                or home.last_water_at != kept.last_water_at):
            memories.append(HouseholdMemory(household_id, kept.watching_since,
                                            home.first_seen_at, home.last_water_at, now))
        elif kept is not None and kept.updated_at == 0.0:
            memories.append(HouseholdMemory(household_id, kept.watching_since, updated_at=now))
        if home is not None:
            statuses.append(HouseholdStatus(
                household_id, home.last_sign_at,
                home.last_sign_kind.value if home.last_sign_kind else None,
                home.last_door_at, home.hub_last_seen_at, now,
                learned_days=learned_days(household_id)))
    return statuses, memories


def restore_learned(detector: LearnedDetector, home: HomeState) -> None:
    """Give the learned detector what the stores remember of a household where its model knows
    nothing newer (a start without a snapshot, a sign older than the readings re-read): the last
    sign of life, last water and door, and the first time it was heard, whatever their age."""
    t = detector.table
    i = detector.row(home.household_id)
    if home.last_sign_at is not None and not t.last_sign[i] >= home.last_sign_at:
        t.last_sign[i] = home.last_sign_at
        kind = home.last_sign_kind
        t.last_kind[i] = KIND_CODES[kind] if kind is not None else -1
        if kind is not None:
            t.kinds_seen[i] |= np.uint8(1 << KIND_CODES[kind])
    for column, value in (("last_water", home.last_water_at), ("last_door", home.last_door_at)):
        if value is not None and not getattr(t, column)[i] >= value:
            getattr(t, column)[i] = value
    if home.first_seen_at is not None and not t.first_heard[i] <= home.first_seen_at:
        t.first_heard[i] = home.first_seen_at


def resume_learned(detector: LearnedDetector, now: float, down_since: float) -> None:
    """After the detector itself was down since `down_since`: homes and hubs heard until then
    count as heard until `now`. Its downtime is not theirs: a silence goes on across it (rather
    than starting again as after a time we could not hear the home), and no hub is taken for
    offline before it has had its usual time to report. A hub already silent when the detector
    went down keeps its time, and so its outage. (The fixed rules: `Context.down`.)"""
    t, hubs = detector.table, detector.hubs
    heard = t.view("heard_at")  # a copy (timestamps are kept packed: `Times`)
    rows = np.flatnonzero(heard >= down_since - t.view("hub_limit"))
    t.heard_at[rows] = np.fmax(heard[rows], now)
    n = len(hubs.ids)
    hub_heard = hubs.heard_at[:n]
    was = hub_heard >= down_since - hubs.limit_s[:n]
    hub_heard[was] = np.fmax(hub_heard[was], now)
