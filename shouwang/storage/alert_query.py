"""Listing alerts for staff: filtered, paged, counted, with their household and assignee."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from shouwang.domain.alerts import Alert, AlertKind, AlertState
from shouwang.domain.model import Household, Staff, Tier
from shouwang.storage.alerts import _alert
from shouwang.storage.registry import _household, visible_households
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
    if viewer is not None:
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
        """Newest first, and how many match in all."""
        where = _where(q, viewer)
        hh = [c.label(f"h_{c.name}") for c in households.c]
        rows_query = (_joined(select(alerts, *hh, alert_assignments.c.staff_id.label("assignee")))
                      .where(*where).order_by(alerts.c.id.desc()).limit(q.limit).offset(q.offset))
        with self._engine.connect() as db:
            total = int(db.execute(_joined(select(func.count())).where(*where)).scalar_one())
            rows = db.execute(rows_query).all()
        listed = []
        for r in rows:
            house = _household(_Prefixed(r, "h_"))
            listed.append(ListedAlert(_alert(r), house, r.assignee))
        return listed, total

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


class _Prefixed:
    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)
