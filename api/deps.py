"""Dependencies as `Annotated` aliases, so a route's signature reads like prose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import ApiContext
from api.errors import NotAuthenticated
from shouwang.domain.model import Staff
from shouwang.storage.state import StateStore

_bearer = HTTPBearer(auto_error=False, description="a staff API token (`shouwang staff add` prints one)")


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]


def get_state(context: Context) -> StateStore:
    return context.state


StateDep = Annotated[StateStore, Depends(get_state)]


def get_now(context: Context) -> float:
    return context.clock.now()


Now = Annotated[float, Depends(get_now)]


def get_current_staff(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send 'Authorization: Bearer <token>'")
    staff = context.state.registry.staff_for_token(credentials.credentials, now=context.clock.now())
    if staff is None:
        raise NotAuthenticated("the token is unknown, revoked or expired")
    return staff


CurrentStaff = Annotated[Staff, Depends(get_current_staff)]
