"""Visits, 'away until' silences and consent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import RequestBody, at, when
from shouwang.domain.model import Visit
from shouwang.storage.consent import Consent
from shouwang.storage.silences import Silence


class VisitOut(BaseModel):
    id: int | None
    household_id: str
    at: datetime
    staff_id: int | None
    note: str | None
    how: Literal["visit", "call"] = "visit"

    @classmethod
    def of(cls, v: Visit) -> VisitOut:
        return cls(id=v.id, household_id=v.household_id, at=at(v.at), staff_id=v.staff_id,
                   note=v.note, how="call" if v.how == "call" else "visit")


class VisitIn(RequestBody):
    at: datetime | None = Field(default=None, description="when you saw the elder; default now")
    note: str | None = Field(default=None, max_length=2000)
    how: Literal["visit", "call"] = Field(
        default="visit", description="visit: you saw the elder in person (one of the colour's visits); "
        "call: you spoke with them by phone (a contact, not one of the five visits)")

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "well, asked for help with "
                                                                "the heating bill"}]})


class SilenceOut(BaseModel):
    id: int
    household_id: str
    starts_at: datetime
    until: datetime
    reason: str | None
    created_by: int | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, s: Silence) -> SilenceOut:
        return cls(id=s.id, household_id=s.household_id, starts_at=at(s.starts_at),
                   until=at(s.until), reason=s.reason, created_by=s.created_by,
                   cancelled_at=when(s.cancelled_at))


class SilenceIn(RequestBody):
    until: datetime = Field(description="inactivity alerts are silenced until then")
    reason: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(json_schema_extra={"examples": [{"until": "2025-11-25T18:00:00+08:00",
                                                         "reason": "staying with her son"}]})


class ConsentOut(BaseModel):
    id: int | None
    household_id: str
    given_by: str
    relationship: str
    sensing: bool
    share_with_family: bool
    given_at: datetime
    note: str | None
    recorded_by: int | None
    recorded_at: datetime | None

    @classmethod
    def of(cls, c: Consent) -> ConsentOut:
        return cls(id=c.id, household_id=c.household_id, given_by=c.given_by,
                   relationship=c.relationship, sensing=c.sensing,
                   share_with_family=c.share_with_family, given_at=at(c.given_at), note=c.note,
                   recorded_by=c.recorded_by, recorded_at=when(c.recorded_at))


class ConsentIn(RequestBody):
    given_by: str = Field(min_length=1, max_length=200, description="who agreed (signed)")
    relationship: str = Field(default="self", min_length=1, max_length=64,
                              description="self, or e.g. daughter, guardian")
    sensing: bool = Field(description="may the home's meters and door be watched")
    share_with_family: bool = Field(default=False, description="may alerts be shared with family")
    given_at: datetime | None = Field(default=None, description="when they signed; default now")
    note: str | None = Field(default=None, max_length=2000)

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "given_by": "王秀英", "relationship": "self", "sensing": True, "share_with_family": True,
        "note": "signed form 2025-031"}]})


class ConsentState(BaseModel):
    household_id: str
    sensing: bool
    share_with_family: bool
    current: ConsentOut | None
    history: list[ConsentOut]
