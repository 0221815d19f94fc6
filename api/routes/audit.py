"""The audit trail: who did what, when (admins and duty leaders)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import RegistryManager, StateDep
from api.schemas.common import AUTHED, seconds
from api.schemas.system import AuditOut, AuditPage
from shouwang.storage.audit_query import AuditFilter

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage, responses=AUTHED,
            summary="Search the audit trail, newest first")
def search_audit(
    staff: RegistryManager,
    state: StateDep,
    entity: Annotated[str | None, Query(pattern="^(alert|household|hub|grid|staff|registry)$")]
    = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_staff_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    entries, total = state.audit_query.search(AuditFilter(
        entity=entity, entity_id=entity_id, actor_staff_id=actor_staff_id, action=action,
        start=seconds(start) if start else None, end=seconds(end) if end else None,
        limit=limit, offset=offset))
    return AuditPage(items=[AuditOut.of(e) for e in entries], total=total, limit=limit,
                     offset=offset)
