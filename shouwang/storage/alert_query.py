"""Listing alerts for staff: filtered, paged, counted, with their household and assignee."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from shouwang.domain.alerts import Alert, AlertKind, AlertState, Outcome, Severity
from shouwang.domain.errors import NotFound
from shouwang.domain.model import Household, Staff, Tier
from shouwang.storage.alerts import _alert
from shouwang.storage.registry import visible_households
from shouwang.storage.schema import alert_assignments, alerts, households

UNRESOLVED = "unresolved"


@dataclass(frozen=True, slots=True)
class AlertQuery:
    states: tuple[AlertState, ...] = ()
    kind: AlertKind | None = None
    tier: Tier | None = None
    grid_id: str | None = None
    household_id: str | None = None
    assigned_to: int | None = None
    opened_from: float | None = None
    opened_to: float | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ListedAlert:
    alert: Alert
    household: Household
    assigned_to: int | None


def _where(q: AlertQuery, viewer: Staff | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if viewer is not None and not (viewer.active and viewer.role.sees_everything):
        found.append(visible_households(viewer))
    if q.states:
        found.append(alerts.c.state.in_([s.value for s in q.states]))
    if q.kind is not None:
        found.append(alerts.c.kind == q.kind.value)
    if q.tier is not None:
        found.append(households.c.tier == int(q.tier))
    if q.grid_id is not None:
        found.append(households.c.grid_id == q.grid_id)
    if q.household_id is not None:
        found.append(alerts.c.household_id == q.household_id)
    if q.assigned_to is not None:
        found.append(alert_assignments.c.staff_id == q.assigned_to)
    if q.opened_from is not None:
        found.append(alerts.c.opened_at >= q.opened_from)
    if q.opened_to is not None:
        found.append(alerts.c.opened_at < q.opened_to)
    return found


def _joined(query: Select[Any]) -> Select[Any]:
    return query.select_from(
        alerts.join(households, households.c.id == alerts.c.household_id)
        .outerjoin(alert_assignments, alert_assignments.c.alert_id == alerts.c.id))


class AlertLister:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def page(self, q: AlertQuery, *, viewer: Staff | None) -> tuple[list[ListedAlert], int]:
        """Newest first, and how many match in all.

        Ids first (a narrow sort), then the page's rows by id: sorting whole alert rows to keep
        fifty was most of the cost of a long list.
        """
        where = _where(q, viewer)
        sees_all = viewer is None or (viewer.active and viewer.role.sees_everything)
        needs_join = not sees_all or any(x is not None for x in (q.tier, q.grid_id,
                                                                 q.assigned_to))
        base = _joined if needs_join else (lambda query: query.select_from(alerts))
        ids_query = (base(select(alerts.c.id)).where(*where).order_by(alerts.c.id.desc())
                     .limit(q.limit).offset(q.offset))
        with self._engine.connect() as db:
            total = int(db.execute(base(select(func.count())).where(*where)).scalar_one())
            ids = list(db.execute(ids_query).scalars())
            rows = db.execute(
                _joined(select(*_ALERT_COLUMNS, *_HOUSEHOLD_COLUMNS, alert_assignments.c.staff_id))
                .where(alerts.c.id.in_(ids)).order_by(alerts.c.id.desc())).all() if ids else []
        return [_listed(tuple(r)) for r in rows], total

    def one(self, alert_id: int) -> ListedAlert:
        """One alert with its household and assignee, in one query."""
        with self._engine.connect() as db:
            row = db.execute(
                _joined(select(*_ALERT_COLUMNS, *_HOUSEHOLD_COLUMNS, alert_assignments.c.staff_id))
                .where(alerts.c.id == alert_id)).first()
        if row is None:
            raise NotFound("alert", alert_id)
        return _listed(tuple(row))

    def unresolved_or_opened_since(self, start: float) -> list[Alert]:
        """Every alert not yet resolved, and every alert opened since `start` (the cockpit's)."""
        query = select(alerts).where(or_(alerts.c.state != AlertState.RESOLVED.value,
                                         alerts.c.opened_at >= start))
        with self._engine.connect() as db:
            return [_alert(r) for r in db.execute(query)]

    def last_resolved_by_household(self, household_ids: list[str],
                                   kinds: frozenset[AlertKind]) -> dict[str, Alert]:
        """Each household's most recently resolved alert of these kinds (households with none are absent)."""
        newest = (select(alerts.c.household_id, func.max(alerts.c.resolved_at).label("at"))
                  .where(alerts.c.state == AlertState.RESOLVED.value, alerts.c.household_id.in_(household_ids),
                         alerts.c.kind.in_([k.value for k in kinds]))
                  .group_by(alerts.c.household_id).subquery())
        query = select(alerts).join(newest, (alerts.c.household_id == newest.c.household_id)
                                    & (alerts.c.resolved_at == newest.c.at)).where(
            alerts.c.kind.in_([k.value for k in kinds]))
        with self._engine.connect() as db:
            return {a.household_id: a for a in (_alert(r) for r in db.execute(query))}

    def unresolved_by_household(self, household_ids: list[str]) -> dict[str, Alert]:
        """Each household's alert that most needs someone: open before acknowledged, then the
        most severe, then the newest."""
        rank = {"urgent": 0, "warning": 1, "note": 2}
        query = select(alerts).where(alerts.c.state != AlertState.RESOLVED.value,
                                     alerts.c.household_id.in_(household_ids))
        with self._engine.connect() as db:
            found = [_alert(r) for r in db.execute(query)]
        best: dict[str, Alert] = {}
        for a in sorted(found, key=lambda a: (a.state is not AlertState.OPEN,
                                              rank.get(a.severity.value, 9), -a.id)):
            best.setdefault(a.household_id, a)
        return best


_ALERT_FIELDS = [f.name for f in dataclasses.fields(Alert)]
_ALERT_COLUMNS = [alerts.c[name] for name in _ALERT_FIELDS]
_HOUSEHOLD_FIELDS = [f.name for f in dataclasses.fields(Household)]
_HOUSEHOLD_COLUMNS = [households.c[name] for name in _HOUSEHOLD_FIELDS]


def _listed(row: tuple[Any, ...]) -> ListedAlert:
    """Positional columns straight into our types: attribute access on rows was the cost of a
    page of fifty."""
    n = len(_ALERT_FIELDS)
    a = dict(zip(_ALERT_FIELDS, row[:n], strict=True))
    a.update(kind=AlertKind(a["kind"]), state=AlertState(a["state"]),
             severity=Severity(a["severity"]),
             outcome=Outcome(a["outcome"]) if a["outcome"] else None,
             details=dict(a["details"] or {}))
    h = dict(zip(_HOUSEHOLD_FIELDS, row[n:n + len(_HOUSEHOLD_FIELDS)], strict=True))
    h["tier"] = Tier(h["tier"])
    return ListedAlert(Alert(**a), Household(**h), row[-1])
