"""One-time acknowledgement links: a notification carries a link that acknowledges the alert as its
recipient without signing in. Signed with the community's secret, expiring, one use per action.

The token is `alert.staff.expires.nonce.signature` (base64url HMAC-SHA256 of the rest), so nothing
secret travels in it and a changed character breaks the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from shouwang.domain.errors import ShouwangError


class InvalidLink(ShouwangError):
    """A link that is forged, damaged or expired; `reason` says which, in words for the page."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


@dataclass(frozen=True, slots=True)
class AckLink:
    alert_id: int
    staff_id: int
    expires_at: float
    nonce: str


STAFF = "ack-link"
FAMILY = "family-link"
"""A family contact's link: `staff` in it is the contact's id, and a staff link never reads as one."""


def _signature(secret: str, payload: str, audience: str = STAFF) -> str:
    digest = hmac.new(secret.encode(), audience.encode() + b"." + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make(secret: str, *, alert_id: int, staff_id: int, now: float, ttl_s: float,
         nonce: str | None = None, audience: str = STAFF) -> str:
    """A token for one recipient and one alert, good until `now + ttl_s`."""
    payload = f"{alert_id}.{staff_id}.{int(now + ttl_s)}.{nonce or secrets.token_urlsafe(9)}"
    return f"{payload}.{_signature(secret, payload, audience)}"


def read(secret: str, token: str, *, now: float, audience: str = STAFF) -> AckLink:
    """The link a token stands for, or InvalidLink saying why not."""
    parts = token.split(".")
    if len(parts) != 5 or len(token) > 200:
        raise InvalidLink("this link is damaged: open the one in the notification again")
    payload, signature = ".".join(parts[:4]), parts[4]
    # As bytes: compare_digest refuses str holding non-ASCII (found by an attacker: a 500 per link)
    if not hmac.compare_digest(signature.encode(), _signature(secret, payload, audience).encode()):
        raise InvalidLink("this link was not made by this community's Shouwang")
    try:
        alert_id, staff_id, expires = int(parts[0]), int(parts[1]), int(parts[2])
    except ValueError:
        raise InvalidLink("this link is damaged: open the one in the notification again") from None
    if now >= expires:
        raise InvalidLink("this link has expired: sign in to the page to act on the alert", expired=True)
    return AckLink(alert_id, staff_id, float(expires), parts[3])
