"""Notices: reminders and suggestions owed to one staff member that are not about an alert."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from shouwang.domain.delivery import Channel, DeliveryStatus


class NoticeKind(enum.StrEnum):
    VISIT_OVERDUE = "visit_overdue"
    """五色五访: the household's visit is overdue; the person who claimed it is reminded."""
    TIER_SUGGESTED = "tier_suggested"
    """Genuine alerts piled up: a hotter colour is suggested to the household's caseworker."""


@dataclass(frozen=True, slots=True)
class NewNotice:
    kind: NoticeKind
    household_id: str
    staff_id: int
    channel: Channel
    key: str
    """What makes it once-only with kind, household, staff and channel (e.g. the overdue period)."""
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    kind: NoticeKind
    household_id: str
    staff_id: int
    channel: Channel
    key: str
    body: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    created_at: float
    next_attempt_at: float
    delivered_at: float | None = None
    last_error: str | None = None
