"""A notification owed to one staff member on one channel, retried until delivered."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Channel(enum.StrEnum):
    """How a notification travels; each staff member lists theirs (shouwang.domain.channels)."""

    WEBHOOK = "webhook"
    MQTT = "mqtt"
    WECOM = "wecom"
    """企业微信 group robot"""
    DINGTALK = "dingtalk"
    """钉钉 custom robot"""
    FEISHU = "feishu"
    """飞书 custom bot"""
    SMS = "sms"
    """a phone number, through the SMS or voice gateway the community contracts"""


class DeliveryEvent(enum.StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLEARED = "cleared"
    REMINDER = "reminder"
    """Told again: the alert is still open and nobody has acknowledged it."""


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    alert_id: int
    staff_id: int
    channel: Channel
    event: DeliveryEvent
    status: DeliveryStatus
    attempts: int
    created_at: float
    next_attempt_at: float
    delivered_at: float | None = None
    last_error: str | None = None


def backoff_s(attempts: int, *, initial_s: float, max_s: float) -> float:
    """Exponential backoff: initial, 2×, 4×, … capped at max_s."""
    return float(min(max_s, initial_s * 2 ** max(0, attempts - 1)))
