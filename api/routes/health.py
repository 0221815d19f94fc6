"""Health and metrics: is the system up, and is anything piling up."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Context, Now
from api.errors import Forbidden, NotAuthenticated
from api.schemas.common import ErrorOut, at
from api.schemas.system import Health

_metrics_bearer = HTTPBearer(auto_error=False, scheme_name="metrics token",
                             description="SHOUWANG_API__METRICS_TOKEN, for Prometheus")

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
        retrying_deliveries=state.alerts.count_retrying_deliveries(),
    )


async def require_metrics_token(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_metrics_bearer)],
) -> None:
    """Metrics show what piles up and how busy the community is: only for the scraper."""
    expected = context.settings.api.metrics_token
    if expected is None:
        raise Forbidden("metrics are off; set SHOUWANG_API__METRICS_TOKEN and have Prometheus "
                        "send it as 'Authorization: Bearer <token>'")
    sent = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(sent.encode(), expected.get_secret_value().encode()):
        raise NotAuthenticated("send the metrics token (SHOUWANG_API__METRICS_TOKEN) as "
                               "'Authorization: Bearer <token>'")


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            dependencies=[Depends(require_metrics_token)],
            responses={200: {"content": {"text/plain": {"example":
                       'shouwang_alerts_unresolved{colour="red"} 1.0\n'}},
                       "description": "Prometheus text format: ingest counters "
                       "(shouwang_readings_accepted_total; rate() gives the ingest rate), "
                       "shouwang_dead_letters, shouwang_alerts_unresolved by colour, "
                       "shouwang_deliveries_failed, shouwang_deliveries_retrying, delivery attempts "
                       "by result"},
                       401: {"model": ErrorOut, "description": "no or wrong metrics token"},
                       403: {"model": ErrorOut, "description": "metrics are off (no token set)"}})
def metrics(context: Context) -> Response:
    return Response(generate_latest(context.metrics.registry), media_type=CONTENT_TYPE_LATEST)
