"""Shapes every part of the API shares: times, errors, pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shouwang.domain.errors import InvalidInput


def when(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def seconds(moment: datetime) -> float:
    """A request's datetime as UNIX seconds. A time without a zone is refused: it was taken as
    UTC, eight hours from what a community in China means by it (found by an integrator), and
    guessing the other way would be as silent."""
    if moment.tzinfo is None:
        raise InvalidInput(f"the time {moment.isoformat()} has no zone: give it with one, e.g. "
                           f"{moment.strftime('%Y-%m-%dT%H:%M')}+08:00 (or Z for UTC)")
    return moment.timestamp()


class RequestBody(BaseModel):
    """What a client sends: a misspelt field is refused (422), never silently dropped, since a
    note or a change that vanished without a word cannot be told from one that was stored."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL refuses a NUL in text (found by a tester: stored and echoed on SQLite, so a
        500 waited on the production store); refused here on both."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text may not contain the NUL character (\\u0000)")
        return value


class ErrorDetail(BaseModel):
    code: str = Field(description="bad_request, not_found, method_not_allowed, forbidden, conflict, invalid, "
                                  "invalid_request, not_authenticated, too_many_requests, payload_too_large, "
                                  "unsupported_media_type, internal")
    message: str = Field(description="what was wrong and what to do")
    problems: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail

    model_config = {"json_schema_extra": {"examples": [
        {"error": {"code": "not_found", "message": "household sim-0007 was not found"}}]}}


def _error(description: str, code: str, message: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description,
            "content": {"application/json": {"example": {"error": {"code": code,
                                                                    "message": message}}}}}


UNAUTHENTICATED = _error("no token, or it is unknown, revoked or expired", "not_authenticated",
                         "send 'Authorization: Bearer <token>'")
FORBIDDEN = _error("your role may not do this", "forbidden",
                   "only admins and duty leaders change a household's colour")
NOT_FOUND = _error("no such thing, or not one you look after", "not_found",
                   "household sim-0007 was not found")
CONFLICT = _error("the request contradicts what is stored", "conflict",
                  "alert 12 is already resolved")
INVALID = _error("a value cannot be used", "invalid", "'until' must be in the future")

BAD_BODY = _error("the body is not readable JSON", "bad_request",
                 "the request body could not be read; send UTF-8 JSON")
AUTHED: dict[int | str, dict[str, Any]] = {400: BAD_BODY, 401: UNAUTHENTICATED, 403: FORBIDDEN,
                                           422: INVALID}
BY_ID: dict[int | str, dict[str, Any]] = {**AUTHED, 404: NOT_FOUND}
CHANGES: dict[int | str, dict[str, Any]] = {**BY_ID, 409: CONFLICT}


class Page(BaseModel):
    total: int = Field(description="how many match in all")
    limit: int
    offset: int
