"""A test notification through each of one staff member's channels, and what happened on each."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dispatch.channels import DeliveryFailed, Sender
from dispatch.message import iso
from dispatch.policy import channels
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Staff


@dataclass(frozen=True, slots=True)
class ChannelResult:
    channel: Channel
    address: str
    ok: bool
    detail: str
    """"HTTP 204", or what went wrong."""
    seconds: float


def test_body(staff: Staff, *, now: float) -> dict[str, Any]:
    """What a receiver gets: marked as a test, with no alert and no delivery_id to act on."""
    return {
        "event": "test",
        "delivery_id": None,
        "to": {"staff_id": staff.id, "name": staff.name, "role": staff.role.value},
        "sent_at": iso(now),
        "message": "A test from Shouwang (守望): this channel reaches you. Nothing to do.",
        "text": "【守望】测试：这个渠道能联系到您，无需处理。Shouwang test: this channel reaches you.",
    }


def try_channels(staff: Staff, senders: dict[Channel, Sender], *, now: float,
                 address: Callable[[Channel], str],
                 timer: Callable[[], float] = time.monotonic) -> list[ChannelResult]:
    """Send the test through each channel the staff member has; every failure is reported, not raised."""
    results = []
    for channel in channels(staff):
        sender = senders.get(channel)
        started = timer()
        try:
            if sender is None:
                raise RuntimeError(f"no sender for {channel.value}")
            ok, detail = True, sender.send(staff, test_body(staff, now=now))
        except DeliveryFailed as exc:
            ok, detail = False, str(exc)
        except Exception as exc:  # the point is to report it, whatever it is
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        results.append(ChannelResult(channel, address(channel), ok, detail, timer() - started))
    return results
