"""The live feed: alert changes as server-sent events, read from the audit trail.

The audit trail is written in the same transaction as every change, so following it misses
nothing; a client that reconnects sends Last-Event-ID and carries on where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from api.context import ApiContext
from api.deps import Context, CurrentSession, require, session_for, with_covering
from api.errors import TooManyAttempts
from api.routes.alerts import acknowledger
from api.schemas.alerts import AlertOut
from api.schemas.common import AUTHED
from shouwang.domain import access
from shouwang.domain.errors import NotFound
from shouwang.domain.model import Staff
from shouwang.storage.audit import AuditEntry

router = APIRouter(tags=["live"])
ALERT_ACTIONS = frozenset({"opened", "escalated", "acknowledged", "assigned", "commented",
                           "resolved", "cleared", "reminded", "family_called", "family_unreached",
                           "family_delivery_failed"})
HOUSEHOLD_ACTIONS = frozenset({"visit_recorded", "silenced", "silence_cancelled",
                               "consent_recorded", "household_changed", "household_retired",
                               "household_added", "anonymised", "tier_changed", "tier_suggested",
                               "tier_suggestion_declined"})
KEEPALIVE_S = 15.0
STREAMS_PER_STAFF = 4
"""Live feeds one member of staff may hold open at once (a page needs one; a few tabs, a phone):
found by an attacker, 300 streams of one token, each polling the store every second, made every
other user's requests forty times slower."""
REPLAY_MOST = 1000
"""The furthest back (in audit entries) a reconnecting feed is replayed; older, the page reloads
its lists. Found by an attacker: Last-Event-ID 0 replayed the whole trail, to every stream."""


def _open_streams(request: Request) -> dict[int, list[float]]:
    """Per member of staff, when each of their live feeds open in this process must have ended
    (a feed whose response never began, its client gone at once, is forgotten then)."""
    streams: dict[int, list[float]] | None = getattr(request.app.state, "live_streams", None)
    if streams is None:
        streams = request.app.state.live_streams = {}
    return streams


def _reserve(request: Request, context: ApiContext, staff_id: int) -> float | None:
    """A feed's place, before anything is awaited (found by a tester: counted once it began, a
    burst of twelve got eleven); None if all STREAMS_PER_STAFF are taken."""
    streams = _open_streams(request)
    now = context.wall()
    held = [until for until in streams.get(staff_id, []) if until > now]
    if len(held) >= STREAMS_PER_STAFF:
        return None
    until = now + context.settings.api.live_max_s + 60.0
    streams[staff_id] = [*held, until]
    return until


def _release(request: Request, staff_id: int, until: float) -> None:
    held = _open_streams(request).get(staff_id, [])
    if until in held:
        held.remove(until)


def _event(context: ApiContext, staff: Staff, entry: AuditEntry) -> str | None:
    """The SSE frame for one audit entry, if it is news this viewer may see."""
    state = context.state
    try:
        if entry.entity == "alert" and entry.action in ALERT_ACTIONS:
            alert = state.alerts.get(int(entry.entity_id))
            household = state.registry.household(alert.household_id)
            if not access.can_act_on_alerts(staff, household):
                return None
            assigned = state.alert_notes.assignments([alert.id]).get(alert.id)
            body = AlertOut.of(alert, household, assigned.staff_id if assigned else None,
                               acknowledged_by_name=acknowledger(state, alert))
            data = {"action": entry.action, "alert": body.model_dump(mode="json")}
            return f"id: {entry.id}\nevent: alert\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        if entry.entity == "household" and entry.action in HOUSEHOLD_ACTIONS:
            household = state.registry.household(entry.entity_id)
            if not access.can_see(staff, household):
                return None
            data = {"action": entry.action, "household_id": household.id}
            return f"id: {entry.id}\nevent: household\ndata: {json.dumps(data)}\n\n"
    except (NotFound, ValueError):
        return None
    return None


async def _frames(request: Request, context: Context, staff: Staff, token: str, after: int,
                  place: float) -> AsyncIterator[str]:
    try:
        async for frame in _follow(request, context, token, after):
            yield frame
    finally:
        _release(request, staff.id, place)


async def _follow(request: Request, context: Context, token: str, after: int) -> AsyncIterator[str]:
    api = context.settings.api
    yield f"retry: 3000\nid: {after}\n\n"
    deadline = context.wall() + api.live_max_s
    last_sent = context.wall()
    while context.wall() < deadline and not await request.is_disconnected():
        # Who is watching is asked again before every read, as a request would be: found by a
        # tester, a stream opened before a grid member was moved to another grid, or retired,
        # went on showing the old grid's alerts (names and all) until it ended, 5 minutes later.
        session = await session_for(context, token)
        if session is None or not session.staff.role.sees_readings:
            return  # the client reconnects, and is refused
        # with whom they stand in for now (found by a tester: a deputy saw the absent colleague's
        # alerts in the list, never on the live feed)
        staff = await anyio.to_thread.run_sync(with_covering, context, session.staff)
        entries = await anyio.to_thread.run_sync(context.state.audit.since, after)
        for entry in entries:
            after = entry.id
            frame = await anyio.to_thread.run_sync(_event, context, staff, entry)
            if frame is not None:
                last_sent = context.wall()
                yield frame
        if context.wall() - last_sent > KEEPALIVE_S:
            last_sent = context.wall()
            yield f": still here\nid: {after}\n\n"
        await anyio.sleep(api.live_poll_s)


@router.get("/events", response_class=StreamingResponse,
            summary="Live alert feed (server-sent events): event 'alert' and 'household'",
            responses={200: {"content": {"text/event-stream": {"example":
                       'id: 42\nevent: alert\ndata: {"action": "opened", "alert": {...}}\n\n'}},
                       "description": "a stream that ends after api.live_max_s; reconnect with "
                       "Last-Event-ID"}, **AUTHED})
async def events(request: Request, session: CurrentSession, context: Context,
                 last_event_id: Annotated[str | None, Header(max_length=20)] = None,
                 ) -> StreamingResponse:
    staff = session.staff
    require(staff.role.sees_readings, "volunteers do not see alerts")
    place = _reserve(request, context, staff.id)
    if place is None:
        raise TooManyAttempts(context.settings.api.live_max_s, f"you already have {STREAMS_PER_STAFF} live "
                              "feeds open (close a page or tab, or wait for one to end)")
    try:
        newest = await anyio.to_thread.run_sync(context.state.audit_query.last_id)
    except BaseException:
        _release(request, staff.id, place)
        raise
    # ASCII digits only, at most the newest event: found by a tester, "²" (a digit to isdigit) was
    # a 500, and twenty nines overflowed SQLite's integer once the stream had begun
    if last_event_id is not None and last_event_id.isascii() and last_event_id.isdigit():
        after = max(min(int(last_event_id), newest), newest - REPLAY_MOST)
    else:
        after = newest
    return StreamingResponse(_frames(request, context, staff, session.secret, after, place),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
