"""Signing in with a password (a short-lived token) and long-lived API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.deps import Context, CurrentSession, CurrentStaff, ForgetsSessions, Now, StateDep, password_checked
from api.errors import Forbidden, NotAuthenticated, TooManyAttempts
from api.schemas.common import AUTHED, BAD_BODY, BY_ID, INVALID, ErrorOut, when
from api.schemas.staff import LoginIn, NewTokenOut, SessionOut, StaffOut, TokenIn, TokenOut
from api.trail import actor, note
from shouwang.domain import access
from shouwang.domain.errors import NotFound
from shouwang.storage.credentials import API, SESSION

router = APIRouter(prefix="/auth", tags=["sign-in"], dependencies=[ForgetsSessions])

LOGIN_ERRORS: dict[int | str, dict[str, object]] = {
    400: BAD_BODY,
    422: INVALID,
    401: {"model": ErrorOut, "description": "wrong username or password"},
    429: {"model": ErrorOut, "description": "too many failed sign-ins; see Retry-After"},
}


@router.post("/login", response_model=SessionOut, responses=LOGIN_ERRORS,
             summary="Sign in with username and password; the token lasts a working day")
def login(body: LoginIn, request: Request, context: Context, now: Now) -> SessionOut:
    address = request.client.host if request.client else "unknown"
    tried_at = context.wall()
    wait = context.limiter.try_once(body.username, address, now=tried_at)
    if wait > 0:
        raise TooManyAttempts(wait)
    state = context.state
    member = state.credentials.sign_in(body.username, body.password)
    if member is None:
        raise NotAuthenticated("wrong username or password")
    context.limiter.succeeded(body.username, address, tried_at=tried_at)
    # a working day of real time: on the demo's fast clock, as many clock hours as pass meanwhile
    ttl_s = context.settings.api.session_ttl_h * 3600.0 * context.clock.speed
    token = state.registry.issue_token(member.id, name="sign-in", now=now, ttl_s=ttl_s,
                                       kind=SESSION)
    note(state, member, "signed_in", "staff", member.id, now=now, details={"address": address})
    return SessionOut(token=token, expires_at=when(now + ttl_s), staff=StaffOut.of(member))


@router.post("/logout", status_code=204, responses=AUTHED,
             summary="Sign out: the token you sent stops working")
def logout(session: CurrentSession, state: StateDep, now: Now) -> None:
    state.credentials.revoke(session.token.id, actor=actor(session.staff), now=now)


@router.get("/me", response_model=StaffOut, responses=AUTHED, summary="Who you are signed in as")
def me(staff: CurrentStaff) -> StaffOut:
    return StaffOut.of(staff)


@router.get("/tokens", response_model=list[TokenOut], responses=AUTHED,
            summary="Your long-lived API tokens")
def list_tokens(staff: CurrentStaff, state: StateDep) -> list[TokenOut]:
    return [TokenOut.of(t) for t in state.credentials.tokens(staff.id, kind=API)]


@router.get("/sessions", response_model=list[TokenOut], responses=AUTHED,
            summary="Your sign-in sessions still live (revoke one with POST /auth/tokens/{id}/revoke)")
def list_sessions(staff: CurrentStaff, state: StateDep, now: Now) -> list[TokenOut]:
    return [TokenOut.of(t) for t in state.credentials.tokens(staff.id, kind=SESSION)
            if t.revoked_at is None and (t.expires_at is None or t.expires_at > now)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201, responses=AUTHED,
             summary="Create a long-lived API token for an integration; shown once")
def create_token(body: TokenIn, session: CurrentSession, request: Request, context: Context, state: StateDep,
                 now: Now) -> NewTokenOut:
    staff = session.staff
    # Found by a tester: a stolen sign-in session made itself a token that never expires and
    # outlived the owner's password change and an admin's reset. The password is asked of an API
    # token too: a leaked integration token could otherwise mint others, which outlive its own
    # revocation. Each wrong password counts as a failed sign-in.
    if not password_checked(request, context, staff, body.password):
        raise Forbidden("give your password to create a long-lived token")
    ttl_s = body.expires_in_days * 86400.0 if body.expires_in_days else None
    token = state.registry.issue_token(staff.id, name=body.name, now=now, ttl_s=ttl_s, kind=API)
    info = state.credentials.tokens(staff.id, kind=API)[-1]
    note(state, staff, "token_created", "staff", staff.id, now=now,
         details={"token_id": info.id, "name": body.name})
    return NewTokenOut(token=token, **TokenOut.of(info).model_dump())


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut, responses=BY_ID,
             summary="Revoke an API token (yours, or anyone's for admins)")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], staff: CurrentStaff,
                 state: StateDep, now: Now) -> TokenOut:
    info = state.credentials.token(token_id)
    if info.staff_id != staff.id and not access.manages_staff(staff):
        raise NotFound("token", token_id)
    revoked = state.credentials.revoke(token_id, actor=actor(staff), now=now)
    return TokenOut.of(revoked)


