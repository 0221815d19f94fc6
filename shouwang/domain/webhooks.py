"""Webhook addresses: what may be entered as a staff member's receiver, checked where it is entered.

One pure check serves every entrance (CLI, API, imports) and dispatch itself, so an address that can
never be delivered to is refused where the mistake is made, not found out when an elder's alert fires.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from shouwang.domain.errors import InvalidInput

MAX_URL_LENGTH = 1000
"""The staff table's column width."""
EXAMPLE = "https://example.org/hooks/wang"
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_CONJOINING_JAMO = ((0x1100, 0x11FF), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))
_PLACEHOLDERS = ("…", "<", ">", "{", "}")


class InvalidWebhook(InvalidInput):
    """A webhook address that no notification could ever reach."""


@dataclass(frozen=True, slots=True)
class WebhookAddress:
    url: str
    plain_http: bool
    """Sent unencrypted: anyone on the way can read the elder's details."""

    @property
    def receiver(self) -> str:
        """host:port, the unit one hanging receiver can block (dispatch limits its in-flight)."""
        return receiver_of(self.url)


def check_webhook_url(url: str, *, allow_http: bool) -> WebhookAddress:
    """The address if it can be delivered to: http(s), a real host; plain http only if allowed."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook(f"webhook address is {len(url)} characters; at most {MAX_URL_LENGTH}")
    bad = next((c for c in url if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise InvalidWebhook(f"webhook {url!r} contains {bad!r} at position {url.index(bad)}; "
                             f"give the address without spaces, e.g. {EXAMPLE}")
    if any(p in url for p in _PLACEHOLDERS):
        raise InvalidWebhook(f"webhook {url!r} looks like a placeholder; give the receiver's real "
                             f"address, e.g. {EXAMPLE}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. a bracketed host that is not an IPv6 address
        raise InvalidWebhook(f"webhook {url!r} is not a URL ({exc}), e.g. {EXAMPLE}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise InvalidWebhook(f"webhook {url!r} is not an http(s) URL, e.g. {EXAMPLE}")
    _check_host(url, parts)
    if scheme == "http" and not allow_http:
        raise InvalidWebhook(f"webhook {url!r} is plain http: alerts (names, addresses) would cross "
                             "the network unencrypted; use https, or allow http explicitly "
                             "(--allow-http, or allow_http in the API)")
    return WebhookAddress(url=url, plain_http=scheme == "http")


def _check_host(url: str, parts: SplitResult) -> None:
    if "@" in parts.netloc:
        raise InvalidWebhook(f"webhook {url!r} carries a user name or password, which would show in "
                             "lists and logs; give the address without it (every POST is signed)")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise InvalidWebhook(f"webhook {url!r} has a port that is not a number from 1 to 65535")
    host = parts.hostname or ""
    if not host:
        raise InvalidWebhook(f"webhook {url!r} names no host, e.g. {EXAMPLE}")
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidWebhook(f"webhook {url!r}: [{host}] is not an IPv6 address") from None
        return
    labels = host.removesuffix(".").split(".")
    if not all(_host_label(label, idna=not host.isascii()) for label in labels):
        raise InvalidWebhook(f"webhook {url!r}: {host!r} is not a host name; give the receiver's "
                             f"real address, e.g. {EXAMPLE}")


def _host_label(label: str, *, idna: bool) -> bool:
    """A DNS label. In a non-ASCII host name every label must also pass IDNA 2008 (the HTTP
    client's), stricter than the standard library's IDNA 2003 ("·", "ª", "_" are refused)."""
    if label.isascii():
        return bool(_LABEL.match(label)) and not (idna and ("_" in label or label[2:4] == "--"))
    if label[0] == "-" or label[-1] == "-" or unicodedata.normalize("NFKC", label.casefold()) != label:
        return False
    if not all(c == "-" or unicodedata.category(c) in ("Ll", "Lo", "Nd") for c in label):
        return False
    if any(lo <= ord(c) <= hi for c in label for lo, hi in _CONJOINING_JAMO):
        return False
    if any(unicodedata.bidirectional(c) in ("R", "AL", "AN") for c in label):
        return False  # right-to-left labels carry rules of their own; none seen in our communities
    try:
        return bool(_LABEL.match(label.encode("idna").decode("ascii")))
    except UnicodeError:
        return False


def receiver_of(url: str) -> str:
    """host:port of an address, lowercased; the address itself if it does not parse."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return url
    return f"{(parts.hostname or '').lower()}:{port}"
