"""Building the FastAPI application from an ApiContext."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

import shouwang
from api import errors
from api.context import ApiContext
from api.limits import BodyLimit
from api.media import RequireMediaType
from api.metrics import StateCollector
from api.routes import (
    ack_link,
    alerts,
    audit,
    auth,
    care,
    cockpit,
    cover,
    devices,
    docs,
    family,
    family_link,
    grids,
    health,
    household_data,
    households,
    hubs,
    live,
    maintenance,
    privacy,
    responses,
    staff,
    transfer,
    visits,
    web,
)

DESCRIPTION = """Watching over elders who live alone: alerts, households and their signs of life.

Sign in with `POST /auth/login` and send the token as `Authorization: Bearer <token>`.
Every endpoint that takes an id answers 404 for things outside what you look after: a grid
worker sees their grid, a red-tier caseworker the households they claimed, a volunteer the
households they visit (and no readings or alerts); duty leaders and admins see all.
Errors are JSON: `{"error": {"code": ..., "message": ...}}`; the message says what to do.
A body that is not valid JSON answers 400 (`bad_request`); JSON that parses but does not fit
answers 422 (`invalid_request` with a list of `problems`, or `invalid` for a value that cannot
be used); unknown paths and methods answer 404 and 405 in the same shape; a body without
`Content-Type: application/json` (`text/csv` for imports) answers 415. A body over the size limit
answers 413 (`payload_too_large`); failed sign-ins make the next try from that address wait
(429 with `Retry-After`). `/metrics` takes its own token (`SHOUWANG_API__METRICS_TOKEN`).
"""

CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# Swagger UI sets style attributes on its elements; only the docs page allows them. Its
# scripts stay 'self'.
DOCS_CSP = CSP.replace(b"style-src 'self'", b"style-src 'self' 'unsafe-inline'")
BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
HEADERS = [*BASE_HEADERS, (b"content-security-policy", CSP)]
DOCS_HEADERS = [*BASE_HEADERS, (b"content-security-policy", DOCS_CSP)]
# Answers name elders, staff and alerts: no browser or proxy cache keeps them. Only the page's
# own files (the same for everyone) may be cached.
NO_STORE = (b"cache-control", b"no-store")
CACHEABLE = ("/static/", docs.ASSETS + "/")


class SecurityHeaders:
    """Plain ASGI middleware, so streaming responses (the live feed) pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = scope["path"]
        extra = DOCS_HEADERS if path == "/docs" else HEADERS
        if not path.startswith(CACHEABLE):
            extra = [*extra, NO_STORE]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(title="Shouwang (守望)", version=shouwang.__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    app.state.context = context
    errors.install(app)
    for module in (health, auth, alerts, households, household_data, devices, care, privacy, hubs, grids,
                   staff, transfer, audit, visits, responses, cockpit, cover, maintenance, family, ack_link,
                   family_link, live, web, docs):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("api") / "web")),
              name="static")
    app.mount(docs.ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    api = context.settings.api
    # Added first, so it runs inside SecurityHeaders and its 413 carries those headers too.
    app.add_middleware(RequireMediaType)
    app.add_middleware(BodyLimit, max_bytes=api.max_body_bytes,
                       larger={"/imports/": api.max_import_bytes})
    app.add_middleware(SecurityHeaders)
    context.metrics.registry.register(StateCollector(context.state))
    return app
