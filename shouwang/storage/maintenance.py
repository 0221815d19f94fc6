"""Maintenance windows in the state store: who put a hub or a grid under maintenance, why, until when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update

from shouwang.domain.cover import MaintenanceWindow
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import maintenance_windows as windows


def _window(r: Any) -> MaintenanceWindow:
    return MaintenanceWindow(r.id, r.hub_id, r.grid_id, r.starts_at, r.until, r.reason, r.created_by,
                             r.cancelled_at)


MAX_WINDOW_S = 7 * 86400.0
"""The longest a maintenance window may silence a hub's or a grid's offline alerts: while it lasts
a home whose hubs are all silent is judged on nothing."""


class MaintenanceStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, *, hub_id: str | None, grid_id: str | None, until: float, reason: str, actor: Actor,
            now: float) -> MaintenanceWindow:
        if (hub_id is None) == (grid_id is None):
            raise InvalidInput("a maintenance window covers one hub (--hub) or one grid (--grid)")
        if until <= now:
            raise InvalidInput("'until' must be in the future")
        if until - now > MAX_WINDOW_S:  # found by a tester: a year typed for the month silenced a red home
            raise InvalidInput(f"a maintenance window lasts at most {MAX_WINDOW_S / 86400:.0f} days (this one "
                               f"{(until - now) / 86400:.0f}: is the date right?); a hub out for longer is "
                               "retired, or its household marked away")
        if not reason.strip():
            raise InvalidInput("say why (--reason): the trail and the page show it")
        with writing(self._engine) as db:
            window_id = db.execute(insert(windows).values(
                hub_id=hub_id, grid_id=grid_id, starts_at=now, until=until, reason=reason,
                created_by=actor.staff_id, created_at=now)).inserted_primary_key[0]  # type: ignore[index]
            trail.record(db, at=now, actor=actor, action="maintenance_started",
                         entity="hub" if hub_id else "grid", entity_id=hub_id or grid_id,
                         details={"window_id": window_id, "until": until, "reason": reason})
        return self.get(int(window_id))

    def get(self, window_id: int) -> MaintenanceWindow:
        with self._engine.connect() as db:
            row = db.execute(select(windows).where(windows.c.id == window_id)).first()
        if row is None:
            raise NotFound("maintenance window", window_id)
        return _window(row)

    def live(self, now: float) -> list[MaintenanceWindow]:
        query = (select(windows).where(windows.c.cancelled_at.is_(None), windows.c.until > now,
                                       windows.c.starts_at <= now).order_by(windows.c.id))
        with self._engine.connect() as db:
            return [_window(r) for r in db.execute(query)]

    def end(self, window_id: int, *, actor: Actor, now: float) -> MaintenanceWindow:
        window = self.get(window_id)
        if not window.live(now):
            raise InvalidInput(f"maintenance window {window_id} is already over")
        with writing(self._engine) as db:
            db.execute(update(windows).where(windows.c.id == window_id).values(cancelled_at=now))
            trail.record(db, at=now, actor=actor, action="maintenance_ended",
                         entity="hub" if window.hub_id else "grid", entity_id=window.hub_id or window.grid_id,
                         details={"window_id": window_id})
        return self.get(window_id)
