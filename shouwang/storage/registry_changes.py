"""Changing the registry: retiring grids, hubs, households and staff, and editing staff.

Nothing with history is ever deleted: retiring keeps every row and stops the watching.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update

from shouwang.domain.alerts import AlertState
from shouwang.domain.errors import Conflict, InvalidInput, NotFound
from shouwang.domain.model import Grid, Household, Hub, Staff
from shouwang.storage.database import writing
from shouwang.storage.schema import (
    alerts,
    api_tokens,
    grids,
    households,
    hubs,
    staff,
)


class RegistryChanges:
    """The writing half of the registry (mixed into `Registry`)."""

    _engine: Engine

    def staff(self, staff_id: int) -> Staff:
        raise NotImplementedError

    def household(self, household_id: str) -> Household:
        raise NotImplementedError

    def _staff_rows(self, where: Any = None) -> list[Staff]:
        raise NotImplementedError

    def grid(self, grid_id: str) -> Grid:
        with self._engine.connect() as db:
            row = db.execute(select(grids).where(grids.c.id == grid_id)).first()
        if row is None:
            raise NotFound("grid", grid_id)
        return Grid(id=row.id, name=row.name)

    def grid_retired_at(self, grid_id: str) -> float | None:
        with self._engine.connect() as db:
            row = db.execute(select(grids.c.retired_at).where(grids.c.id == grid_id)).first()
        if row is None:
            raise NotFound("grid", grid_id)
        return row.retired_at  # type: ignore[no-any-return]

    def retire_grid(self, grid_id: str, *, now: float) -> Grid:
        """A grid with no active households may be retired; its history stays."""
        grid = self.grid(grid_id)
        with writing(self._engine) as db:
            active = db.execute(
                select(households.c.id).where(
                    households.c.grid_id == grid_id, households.c.retired_at.is_(None)
                ).limit(1)
            ).first()
            if active is not None:
                raise Conflict(f"grid {grid_id} still has active households; move or retire them "
                               "first")
            db.execute(update(grids).where(grids.c.id == grid_id, grids.c.retired_at.is_(None))
                       .values(retired_at=now))
        return grid

    def all_staff(self) -> list[Staff]:
        """Every staff member, retired ones included."""
        return self._staff_rows()

    def retire_staff(self, staff_id: int, *, now: float) -> Staff:
        """They stop receiving alerts and every token of theirs stops working at once. Refused
        while they hold an acknowledged alert: found by a tester, such an alert stayed "someone is
        on it" for ever, with nobody told and nobody able to see it."""
        person = self.staff(staff_id)
        with writing(self._engine) as db:
            held = _unresolved(db, alerts.c.acknowledged_by == staff_id)
            if held:
                raise Conflict(f"{person.username} holds {_named_alerts(held)}, acknowledged and not "
                               f"resolved: {_them(held)} must be resolved first (by them, or by a grid head "
                               "or duty leader once someone has checked on the household), then retire them")
            db.execute(update(staff).where(staff.c.id == staff_id).values(active=False))
            db.execute(update(api_tokens)
                       .where(api_tokens.c.staff_id == staff_id, api_tokens.c.revoked_at.is_(None))
                       .values(revoked_at=now))
        return self.staff(staff_id)

    def retire_household(self, household_id: str, *, now: float) -> Household:
        """Stop watching a household; it and its history are kept (never hard-deleted). Refused
        while an alert of it is unresolved: found by a tester, such an alert went on climbing to
        the grid head and the duty leader for a home nobody watched any more, and never cleared."""
        self.household(household_id)
        with writing(self._engine) as db:
            refuse_open_alerts(db, household_id, "retire")
            db.execute(update(households)
                       .where(households.c.id == household_id, households.c.retired_at.is_(None))
                       .values(retired_at=now))
            db.execute(update(hubs)
                       .where(hubs.c.household_id == household_id, hubs.c.retired_at.is_(None))
                       .values(retired_at=now))
        return self.household(household_id)

    def hub(self, hub_id: str) -> Hub:
        with self._engine.connect() as db:
            r = db.execute(select(hubs).where(hubs.c.id == hub_id)).first()
        if r is None:
            raise NotFound("hub", hub_id)
        return Hub(id=r.id, household_id=r.household_id, report_interval_s=r.report_interval_s)

    def update_hub(self, hub_id: str, *, report_interval_s: float) -> Hub:
        self.hub(hub_id)
        with writing(self._engine) as db:
            db.execute(update(hubs).where(hubs.c.id == hub_id)
                       .values(report_interval_s=report_interval_s))
        return self.hub(hub_id)

    def retire_hub(self, hub_id: str, *, now: float) -> Hub:
        """A hub taken out of service: its readings are refused from now on; history stays."""
        hub = self.hub(hub_id)
        with writing(self._engine) as db:
            db.execute(update(hubs).where(hubs.c.id == hub_id, hubs.c.retired_at.is_(None))
                       .values(retired_at=now))
        return hub



def refuse_open_alerts(db: Any, household_id: str, verb: str) -> None:
    """Conflict if an alert of the household is unresolved: it would go on climbing for a home
    nobody watches any more, and never clear."""
    open_alerts = _unresolved(db, alerts.c.household_id == household_id)
    if open_alerts:
        raise Conflict(f"household {household_id} has {_named_alerts(open_alerts)} not yet "
                       f"resolved: resolve {_them(open_alerts)} first (what happened belongs in "
                       f"its record), then {verb} it")


def _unresolved(db: Any, where: Any) -> list[tuple[int, str]]:
    """The ids and kinds of the unresolved alerts `where` selects."""
    query = (select(alerts.c.id, alerts.c.kind)
             .where(where, alerts.c.state != AlertState.RESOLVED.value).order_by(alerts.c.id))
    return [(int(i), str(k)) for i, k in db.execute(query)]


def _them(found: list[tuple[int, str]]) -> str:
    return "them" if len(found) > 1 else "it"


def _named_alerts(found: list[tuple[int, str]]) -> str:
    shown = ", ".join(f"#{i} ({kind})" for i, kind in found[:10])
    return f"alert{'s' if len(found) > 1 else ''} {shown}{' …' if len(found) > 10 else ''}"


def replace_links(db: Any, table: Any, column: Any, target: Any, what: str, staff_id: int,
                   wanted: set[str]) -> None:
    known = set(db.execute(select(target).where(target.in_(sorted(wanted)))).scalars())
    missing = sorted(wanted - known)
    if missing:
        raise InvalidInput(f"{what} {', '.join(missing)} does not exist")
    db.execute(table.delete().where(table.c.staff_id == staff_id))
    for key in sorted(wanted):
        db.execute(insert(table).values({"staff_id": staff_id, column.name: key}))
