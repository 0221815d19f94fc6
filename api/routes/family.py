"""A household's emergency contacts: relatives who agreed to be called, for the household's own staff.

Each contact stands on the household's ladder (at a step, or wherever the ladder names `family`)
and is reached by SMS through the community's gateway or at a webhook; their consent is recorded
with them, and nobody is added without it. Volunteers neither see nor change them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import CaredHousehold, CurrentStaff, Now, StateDep
from api.receivers import refuse_internal
from api.schemas.common import BY_ID, CHANGES, RequestBody, at, seconds
from api.trail import actor
from shouwang.domain.cover import FamilyContact
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import still_watched

router = APIRouter(prefix="/households/{household_id}/family", tags=["family"])


class FamilyIn(RequestBody):
    name: str = Field(min_length=1, max_length=200, examples=["王小红"])
    relation: str = Field(min_length=1, max_length=64, examples=["女儿"])
    channel: Literal["sms", "webhook"] = Field(
        description="sms: a phone number texted through the community's SMS gateway; webhook: a URL "
                    "their message is POSTed to (signed)")
    address: str = Field(min_length=1, max_length=1000, examples=["13800138000"])
    consent_by: str = Field(min_length=1, max_length=200, description="who agreed (usually the relative)")
    consent_at: datetime | None = Field(default=None, description="when they agreed (default: now)")
    step: int | None = Field(default=None, ge=0, le=20, description="the ladder step they stand at (0 first); "
                             "default: wherever the ladder names `family`")


class FamilyOut(BaseModel):
    id: int
    household_id: str
    name: str
    relation: str
    channel: str
    address: str
    step: int | None
    consent_by: str
    consent_at: datetime

    @classmethod
    def of(cls, c: FamilyContact) -> FamilyOut:
        return cls(id=c.id, household_id=c.household_id, name=c.name, relation=c.relation, channel=c.channel,
                   address=c.address, step=c.step, consent_by=c.consent_by, consent_at=at(c.consent_at))


@router.get("", response_model=list[FamilyOut], responses=BY_ID,
            summary="The household's emergency contacts on its ladder")
def list_family(household: CaredHousehold, state: StateDep) -> list[FamilyOut]:
    return [FamilyOut.of(c) for c in state.family.of(household.id)]


@router.post("", response_model=FamilyOut, status_code=201, responses=CHANGES,
             summary="Add a relative who agreed to be called about the household's alerts")
def add_family(household: CaredHousehold, body: FamilyIn, staff: CurrentStaff, state: StateDep,
               now: Now) -> FamilyOut:
    still_watched(household)
    consent_at = seconds(body.consent_at) if body.consent_at else now
    if consent_at > now + 300:
        raise InvalidInput("consent cannot be given in the future")
    if body.channel == "webhook":  # found by a regression tester: one at 127.0.0.1 reached this machine
        refuse_internal(staff, [body.address])
    contact = FamilyContact(0, household.id, body.name, body.relation, body.channel, body.address,
                            body.consent_by, consent_at, body.step)
    return FamilyOut.of(state.family.add(contact, actor=actor(staff), now=now))


@router.post("/{contact_id}/remove", response_model=FamilyOut, responses=CHANGES,
             summary="Take a contact off the household's ladder")
def remove_family(household: CaredHousehold, contact_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                  staff: CurrentStaff, state: StateDep, now: Now) -> FamilyOut:
    contact = state.family.get(contact_id)
    if contact.household_id != household.id or not contact.active:
        raise NotFound("family contact", contact_id)
    return FamilyOut.of(state.family.remove(contact_id, actor=actor(staff), now=now))
