"""Hubs' device maps and what their bridges said of each device, in the state store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shouwang.domain.devices import MAX_DEVICE_NAME, DeviceMap, DeviceSighting, MappedDevice
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import SensorKind
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import device_sightings, hub_devices, hubs

MOST_SIGHTINGS_PER_HUB = 200
"""Devices remembered per hub: a home has a handful, so bridges inventing names cannot grow the table."""


def _entry(row: Any) -> DeviceMap:
    actions = frozenset(a for a in (row.fine_actions or "").split(",") if a)
    return DeviceMap(row.device, SensorKind(row.kind), row.sensor, actions, row.bridge)


def _sighting(row: Any) -> DeviceSighting:
    return DeviceSighting(row.hub_id, row.bridge, row.device, row.first_seen_at, row.last_seen_at,
                          int(row.messages), row.battery, row.online, row.online_at)


class DeviceStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # the map ------------------------------------------------------------------
    def map(self, hub_id: str | None = None) -> list[MappedDevice]:
        """The map of one hub (or of every hub), by hub and device name."""
        query = select(hub_devices).order_by(hub_devices.c.hub_id, hub_devices.c.device)
        if hub_id is not None:
            query = query.where(hub_devices.c.hub_id == hub_id)
        with self._engine.connect() as db:
            return [MappedDevice(r.hub_id, _entry(r), r.created_at, r.created_by) for r in db.execute(query)]

    def maps(self) -> dict[str, list[DeviceMap]]:
        """Every hub's map, for the gateway and the detector."""
        found: dict[str, list[DeviceMap]] = {}
        for mapped in self.map():
            found.setdefault(mapped.hub_id, []).append(mapped.entry)
        return found

    def add(self, hub_id: str, entry: DeviceMap, *, actor: Actor, now: float) -> MappedDevice:
        """Map a device (again: the new entry replaces the old), with an audit entry."""
        with writing(self._engine) as db:
            if db.execute(select(hubs.c.id).where(hubs.c.id == hub_id)).first() is None:
                raise InvalidInput(f"hub {hub_id[:80]} is not registered; register it with "
                                   f"`shouwang hubs add {hub_id[:80]} --household HOUSEHOLD_ID`")
            taken = db.execute(select(hub_devices.c.device).where(
                hub_devices.c.hub_id == hub_id, hub_devices.c.sensor == entry.sensor,
                hub_devices.c.device != entry.device)).first()
            if taken is not None:
                raise InvalidInput(f"sensor {entry.sensor} of hub {hub_id} is already device {taken.device!r}; "
                                   f"give this one its own name, e.g. {entry.kind.value}.kitchen")
            before = self._remove(db, hub_id, entry.device)
            db.execute(insert(hub_devices).values(
                hub_id=hub_id, device=entry.device, bridge=entry.bridge, kind=entry.kind.value,
                sensor=entry.sensor, fine_actions=",".join(sorted(entry.fine_actions)) or None,
                created_at=now, created_by=actor.name[:64]))
            details: dict[str, Any] = {"hub_id": hub_id, "device": entry.device, "kind": entry.kind.value,
                                       "sensor": entry.sensor, "bridge": entry.bridge,
                                       "fine_actions": sorted(entry.fine_actions)}
            if before is not None:
                details["was"] = before.sensor
            trail.record(db, at=now, actor=actor, action="device_mapped", entity="hub", entity_id=hub_id,
                         details=details)
        return MappedDevice(hub_id, entry, now, actor.name[:64])

    def remove(self, hub_id: str, device: str, *, actor: Actor, now: float) -> DeviceMap:
        with writing(self._engine) as db:
            before = self._remove(db, hub_id, device)
            if before is None:
                raise NotFound("device", f"{device[:80]} of hub {hub_id[:80]}")
            trail.record(db, at=now, actor=actor, action="device_unmapped", entity="hub", entity_id=hub_id,
                         details={"hub_id": hub_id, "device": device, "sensor": before.sensor})
        return before

    @staticmethod
    def _remove(db: Connection, hub_id: str, device: str) -> DeviceMap | None:
        where = and_(hub_devices.c.hub_id == hub_id, hub_devices.c.device == device)
        row = db.execute(select(hub_devices).where(where)).first()
        if row is None:
            return None
        db.execute(delete(hub_devices).where(where))
        return _entry(row)

    # what the bridges said --------------------------------------------------------
    def sightings(self, hub_ids: Sequence[str] | None = None) -> list[DeviceSighting]:
        query = select(device_sightings).order_by(device_sightings.c.hub_id, device_sightings.c.device)
        if hub_ids is not None:
            query = query.where(device_sightings.c.hub_id.in_(hub_ids))
        with self._engine.connect() as db:
            return [_sighting(r) for r in db.execute(query)]

    def heard(self, sightings: Iterable[DeviceSighting]) -> None:
        """Add what a batch heard: `messages` more, first and last heard, the newest battery."""
        rows = [{"hub_id": s.hub_id, "bridge": s.bridge, "device": s.device[:MAX_DEVICE_NAME],
                 "first_seen_at": s.first_seen_at, "last_seen_at": s.last_seen_at, "messages": s.messages,
                 "battery": s.battery} for s in sightings]
        if not rows:
            return
        with writing(self._engine) as db:
            known = self._known(db, {str(r["hub_id"]) for r in rows})
            fresh = [r for r in rows if (r["hub_id"], r["bridge"], r["device"]) not in known]
            room = self._room(db, fresh)
            stmt = self._upsert()(device_sightings)
            c, new = device_sightings.c, stmt.excluded
            stmt = stmt.on_conflict_do_update(
                index_elements=[c.hub_id, c.bridge, c.device],
                set_={"last_seen_at": new.last_seen_at, "messages": c.messages + new.messages,
                      "battery": func.coalesce(new.battery, c.battery)})
            kept = [r for r in rows if (r["hub_id"], r["bridge"], r["device"]) in known or id(r) in room]
            if kept:
                db.execute(stmt, kept)

    def record_presence(self, hub_id: str, bridge: str, device: str, *, online: bool, at: float) -> None:
        """What a bridge said of a device's (or its own) availability; a device not yet heard is added."""
        self.heard([DeviceSighting(hub_id, bridge, device, at, at, 0)])
        with writing(self._engine) as db:
            db.execute(update(device_sightings).where(
                device_sightings.c.hub_id == hub_id, device_sightings.c.bridge == bridge,
                device_sightings.c.device == device[:MAX_DEVICE_NAME]).values(online=online, online_at=at))

    def _upsert(self) -> Any:
        return postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert

    @staticmethod
    def _known(db: Connection, hub_ids: set[str]) -> set[tuple[str, str, str]]:
        c = device_sightings.c
        return {(r.hub_id, r.bridge, r.device) for r in db.execute(
            select(c.hub_id, c.bridge, c.device).where(c.hub_id.in_(sorted(hub_ids))))}

    @staticmethod
    def _room(db: Connection, fresh: list[dict[str, Any]]) -> set[int]:
        """The new rows that fit within each hub's `MOST_SIGHTINGS_PER_HUB` (by `id()`)."""
        if not fresh:
            return set()
        c = device_sightings.c
        counts: dict[str, int] = {}
        for hub_id in {r["hub_id"] for r in fresh}:
            counts[hub_id] = len(db.execute(select(c.device).where(c.hub_id == hub_id)).all())
        room: set[int] = set()
        for row in fresh:
            if counts[row["hub_id"]] < MOST_SIGHTINGS_PER_HUB:
                counts[row["hub_id"]] += 1
                room.add(id(row))
        return room
