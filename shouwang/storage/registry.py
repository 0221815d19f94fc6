"""Grids, staff, households and hubs in the state store."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, and_, false, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from shouwang.domain.channels import StaffChannel, check_phone, legacy_fields, with_legacy
from shouwang.domain.errors import Conflict, InvalidInput, NotFound
from shouwang.domain.model import (
    USERNAME,
    Grid,
    Household,
    Hub,
    HubPresence,
    Role,
    Staff,
    Tier,
    check_hub_id,
    check_id,
    still_watched,
)
from shouwang.storage.database import writing
from shouwang.storage.registry_changes import RegistryChanges, replace_links
from shouwang.storage.schema import (
    api_tokens,
    grids,
    households,
    hubs,
    staff,
    staff_grids,
    staff_households,
)

TOKEN_PREFIX = "sw_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _household(row: Any) -> Household:
    return Household(
        id=row.id,
        tier=Tier(row.tier),
        grid_id=row.grid_id,
        caseworker_id=row.caseworker_id,
        alias=row.alias,
        address=row.address,
        building=row.building,
        away_until=row.away_until,
        monitoring_since=row.monitoring_since,
        retired_at=row.retired_at,
    )


def visible_households(viewer: Staff) -> ColumnElement[bool]:
    """The SQL twin of `access.can_see`, so lists are filtered in the database."""
    if not viewer.active:
        return false()
    if viewer.covering:
        return or_(_own_households(viewer), *(_own_households(other) for other in viewer.covering))
    return _own_households(viewer)


def _own_households(viewer: Staff) -> ColumnElement[bool]:
    if not viewer.active:
        return false()
    if viewer.role.sees_everything:
        return households.c.id.is_not(None)
    if viewer.role is Role.CASEWORKER:
        return households.c.caseworker_id == viewer.id
    if viewer.role is Role.VOLUNTEER:
        return households.c.id.in_(sorted(viewer.household_ids))
    return households.c.grid_id.in_(sorted(viewer.grid_ids))


class Registry(RegistryChanges):
    """Who and what Shouwang watches over, and who looks after them."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # grids -----------------------------------------------------------------
    def add_grid(self, grid: Grid) -> Grid:
        if not grid.name.strip():
            raise InvalidInput(f"grid {grid.id}: give it a name (the page and the messages say it)")
        with writing(self._engine) as db:
            exists = db.execute(select(grids.c.id).where(grids.c.id == grid.id)).first()
            if not exists:
                check_id("grid id", grid.id)
            if exists:
                db.execute(update(grids).where(grids.c.id == grid.id).values(name=grid.name))
            else:
                db.execute(insert(grids).values(id=grid.id, name=grid.name))
        return grid

    def grids(self, *, include_retired: bool = False) -> list[Grid]:
        query = select(grids).order_by(grids.c.id)
        if not include_retired:
            query = query.where(grids.c.retired_at.is_(None))
        with self._engine.connect() as db:
            rows = db.execute(query).all()
        return [Grid(id=r.id, name=r.name) for r in rows]

    # staff -----------------------------------------------------------------
    def add_staff(
        self,
        *,
        username: str,
        name: str,
        role: Role,
        grid_ids: Iterable[str] = (),
        phone: str | None = None,
        webhook_url: str | None = None,
        notify_mqtt: bool = True,
        channels: Sequence[StaffChannel] | None = None,
        now: float,
    ) -> Staff:
        """Add a staff member; `channels`, when given, is their list (and sets the two old fields)."""
        check_id("username", username, USERNAME)
        grid_ids = frozenset(grid_ids)
        phone = check_phone(phone)
        listed = None
        if channels is not None:
            listed = [c.as_json() for c in channels]
            kept = legacy_fields(channels)
            webhook_url, notify_mqtt = kept["webhook_url"], kept["notify_mqtt"]
        with writing(self._engine) as db:
            known = set(db.execute(select(grids.c.id)).scalars())
            missing = sorted(grid_ids - known)
            if missing:
                raise InvalidInput(
                    f"grid {', '.join(missing)} does not exist; add it with `shouwang grids add`"
                )
            try:
                staff_id = db.execute(
                    insert(staff).values(
                        username=username,
                        name=name,
                        role=role.value,
                        phone=phone,
                        webhook_url=webhook_url,
                        notify_mqtt=notify_mqtt,
                        channels=listed,
                        active=True,
                        created_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            except IntegrityError:
                raise Conflict(f"staff username {username!r} is taken") from None
            for grid_id in grid_ids:
                db.execute(insert(staff_grids).values(staff_id=staff_id, grid_id=grid_id))
        return self.staff(int(staff_id))

    def _staff_rows(self, where: ColumnElement[bool] | None = None) -> list[Staff]:
        query = select(staff).order_by(staff.c.id)
        if where is not None:
            query = query.where(where)
        with self._engine.connect() as db:
            rows = db.execute(query).all()
            memberships: dict[int, set[str]] = {}
            ids = [r.id for r in rows]
            for sid, gid in db.execute(
                select(staff_grids.c.staff_id, staff_grids.c.grid_id).where(
                    staff_grids.c.staff_id.in_(ids)
                )
            ):
                memberships.setdefault(sid, set()).add(gid)
            visiting: dict[int, set[str]] = {}
            for sid, hid in db.execute(
                select(staff_households.c.staff_id, staff_households.c.household_id).where(
                    staff_households.c.staff_id.in_(ids)
                )
            ):
                visiting.setdefault(sid, set()).add(hid)
        return [
            Staff(
                id=r.id,
                username=r.username,
                name=r.name,
                role=Role(r.role),
                grid_ids=frozenset(memberships.get(r.id, ())),
                phone=r.phone,
                webhook_url=r.webhook_url,
                notify_mqtt=bool(r.notify_mqtt),
                active=bool(r.active),
                household_ids=frozenset(visiting.get(r.id, ())),
                channels=None if r.channels is None else tuple(
                    StaffChannel.from_json(c) for c in r.channels),
            )
            for r in rows
        ]

    def update_staff(self, staff_id: int, *, grid_ids: Iterable[str] | None = None,
                     household_ids: Iterable[str] | None = None, **changes: Any) -> Staff:
        """Change a staff member's details; `grid_ids`, when given, replaces their grids, and
        `household_ids` the households a volunteer visits."""
        allowed = {"name", "phone", "webhook_url", "notify_mqtt", "active", "role", "channels"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} of a staff member")
        if isinstance(changes.get("role"), Role):
            changes["role"] = changes["role"].value
        if "phone" in changes:
            changes["phone"] = check_phone(changes["phone"])
        current = self.staff(staff_id)
        _channel_changes(current, changes)
        with writing(self._engine) as db:
            if changes:
                db.execute(update(staff).where(staff.c.id == staff_id).values(**changes))
            if grid_ids is not None:
                grid_ids = frozenset(grid_ids)
                missing = sorted(grid_ids - set(db.execute(select(grids.c.id)).scalars()))
                if missing:
                    raise InvalidInput(f"grid {', '.join(missing)} does not exist; add it with `shouwang grids add`")
                db.execute(staff_grids.delete().where(staff_grids.c.staff_id == staff_id))
                for grid_id in sorted(grid_ids):
                    db.execute(insert(staff_grids).values(staff_id=staff_id, grid_id=grid_id))
            if household_ids is not None:
                replace_links(db, staff_households, staff_households.c.household_id,
                              households.c.id, "household", staff_id, set(household_ids))
        return self.staff(staff_id)

    def staff(self, staff_id: int) -> Staff:
        """One staff member, retired or not."""
        found = self._staff_rows(staff.c.id == staff_id)
        if not found:
            raise NotFound("staff member", staff_id)
        return found[0]

    def staff_by_username(self, username: str) -> Staff:
        found = self._staff_rows(staff.c.username == username)
        if not found:
            raise NotFound("staff member", username)
        return found[0]

    def is_empty(self) -> bool:
        """No household and no staff member, retired ones included: a store nobody set up."""
        with self._engine.connect() as db:
            return (db.execute(select(households.c.id).limit(1)).first() is None
                    and db.execute(select(staff.c.id).limit(1)).first() is None)

    def roster(self) -> list[Staff]:
        """Every active staff member, for routing alerts."""
        return self._staff_rows(staff.c.active.is_(True))

    def issue_token(
        self, staff_id: int, *, name: str, now: float, ttl_s: float | None = None,
        kind: str = "api",
    ) -> str:
        """A new bearer token; only its hash is kept, so show it to the user once."""
        self.staff(staff_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with writing(self._engine) as db:
            db.execute(
                insert(api_tokens).values(
                    staff_id=staff_id,
                    token_hash=hash_token(token),
                    name=name,
                    created_at=now,
                    expires_at=None if ttl_s is None else now + ttl_s,
                    kind=kind,
                )
            )
        return token

    def staff_for_token(self, token: str, *, now: float) -> Staff | None:
        with self._engine.connect() as db:
            row = db.execute(
                select(api_tokens.c.staff_id).where(
                    api_tokens.c.token_hash == hash_token(token),
                    api_tokens.c.revoked_at.is_(None),
                    or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
                )
            ).first()
        if row is None:
            return None
        member = self.staff(row.staff_id)
        return member if member.active else None

    # households -----------------------------------------------------------
    def add_household(self, household: Household, *, now: float) -> Household:
        check_id("household id", household.id)
        with writing(self._engine) as db:
            self._check_household_refs(db, household)
            try:
                db.execute(
                    insert(households).values(
                        id=household.id,
                        alias=household.alias,
                        address=household.address,
                        building=household.building,
                        tier=int(household.tier),
                        grid_id=household.grid_id,
                        caseworker_id=household.caseworker_id,
                        away_until=household.away_until,
                        monitoring_since=household.monitoring_since or now,
                        created_at=now,
                    )
                )
            except IntegrityError:
                raise Conflict(f"household {household.id} is already registered") from None
        return self.household(household.id)

    def update_household(self, household_id: str, **changes: Any) -> Household:
        allowed = {"alias", "address", "building", "tier", "grid_id", "caseworker_id", "away_until",
                   "monitoring_since"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} of a household")
        if "tier" in changes:
            changes["tier"] = int(changes["tier"])
        current = self.household(household_id)
        with writing(self._engine) as db:
            self._check_household_refs(db, _merge(current, changes))
            db.execute(update(households).where(households.c.id == household_id).values(**changes))
        return self.household(household_id)

    @staticmethod
    def _check_household_refs(db: Any, household: Household) -> None:
        if db.execute(select(grids.c.id).where(grids.c.id == household.grid_id)).first() is None:
            raise InvalidInput(
                f"grid {household.grid_id} does not exist; add it with `shouwang grids add`"
            )
        if household.caseworker_id is not None:
            row = db.execute(
                select(staff.c.role).where(staff.c.id == household.caseworker_id)
            ).first()
            if row is None or row.role != Role.CASEWORKER.value:
                raise InvalidInput(
                    f"staff {household.caseworker_id} is not a red-tier caseworker"
                )

    def household(self, household_id: str) -> Household:
        with self._engine.connect() as db:
            row = db.execute(select(households).where(households.c.id == household_id)).first()
        if row is None:
            raise NotFound("household", household_id)
        return _household(row)

    def households(
        self, *, viewer: Staff | None = None, include_retired: bool = False
    ) -> list[Household]:
        query = select(households).order_by(households.c.id)
        if viewer is not None:
            query = query.where(visible_households(viewer))
        if not include_retired:
            query = query.where(households.c.retired_at.is_(None))
        with self._engine.connect() as db:
            return [_household(r) for r in db.execute(query)]

    # hubs -------------------------------------------------------------------
    def add_hub(self, hub: Hub, *, now: float) -> Hub:
        check_hub_id(hub.id)
        # Found by a tester: `hubs add --report-interval 99999999` was kept, and the hub (three
        # intervals before it is missed) was never called offline, its home never judged blind.
        if not 10 <= hub.report_interval_s <= 3600:
            raise InvalidInput(f"a hub's report interval is 10-3600 seconds, not {hub.report_interval_s:g}")
        still_watched(self.household(hub.household_id))
        with writing(self._engine) as db:
            try:
                db.execute(
                    insert(hubs).values(
                        id=hub.id,
                        household_id=hub.household_id,
                        report_interval_s=hub.report_interval_s,
                        created_at=now,
                    )
                )
            except IntegrityError:
                raise Conflict(self._hub_taken(hub)) from None
        return hub

    def _hub_taken(self, hub: Hub) -> str:
        """Why `hub` cannot be added, and what to do (found by a tester: "already registered"
        even for a retired hub, saying neither that nor how to fit it in another home)."""
        with self._engine.connect() as db:
            row = db.execute(select(hubs.c.household_id, hubs.c.retired_at).where(hubs.c.id == hub.id)).first()
        if row is None:
            return f"hub {hub.id} is already registered"
        if row.retired_at is not None:
            return (f"hub {hub.id} was retired with household {row.household_id} (its readings are kept "
                    "under that id); a hub fitted in another home is registered under a new id")
        if row.household_id == hub.household_id:
            return f"hub {hub.id} is already registered to household {hub.household_id}"
        return (f"hub {hub.id} belongs to household {row.household_id}; to move it, retire it there "
                f"(POST /hubs/{hub.id}/retire) and register it here under a new id")

    def hubs(
        self, household_ids: Sequence[str] | None = None, *, include_retired: bool = False
    ) -> list[Hub]:
        query = select(hubs).order_by(hubs.c.id)
        if not include_retired:
            query = query.where(hubs.c.retired_at.is_(None))
        if household_ids is not None:
            query = query.where(hubs.c.household_id.in_(household_ids))
        with self._engine.connect() as db:
            return [
                Hub(id=r.id, household_id=r.household_id, report_interval_s=r.report_interval_s)
                for r in db.execute(query)
            ]

    def record_presence(self, presence: HubPresence) -> bool:
        """Store what a hub said of itself; False if the hub is unknown."""
        with writing(self._engine) as db:
            result = db.execute(
                update(hubs)
                .where(hubs.c.id == presence.hub_id)
                .values(presence=presence.state, presence_at=presence.ts, battery=presence.battery)
            )
        return bool(result.rowcount)

    def presence(self) -> dict[str, HubPresence]:
        with self._engine.connect() as db:
            rows = db.execute(
                select(hubs.c.id, hubs.c.presence, hubs.c.presence_at, hubs.c.battery).where(
                    and_(hubs.c.presence.is_not(None))
                )
            ).all()
        return {r.id: HubPresence(r.id, r.presence, r.presence_at, r.battery) for r in rows}


def _merge(current: Household, changes: dict[str, Any]) -> Household:
    values = dict(changes)
    if "tier" in values:
        values["tier"] = Tier(values["tier"])
    return dataclasses.replace(current, **values)


def _channel_changes(current: Staff, changes: dict[str, Any]) -> None:
    """A new list sets the old fields to match; a changed old field changes a list already set."""
    if changes.get("channels") is not None:
        listed: tuple[StaffChannel, ...] = tuple(changes["channels"])
        changes.update(legacy_fields(listed))
        changes["channels"] = [c.as_json() for c in listed]
    elif "channels" in changes:
        del changes["channels"]
    elif current.channels is not None and ("webhook_url" in changes or "notify_mqtt" in changes):
        updated = with_legacy(current.channels, webhook_url=changes.get("webhook_url", False),
                              notify_mqtt=changes.get("notify_mqtt"))
        changes["channels"] = [c.as_json() for c in updated]

