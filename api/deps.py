"""Dependencies as `Annotated` aliases, so a route's signature reads like prose.

The object-level checks live here too: `VisibleHousehold` is a household the caller looks after
(another grid's is "not found", never "forbidden", so ids reveal nothing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import ApiContext
from api.errors import Forbidden, NotAuthenticated, TooManyAttempts
from shouwang.domain import access
from shouwang.domain.alerts import Alert
from shouwang.domain.cover import stood_in_for
from shouwang.domain.errors import NotFound
from shouwang.domain.model import Household, Staff
from shouwang.storage.credentials import TokenInfo
from shouwang.storage.state import StateStore

_bearer = HTTPBearer(auto_error=False,
                     description="a token from POST /auth/login, or a long-lived API token")


async def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]


async def get_state(context: Context) -> StateStore:
    return context.state


StateDep = Annotated[StateStore, Depends(get_state)]


async def get_now(context: Context) -> float:
    return context.clock.now()


Now = Annotated[float, Depends(get_now)]


@dataclass(frozen=True, slots=True)
class Session:
    staff: Staff
    token: TokenInfo
    secret: str
    """The bearer token itself, for a stream that asks again who it signs in (`session_for`)."""


async def get_session(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Session:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send 'Authorization: Bearer <token>'; sign in at POST /auth/login")
    session = await session_for(context, credentials.credentials)
    if session is None:
        raise NotAuthenticated("the token is unknown, revoked or expired; sign in again")
    return session


async def session_for(context: ApiContext, token: str) -> Session | None:
    """Who `token` signs in now, if anyone: asked by every request, and again and again by a
    stream that outlives its request (the live feed)."""
    now = context.clock.now()
    found = context.sessions.get(token)
    if found is not None:
        # The remembered answer saves loading the staff member; whether the token still counts
        # is read afresh every time (a short read on the event loop), so a revocation or a
        # retirement made by any process takes effect at the next request.
        role = context.state.credentials.live_role(token, now=now)
        if role is None:
            context.sessions.forget(token)
            return None
        if role != found[0].role.value:
            found = None
    if found is None:
        found = await anyio.to_thread.run_sync(
            lambda: context.state.credentials.authenticate(token, now=now))
        if found is None:
            return None
        context.sessions.put(token, found)
    return Session(*found, token)


CurrentSession = Annotated[Session, Depends(get_session)]


async def get_current_staff(session: CurrentSession, context: Context) -> Staff:
    """Who is asking, with the colleagues on leave they stand in for now (`Staff.covering`)."""
    return with_covering(context, session.staff)


def with_covering(context: ApiContext, staff: Staff) -> Staff:
    """`staff` with the colleagues on leave they stand in for now (`Staff.covering`), read afresh:
    a leave that ends or is cancelled takes effect at the next request."""
    if not staff.active or staff.role.sees_everything:
        return staff
    now = context.clock.now()
    covered = stood_in_for(staff.id, context.state.cover.leaves(ending_after=now), now)
    if not covered:
        return staff
    people = [context.state.registry.staff(i) for i in covered]
    return dataclasses.replace(staff, covering=tuple(p for p in people if p.active))


CurrentStaff = Annotated[Staff, Depends(get_current_staff)]


def forget_sessions_after_changes(request: Request, context: Context) -> Iterator[None]:
    """On routes that change staff or tokens: drop remembered tokens once the change is made."""
    yield
    if request.method != "GET":
        context.sessions.forget_all()


ForgetsSessions = Depends(forget_sessions_after_changes)


def require(allowed: bool, why: str) -> None:
    if not allowed:
        raise Forbidden(why)


async def get_registry_manager(staff: CurrentStaff) -> Staff:
    require(access.manages_registry(staff), "only admins and duty leaders manage the registry")
    return staff


RegistryManager = Annotated[Staff, Depends(get_registry_manager)]


async def get_admin(staff: CurrentStaff) -> Staff:
    require(access.manages_staff(staff), "only admins manage staff")
    return staff


Admin = Annotated[Staff, Depends(get_admin)]

HouseholdId = Annotated[str, Path(min_length=1, max_length=64, examples=["sim-0001"])]


def get_visible_household(household_id: HouseholdId, staff: CurrentStaff,
                          state: StateDep) -> Household:
    household = state.registry.household(household_id)
    if not access.can_see(staff, household):
        raise NotFound("household", household_id)
    return household


VisibleHousehold = Annotated[Household, Depends(get_visible_household)]


async def get_readable_household(household: VisibleHousehold, staff: CurrentStaff) -> Household:
    require(access.can_see_readings(staff, household),
            "volunteers do not see readings or alerts; ask the household's grid member")
    return household


ReadableHousehold = Annotated[Household, Depends(get_readable_household)]


async def get_cared_household(household: VisibleHousehold, staff: CurrentStaff) -> Household:
    require(access.can_record_care(staff, household),
            "volunteers record visits only; ask the household's grid member")
    return household


CaredHousehold = Annotated[Household, Depends(get_cared_household)]


@dataclass(frozen=True, slots=True)
class AlertView:
    alert: Alert
    household: Household
    assigned_to: int | None


# A short read run on the event loop, as list_alerts is (see there).
async def get_visible_alert(alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)], staff: CurrentStaff,
                      state: StateDep) -> AlertView:
    listed = state.alert_list.one(alert_id)
    alert, household = listed.alert, listed.household
    if not access.can_see(staff, household):
        raise NotFound("alert", alert_id)
    require(access.can_act_on_alerts(staff, household),
            "volunteers do not see alerts; the household's grid member does")
    return AlertView(alert, household, listed.assigned_to)


VisibleAlert = Annotated[AlertView, Depends(get_visible_alert)]


def password_checked(request: Request, context: ApiContext, staff: Staff, password: str | None) -> bool:
    """Whether `password` is `staff`'s, counted by the sign-in limiter like a sign-in: found by a
    tester, creating a token with a leaked API token guessed the owner's password without limit
    (TooManyAttempts once the limiter says wait)."""
    address = request.client.host if request.client else "unknown"
    tried_at = context.wall()
    wait = context.limiter.try_once(staff.username, address, now=tried_at)
    if wait > 0:
        raise TooManyAttempts(wait)
    if not context.state.credentials.check_password(staff.id, password or ""):
        return False
    context.limiter.succeeded(staff.username, address, tried_at=tried_at)
    return True
