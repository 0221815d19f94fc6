"""What a notification says: the alert, the home and what to do, as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shouwang.domain.alerts import Alert
from shouwang.domain.delivery import Delivery, DeliveryEvent
from shouwang.domain.model import Household, Staff


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def notification(
    delivery: Delivery, alert: Alert, household: Household, staff: Staff, *, api_url: str | None,
    ack_token: str | None = None,
) -> dict[str, Any]:
    """The JSON every channel sends; with `ack_token`, a one-time link that acknowledges the alert
    as this recipient without signing in (`ack_link`)."""
    body: dict[str, Any] = {
        "event": delivery.event.value,
        "delivery_id": delivery.id,
        "to": {"staff_id": staff.id, "name": staff.name, "role": staff.role.value},
        "alert": {
            "id": alert.id,
            "kind": alert.kind.value,
            "state": alert.state.value,
            "severity": alert.severity.value,
            "opened_at": iso(alert.opened_at),
            "since": iso(alert.since),
            "explanation": alert.explanation,
            "explanation_zh": alert.explanations["zh"],
            "escalation_level": alert.escalation_level,
            "outcome": alert.outcome.value if alert.outcome else None,
            "note": alert.note,
        },
        "household": {
            "id": household.id,
            "alias": household.alias,
            "address": household.address,
            "colour": household.tier.colour,
            "grid_id": household.grid_id,
        },
    }
    if api_url:
        body["acknowledge"] = f"{api_url.rstrip('/')}/alerts/{alert.id}/acknowledge"
        if ack_token and delivery.event in ASKS_FOR_SOMEONE:
            body["ack_link"] = f"{api_url.rstrip('/')}/ack/{ack_token}"
    return body


ASKS_FOR_SOMEONE = frozenset({DeliveryEvent.OPENED, DeliveryEvent.ESCALATED, DeliveryEvent.REMINDER})
"""Events that ask someone to go; the others only tell (acknowledged, resolved, cleared)."""
