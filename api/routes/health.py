"""Health and metrics: is the system up, and is anything piling up."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Context, Now
from api.errors import Forbidden, NotAuthenticated
from api.schemas.common import ErrorOut, at
from api.schemas.system import Health, RoleProblem
from shouwang.storage.database import StateStoreUnavailable

_metrics_bearer = HTTPBearer(auto_error=False, scheme_name="metrics token",
                             description="SHOUWANG_API__METRICS_TOKEN, for Prometheus")

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness, the roles' problems and a few vital counts",
            responses={503: {"model": Health, "description": "a role in this process reports a problem, "
                                                             "or the state store cannot be read"}})
def health(context: Context, now: Now) -> JSONResponse:
    """Found by a tester: through a full disk, a read-only file system, failing ticks and a help
    press not raised, this said ok, because the roles' own problems were only on their health
    endpoints, which `shouwang run` does not open; and a state-store outage answered 500."""
    problems = [RoleProblem(role=report["role"], problem=p["problem"], message=p["message"],
                            since=at(p["since"]))
                for report in (role.report() for role in context.roles) for p in report["problems"]]
    state = context.state
    counts: dict[str, int | None] = dict.fromkeys(
        ("open_alerts", "dead_letters", "failed_deliveries", "retrying_deliveries"))
    try:
        counts = {"open_alerts": sum(state.alerts.count_unresolved_by_tier().values()),
                  "dead_letters": state.dead_letters.count(),
                  "failed_deliveries": state.alerts.count_failed_deliveries(),
                  "retrying_deliveries": state.alerts.count_retrying_deliveries()}
    except StateStoreUnavailable as exc:
        problems.append(RoleProblem(role="api", problem="state_store_unavailable",
                                    message=f"the state store cannot be read ({exc!s:.200})", since=at(now)))
    body = Health(status="failing" if problems else "ok", time=at(now), problems=problems, **counts)
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if problems else 200)


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
