"""A household's emergency contacts (family who agreed to be called) and what they are owed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from shouwang.domain.cover import FamilyContact
from shouwang.domain.delivery import DeliveryEvent, DeliveryStatus
from shouwang.domain.errors import Conflict, InvalidInput, NotFound
from shouwang.domain.webhooks import check_family_channel
from shouwang.storage import audit as trail
from shouwang.storage.alerts import DISPATCH
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.schema import family_contacts, family_deliveries


@dataclass(frozen=True, slots=True)
class FamilyDelivery:
    id: int
    alert_id: int
    contact_id: int
    event: DeliveryEvent
    status: DeliveryStatus
    attempts: int
    created_at: float
    next_attempt_at: float
    last_error: str | None = None


def _contact(r: Any) -> FamilyContact:
    return FamilyContact(r.id, r.household_id, r.name, r.relation, r.channel, r.address, r.consent_by,
                         r.consent_at, r.step, r.active)


def _delivery(r: Any) -> FamilyDelivery:
    return FamilyDelivery(r.id, r.alert_id, r.contact_id, DeliveryEvent(r.event), DeliveryStatus(r.status),
                          r.attempts, r.created_at, r.next_attempt_at, r.last_error)


class FamilyStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, contact: FamilyContact, *, actor: Actor, now: float) -> FamilyContact:
        """Record a contact with their consent; without consent nobody is put on a ladder."""
        if not contact.consent_by.strip():
            raise InvalidInput("a family contact stands on the ladder only with their consent: "
                               "say who gave it with --consent-by")
        if contact.step is not None and contact.step < 0:
            raise InvalidInput("--step is a ladder step: 0 (first), 1, 2, …")
        channel, address = check_family_channel(contact.channel, contact.address)
        contact = replace(contact, channel=channel.value, address=address)
        with writing(self._engine) as db:
            same = db.execute(select(family_contacts.c.id, family_contacts.c.name).where(
                family_contacts.c.household_id == contact.household_id, family_contacts.c.active.is_(True),
                family_contacts.c.channel == contact.channel, family_contacts.c.address == contact.address)).first()
            if same is not None:  # found by a tester: the same contact twice, texted twice each time
                raise Conflict(f"{contact.household_id} already has family contact {same.id} ({same.name}) "
                               f"on {contact.channel} {contact.address}")
            contact_id = db.execute(insert(family_contacts).values(
                household_id=contact.household_id, name=contact.name, relation=contact.relation,
                channel=contact.channel, address=contact.address, step=contact.step,
                consent_by=contact.consent_by, consent_at=contact.consent_at, recorded_by=actor.staff_id,
                created_at=now, active=True)).inserted_primary_key[0]  # type: ignore[index]
            trail.record(db, at=now, actor=actor, action="family_contact_added", entity="household",
                         entity_id=contact.household_id,
                         details={"contact_id": contact_id, "name": contact.name, "relation": contact.relation,
                                  "channel": contact.channel, "step": contact.step,
                                  "consent_by": contact.consent_by, "consent_at": contact.consent_at})
        return self.get(int(contact_id))

    def get(self, contact_id: int) -> FamilyContact:
        with self._engine.connect() as db:
            row = db.execute(select(family_contacts).where(family_contacts.c.id == contact_id)).first()
        if row is None:
            raise NotFound("family contact", contact_id)
        return _contact(row)

    def of(self, household_id: str) -> list[FamilyContact]:
        query = (select(family_contacts)
                 .where(family_contacts.c.household_id == household_id, family_contacts.c.active.is_(True))
                 .order_by(family_contacts.c.id))
        with self._engine.connect() as db:
            return [_contact(r) for r in db.execute(query)]

    def remove(self, contact_id: int, *, actor: Actor, now: float) -> FamilyContact:
        contact = self.get(contact_id)
        with writing(self._engine) as db:
            db.execute(update(family_contacts).where(family_contacts.c.id == contact_id).values(active=False))
            trail.record(db, at=now, actor=actor, action="family_contact_removed", entity="household",
                         entity_id=contact.household_id, details={"contact_id": contact_id})
        return contact

    # deliveries -------------------------------------------------------------
    def queue(self, db: Connection, alert_id: int, contacts: Sequence[FamilyContact], now: float) -> None:
        """Inside the routing transaction: each contact is owed one message for this alert (a
        step reached again by falling through does not call them twice)."""
        called = {r[0] for r in db.execute(select(family_deliveries.c.contact_id)
                                           .where(family_deliveries.c.alert_id == alert_id))}
        for contact in contacts:
            if contact.id in called:
                continue
            db.execute(insert(family_deliveries).values(
                alert_id=alert_id, contact_id=contact.id, event=DeliveryEvent.OPENED.value,
                status=DeliveryStatus.PENDING.value, attempts=0, created_at=now, next_attempt_at=now))
            trail.record(db, at=now, actor=DISPATCH, action="family_called", entity="alert",
                         entity_id=alert_id, details={"contact_id": contact.id, "name": contact.name,
                                                      "relation": contact.relation})

    def due(self, now: float, *, limit: int = 50) -> list[FamilyDelivery]:
        query = (select(family_deliveries)
                 .where(family_deliveries.c.status == DeliveryStatus.PENDING.value,
                        family_deliveries.c.next_attempt_at <= now)
                 .order_by(family_deliveries.c.next_attempt_at, family_deliveries.c.id).limit(limit))
        with self._engine.connect() as db:
            return [_delivery(r) for r in db.execute(query)]

    def retrying(self, *, limit: int = 500) -> list[FamilyDelivery]:
        """Messages to relatives whose attempts have failed so far and that are still tried."""
        query = (select(family_deliveries)
                 .where(family_deliveries.c.status == DeliveryStatus.PENDING.value,
                        family_deliveries.c.attempts > 0)
                 .order_by(family_deliveries.c.created_at, family_deliveries.c.id).limit(limit))
        with self._engine.connect() as db:
            return [_delivery(r) for r in db.execute(query)]

    def deliveries(self, alert_id: int) -> list[FamilyDelivery]:
        query = select(family_deliveries).where(family_deliveries.c.alert_id == alert_id)
        with self._engine.connect() as db:
            return [_delivery(r) for r in db.execute(query.order_by(family_deliveries.c.id))]

    def mark(self, delivery: FamilyDelivery, *, error: str | None, retry_at: float | None, now: float) -> None:
        """Record an attempt: delivered (no error), to retry at `retry_at`, or given up."""
        status = (DeliveryStatus.DELIVERED if error is None
                  else DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED)
        with writing(self._engine) as db:
            db.execute(update(family_deliveries).where(family_deliveries.c.id == delivery.id).values(
                status=status.value, attempts=delivery.attempts + 1, last_error=error and error[:1000],
                next_attempt_at=retry_at if retry_at is not None else now))
            if status is not DeliveryStatus.PENDING:
                trail.record(db, at=now, actor=DISPATCH,
                             action="family_delivered" if error is None else "family_delivery_failed",
                             entity="alert", entity_id=delivery.alert_id,
                             details={"contact_id": delivery.contact_id, "error": error and error[:300]})
