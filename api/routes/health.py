"""Health and metrics: is the system up, and is anything piling up."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Context, Now
from api.schemas.common import at
from api.schemas.system import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness and a few vital counts")
def health(context: Context, now: Now) -> Health:
    state = context.state
    return Health(
        status="ok",
        time=at(now),
        open_alerts=sum(state.alerts.count_unresolved_by_tier().values()),
        dead_letters=state.dead_letters.count(),
        failed_deliveries=state.alerts.count_failed_deliveries(),
    )


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {"example":
                       'shouwang_alerts_unresolved{colour="red"} 1.0\n'}},
                       "description": "Prometheus text format: ingest counters "
                       "(shouwang_readings_accepted_total; rate() gives the ingest rate), "
                       "shouwang_dead_letters, shouwang_alerts_unresolved by colour, "
                       "shouwang_deliveries_failed, delivery attempts by result"}})
def metrics(context: Context) -> Response:
    return Response(generate_latest(context.metrics.registry), media_type=CONTENT_TYPE_LATEST)
