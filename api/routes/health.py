"""Health: is the system up, and is anything piling up."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Context, Now
from api.schemas import Health, when

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness and a few vital counts")
def health(context: Context, now: Now) -> Health:
    state = context.state
    return Health(
        status="ok",
        time=when(now),  # type: ignore[arg-type]
        open_alerts=sum(state.alerts.count_unresolved_by_tier().values()),
        dead_letters=state.dead_letters.count(),
        failed_deliveries=state.alerts.count_failed_deliveries(),
    )
