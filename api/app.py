"""Building the FastAPI application from an ApiContext."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import shouwang
from api import errors
from api.context import ApiContext
from api.metrics import StateCollector
from api.routes import (
    alerts,
    audit,
    auth,
    care,
    grids,
    health,
    household_data,
    households,
    hubs,
    live,
    privacy,
    staff,
    transfer,
    web,
)

DESCRIPTION = """Watching over elders who live alone: alerts, households and their signs of life.

Sign in with `POST /auth/login` and send the token as `Authorization: Bearer <token>`.
Every endpoint that takes an id answers 404 for things outside what you look after: a grid
worker sees their grid, a red-tier caseworker the households they claimed, a volunteer the
households they visit (and no readings or alerts); duty leaders and admins see all.
Errors are JSON: `{"error": {"code": ..., "message": ...}}`; the message says what to do.
"""

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
]


class SecurityHeaders:
    """Plain ASGI middleware, so streaming responses (the live feed) pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(title="Shouwang (守望)", version=shouwang.__version__, description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None)
    app.state.context = context
    errors.install(app)
    for module in (health, auth, alerts, households, household_data, care, privacy, hubs, grids,
                   staff, transfer, audit, live, web):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("api") / "web")),
              name="static")
    app.add_middleware(SecurityHeaders)
    context.metrics.registry.register(StateCollector(context.state))
    return app
