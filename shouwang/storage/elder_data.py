"""An elder's own data: everything kept about one household, and removing who they are.

Anonymising keeps the anonymous history (readings, alerts, visits, their times and outcomes) so
the community's figures stay true, and removes what names or describes the person.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select, update

from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.registry_changes import refuse_open_alerts
from shouwang.storage.schema import (
    alert_comments,
    alerts,
    audit,
    care_notices,
    consents,
    households,
    hubs,
    silences,
    tier_suggestions,
    visits,
)

REMOVED = "(removed)"
# Free-text keys in audit details that may describe the person.
_PERSONAL_KEYS = ("note", "text", "reason", "given_by")


def _rows(db: Connection, table: Any, where: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in db.execute(select(table).where(where))]


class ElderData:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def export(self, household_id: str) -> dict[str, Any]:
        """Every stored row about the household (readings come from the reading store)."""
        with self._engine.connect() as db:
            alert_rows = _rows(db, alerts, alerts.c.household_id == household_id)
            alert_ids = [a["id"] for a in alert_rows]
            return {
                "household": _rows(db, households, households.c.id == household_id),
                "hubs": _rows(db, hubs, hubs.c.household_id == household_id),
                "consents": _rows(db, consents, consents.c.household_id == household_id),
                "visits": _rows(db, visits, visits.c.household_id == household_id),
                "silences": _rows(db, silences, silences.c.household_id == household_id),
                "alerts": alert_rows,
                "alert_comments": _rows(db, alert_comments,
                                        alert_comments.c.alert_id.in_(alert_ids)),
                "audit": _rows(db, audit, _about(household_id, alert_ids)),
                "care_notices": _rows(db, care_notices, care_notices.c.household_id == household_id),
                "tier_suggestions": _rows(db, tier_suggestions,
                                          tier_suggestions.c.household_id == household_id),
            }

    def anonymise(self, household_id: str, *, actor: Actor, now: float) -> None:
        """Remove name, address and free text; retire the household; keep anonymous history.
        Refused, as retiring is, while an alert of it is unresolved (found by a tester: it retired
        the household around that refusal)."""
        with writing(self._engine) as db:
            refuse_open_alerts(db, household_id, "anonymise")
            db.execute(update(households).where(households.c.id == household_id).values(
                alias=None, address=None, building=None,
                retired_at=_coalesce(db, household_id, now)))
            db.execute(update(hubs).where(hubs.c.household_id == household_id,
                                          hubs.c.retired_at.is_(None)).values(retired_at=now))
            db.execute(update(consents).where(consents.c.household_id == household_id)
                       .values(given_by=REMOVED, note=None))
            db.execute(update(visits).where(visits.c.household_id == household_id)
                       .values(note=None))
            db.execute(update(silences).where(silences.c.household_id == household_id)
                       .values(reason=None))
            # A reminder's body named and placed the elder; what it was and when stays.
            db.execute(update(care_notices).where(care_notices.c.household_id == household_id)
                       .values(body={}))
            db.execute(update(tier_suggestions).where(tier_suggestions.c.household_id == household_id)
                       .values(reason=None))
            alert_ids = list(db.execute(select(alerts.c.id)
                                        .where(alerts.c.household_id == household_id)).scalars())
            db.execute(update(alerts).where(alerts.c.household_id == household_id)
                       .values(note=None))
            db.execute(update(alert_comments).where(alert_comments.c.alert_id.in_(alert_ids))
                       .values(text=REMOVED))
            for row in db.execute(select(audit.c.id, audit.c.details)
                                  .where(_about(household_id, alert_ids))).all():
                details = dict(row.details or {})
                if any(k in details for k in _PERSONAL_KEYS):
                    scrubbed = {k: (REMOVED if k in _PERSONAL_KEYS else v)
                                for k, v in details.items()}
                    db.execute(update(audit).where(audit.c.id == row.id)
                               .values(details=scrubbed))
            trail.record(db, at=now, actor=actor, action="anonymised", entity="household",
                         entity_id=household_id)


def _about(household_id: str, alert_ids: list[int]) -> Any:
    return ((audit.c.entity == "household") & (audit.c.entity_id == household_id)) | (
        (audit.c.entity == "alert") & audit.c.entity_id.in_([str(i) for i in alert_ids]))


def _coalesce(db: Connection, household_id: str, now: float) -> float:
    retired = db.execute(select(households.c.retired_at)
                         .where(households.c.id == household_id)).scalar_one_or_none()
    return float(retired) if retired is not None else now
