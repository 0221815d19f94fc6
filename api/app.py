"""Building the FastAPI application from an ApiContext."""

from __future__ import annotations

from fastapi import FastAPI

import shouwang
from api import errors
from api.context import ApiContext
from api.routes import alerts, health, households


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(
        title="Shouwang (守望)",
        version=shouwang.__version__,
        description="Watching over elders who live alone: alerts, households and their signs of life.",
    )
    app.state.context = context
    errors.install(app)
    app.include_router(health.router)
    app.include_router(alerts.router)
    app.include_router(households.router)
    return app
