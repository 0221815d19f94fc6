"""A short-lived in-process memory of which token belongs to whom.

Loading the staff member behind a bearer token costs database round trips on every request;
remembering it for a few seconds takes that off the hot path (acknowledging, listing alerts).
Whether the token is still live (not revoked or expired, its holder active, the same role) is
checked on every request all the same (`get_session`), so revocation is never late; other
changes made elsewhere (another process changing someone's grids) are seen within `ttl_s`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from shouwang.storage.registry import hash_token

T = TypeVar("T")


class SessionCache(Generic[T]):
    def __init__(self, *, ttl_s: float, clock: Callable[[], float], most: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._most = most
        self._found: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> T | None:
        key = hash_token(token)
        with self._lock:
            hit = self._found.get(key)
            if hit is None:
                return None
            if hit[0] <= self._clock():
                del self._found[key]
                return None
            return hit[1]

    def put(self, token: str, value: T) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._found) >= self._most:
                self._found.clear()
            self._found[hash_token(token)] = (self._clock() + self.ttl_s, value)

    def forget(self, token: str) -> None:
        with self._lock:
            self._found.pop(hash_token(token), None)

    def forget_all(self) -> None:
        """Something about tokens or staff changed here: look everything up afresh."""
        with self._lock:
            self._found.clear()
