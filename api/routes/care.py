"""Visits, 'away until' silences and consent: what staff tell Shouwang about a household."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CaredHousehold, CurrentStaff, Now, ReadableHousehold, StateDep, VisibleHousehold
from api.schemas.care import (
    ConsentIn,
    ConsentOut,
    ConsentState,
    SilenceIn,
    SilenceOut,
    VisitIn,
    VisitOut,
)
from api.schemas.common import BY_ID, CHANGES, seconds
from api.trail import actor
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import Visit, still_watched
from shouwang.storage.consent import SHARE_WITH_FAMILY, Consent

router = APIRouter(prefix="/households/{household_id}", tags=["care"])
FUTURE_SLACK_S = 300.0


@router.get("/visits", response_model=list[VisitOut], responses=BY_ID,
            summary="Visits recorded for the household, newest first")
def list_visits(household: VisibleHousehold, state: StateDep, now: Now,
                days: Annotated[int, Query(ge=1, le=3660)] = 90) -> list[VisitOut]:
    found = state.visits.for_household(household.id, start=now - days * 86400.0,
                                       end=now + FUTURE_SLACK_S)
    return [VisitOut.of(v) for v in reversed(found)]


@router.post("/visits", response_model=VisitOut, status_code=201, responses=BY_ID,
             summary="Record a visit (you saw the elder) or a call (you spoke with them): a sign of life")
def record_visit(household: VisibleHousehold, body: VisitIn, staff: CurrentStaff,
                 state: StateDep, now: Now) -> VisitOut:
    when = seconds(body.at) if body.at else now
    if when > now + FUTURE_SLACK_S:
        raise InvalidInput("a visit cannot be in the future")
    visit = state.visits.add(Visit(household.id, when, staff.id, body.note, how=body.how), actor=actor(staff),
                             now=now)
    return VisitOut.of(visit)


@router.get("/silences", response_model=list[SilenceOut], responses=BY_ID,
            summary="'Away until' silences of the household")
def list_silences(household: ReadableHousehold, state: StateDep) -> list[SilenceOut]:
    return [SilenceOut.of(s) for s in state.silences.for_household(household.id)]


@router.post("/silences", response_model=SilenceOut, status_code=201, responses=CHANGES,
             summary="The elder is away until a time: inactivity alerts are silenced till then")
def add_silence(household: CaredHousehold, body: SilenceIn, staff: CurrentStaff,
                state: StateDep, now: Now) -> SilenceOut:
    until = seconds(body.until)
    if until > now + 366 * 86400.0:
        raise InvalidInput("a silence may last at most a year")
    return SilenceOut.of(state.silences.add(household.id, until=until, reason=body.reason,
                                            actor=actor(staff), now=now))


@router.post("/silences/{silence_id}/cancel", response_model=SilenceOut, responses=CHANGES,
             summary="The elder is back early: end the silence")
def cancel_silence(household: CaredHousehold,
                   silence_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                   staff: CurrentStaff, state: StateDep, now: Now) -> SilenceOut:
    silence = state.silences.get(silence_id)
    if silence.household_id != household.id:
        raise NotFound("silence", silence_id)
    return SilenceOut.of(state.silences.cancel(silence_id, actor=actor(staff), now=now))


@router.get("/consent", response_model=ConsentState, responses=BY_ID,
            summary="What the household agreed to, and every statement before")
def get_consent(household: ReadableHousehold, state: StateDep) -> ConsentState:
    history = state.consent.history(household.id)
    current = history[-1] if history else None
    return ConsentState(
        household_id=household.id, sensing=bool(current and current.sensing),
        share_with_family=bool(current and current.allows(SHARE_WITH_FAMILY)),
        current=ConsentOut.of(current) if current else None,
        history=[ConsentOut.of(c) for c in reversed(history)],
    )


@router.post("/consent", response_model=ConsentOut, status_code=201, responses=BY_ID,
             summary="Record consent (or its withdrawal); monitoring starts only with sensing "
                     "consent")
def record_consent(household: CaredHousehold, body: ConsentIn, staff: CurrentStaff,
                   state: StateDep, now: Now) -> ConsentOut:
    given_at = seconds(body.given_at) if body.given_at else now
    if given_at > now + FUTURE_SLACK_S:
        raise InvalidInput("consent cannot be given in the future")
    if body.sensing:
        still_watched(household)
    consent = Consent(household.id, body.given_by, body.relationship, body.sensing,
                      body.share_with_family, given_at, body.note)
    return ConsentOut.of(state.consent.record(consent, actor=actor(staff), now=now))


