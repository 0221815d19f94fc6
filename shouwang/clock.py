"""Where time comes from: the wall clock in production, a fast clock in demos and tests."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since the UNIX epoch, UTC; `speed` is clock seconds per wall second."""

    @property
    def speed(self) -> float: ...

    def now(self) -> float: ...

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Sleep for `seconds` of clock time; return True early if `stop` was set."""
        ...


class SystemClock:
    speed = 1.0

    def now(self) -> float:
        return time.time()

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is None:
            time.sleep(max(0.0, seconds))
            return False
        return stop.wait(max(0.0, seconds))


class FastClock:
    """Clock time runs `speed` times faster than the wall, starting at `start`."""

    def __init__(self, start: float, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = start
        self._speed = speed
        self._wall0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._start + (time.monotonic() - self._wall0) * self._speed

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        wall = max(0.0, seconds) / self._speed
        if stop is None:
            time.sleep(wall)
            return False
        return stop.wait(wall)
