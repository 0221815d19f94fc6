"""Rate limiting password sign-in: failures counted per username and per client address."""

from __future__ import annotations

import threading
from collections import defaultdict, deque


class LoginLimiter:
    """At most `max_failures` failed sign-ins per username (4x per address) in `window_s`."""

    def __init__(self, *, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _limit(self, key: str) -> int:
        return self.max_failures * 4 if key.startswith("addr:") else self.max_failures

    def retry_after(self, keys: list[str], *, now: float) -> float:
        """Seconds until these keys may try again; 0 if they may now."""
        wait = 0.0
        with self._lock:
            for key in keys:
                seen = self._failures[key]
                while seen and seen[0] <= now - self.window_s:
                    seen.popleft()
                if len(seen) >= self._limit(key):
                    wait = max(wait, seen[0] + self.window_s - now)
        return wait

    def failed(self, keys: list[str], *, now: float) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(now)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)
