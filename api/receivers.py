"""Receivers a staff member sets for themselves, or for a household's relatives: not inside the
community's own machine or network, which only an admin may point dispatch at."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from api.errors import Forbidden
from shouwang.domain import access
from shouwang.domain.model import Staff
from shouwang.domain.webhooks import internal_host


def addresses_of(host: str) -> list[str]:
    """The addresses this machine resolves `host` to (none if it does not resolve)."""
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    except (OSError, UnicodeError):
        return []


def refuse_internal(staff: Staff, urls: Iterable[str]) -> None:
    """Forbidden, unless `staff` is an admin, for a receiver inside the machine or its network: found
    by testers, a grid member set their own channel, or a relative's webhook, to an internal
    service (169.254.169.254, 127.0.0.1, a name for this machine) and read its answers back in
    the delivery's error."""
    if access.manages_staff(staff):
        return
    for url in urls:
        why = internal_host(url, addresses_of=addresses_of)
        if why is not None:
            raise Forbidden(f"{why}: only an admin sets a receiver inside the community's own network")
