"""The 369 limits, measured (克拉玛依 369): respond within 3 hours, handle within 6, settle within 9.

Pure. For every alert: how long until someone acknowledged it (respond), until someone was at or
on the phone with the household (handle: the first visit recorded after it opened; an alert
closed without one was handled when it was closed, since closing it took someone looking into
it), and until it was resolved (settle). Then, per grid and per colour, the share of alerts whose
step came within the community's limit.

An alert still waiting for a step counts against the limit once the limit has passed, and not at
all before (it may yet make it). Notes for the next visit (severity "note") and alerts that
cleared themselves before anyone acted asked nobody to respond, so they are not measured.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shouwang.domain.alerts import Alert, Outcome, Severity
from shouwang.domain.model import Household, Tier

STEPS = ("respond", "handle", "settle")


@dataclass(frozen=True, slots=True)
class ResponseLimits:
    respond_s: float = 3 * 3600.0
    handle_s: float = 6 * 3600.0
    settle_s: float = 9 * 3600.0

    def of(self, step: str) -> float:
        return {"respond": self.respond_s, "handle": self.handle_s, "settle": self.settle_s}[step]


@dataclass(frozen=True, slots=True)
class AlertTimes:
    """One alert's steps, in seconds from when it opened (None: not yet)."""

    alert_id: int
    household_id: str
    grid_id: str
    colour: str
    kind: str
    opened_at: float
    respond_s: float | None
    handle_s: float | None
    settle_s: float | None
    outcome: str | None

    def of(self, step: str) -> float | None:
        return {"respond": self.respond_s, "handle": self.handle_s, "settle": self.settle_s}[step]


@dataclass(frozen=True, slots=True)
class StepFigures:
    measured: int
    """Alerts judged for this step: done, or past its limit without it."""
    within: int
    median_s: float | None

    @property
    def share(self) -> float | None:
        return self.within / self.measured if self.measured else None


@dataclass(frozen=True, slots=True)
class ResponseRow:
    by: str
    """"grid", "colour" or "all"."""
    key: str
    alerts: int
    steps: dict[str, StepFigures]


def measured(alert: Alert) -> bool:
    """Alerts that asked someone to act."""
    return alert.severity is not Severity.NOTE and alert.outcome is not Outcome.CLEARED_ITSELF


def alert_times(alert: Alert, household: Household, visits_at: Sequence[float]) -> AlertTimes:
    """One alert's steps; `visits_at`: the household's visit times, sorted."""
    acted = alert.acknowledged_at
    if acted is None and alert.resolved_by is not None:
        acted = alert.resolved_at  # closed straight away: the answer and the close were one
    first = bisect.bisect_left(visits_at, alert.opened_at)
    visited = visits_at[first] if first < len(visits_at) else None
    closed = alert.resolved_at if alert.resolved_by is not None else None
    handled = min((t for t in (visited, closed) if t is not None), default=None)

    def since(at: float | None) -> float | None:
        return None if at is None else max(0.0, at - alert.opened_at)

    return AlertTimes(alert.id, household.id, household.grid_id, household.tier.colour,
                      alert.kind.value, alert.opened_at, since(acted), since(handled),
                      since(alert.resolved_at), alert.outcome.value if alert.outcome else None)


def all_times(alerts: Iterable[Alert], households: Mapping[str, Household],
              visits: Mapping[str, Sequence[float]]) -> list[AlertTimes]:
    """The times of every measured alert of a household in `households` (others are not yours)."""
    return [alert_times(a, households[a.household_id], visits.get(a.household_id, ()))
            for a in sorted(alerts, key=lambda a: a.id)
            if a.household_id in households and measured(a)]


def step_figures(times: Sequence[AlertTimes], step: str, limit_s: float, *, now: float) -> StepFigures:
    done = [v for t in times if (v := t.of(step)) is not None]
    missed = sum(1 for t in times if t.of(step) is None and now - t.opened_at > limit_s)
    return StepFigures(measured=len(done) + missed, within=sum(v <= limit_s for v in done),
                       median_s=statistics.median(done) if done else None)


def summary(times: Sequence[AlertTimes], limits: ResponseLimits, *, now: float,
            grids: Iterable[str] = ()) -> list[ResponseRow]:
    """Rows per grid (every grid in `grids`, even without alerts), per colour, then all."""
    groups: list[tuple[str, str, list[AlertTimes]]] = []
    for grid in sorted(set(grids) | {t.grid_id for t in times}):
        groups.append(("grid", grid, [t for t in times if t.grid_id == grid]))
    for tier in Tier:
        groups.append(("colour", tier.colour, [t for t in times if t.colour == tier.colour]))
    groups.append(("all", "", list(times)))
    return [ResponseRow(by, key, len(mine),
                        {s: step_figures(mine, s, limits.of(s), now=now) for s in STEPS})
            for by, key, mine in groups]


CSV_FIELDS = ["by", "group", "alerts"] + [
    f"{step}_{what}" for step in STEPS for what in ("measured", "within", "share", "median_min")]


def csv_rows(rows: Iterable[ResponseRow]) -> list[dict[str, object]]:
    """The summary as spreadsheet rows (shares as 0-1 with 3 decimals, medians in minutes)."""
    out: list[dict[str, object]] = []
    for row in rows:
        line: dict[str, object] = {"by": row.by, "group": row.key, "alerts": row.alerts}
        for step, fig in row.steps.items():
            line[f"{step}_measured"] = fig.measured
            line[f"{step}_within"] = fig.within
            line[f"{step}_share"] = "" if fig.share is None else f"{fig.share:.3f}"
            line[f"{step}_median_min"] = "" if fig.median_s is None else round(fig.median_s / 60)
        out.append(line)
    return out
