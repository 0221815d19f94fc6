"""What the API needs from the rest of the system, handed in by the composition root."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from api.ratelimit import LoginLimiter
from api.sessions import SessionCache
from shouwang.clock import Clock
from shouwang.domain.model import Staff
from shouwang.health import Health
from shouwang.metrics import Metrics
from shouwang.settings import Settings
from shouwang.storage.credentials import TokenInfo
from shouwang.storage.ports import ReadingStore
from shouwang.storage.state import StateStore


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    state: StateStore
    readings: ReadingStore
    clock: Clock
    metrics: Metrics
    # Wall time (UNIX seconds, as the sign-in limiter shares it with other processes through
    # the state store) for rate limits and stream lifetimes: the demo's fast clock must not
    # shorten them.
    wall: Callable[[], float] = time.time
    secret: str | None = None
    """The community's secret, which signs one-time acknowledgement links (None: links are off)."""
    roles: list[Health] = field(default_factory=list)
    """The roles running in this process (`shouwang run`), whose problems `GET /health` reports."""
    limiter: LoginLimiter = field(init=False)
    sessions: SessionCache[tuple[Staff, TokenInfo]] = field(init=False)

    def __post_init__(self) -> None:
        api = self.settings.api
        object.__setattr__(self, "limiter", LoginLimiter(
            self.state.sign_ins, max_failures=api.login_max_failures,
            first_delay_s=api.login_delay_s, max_delay_s=api.login_max_delay_s,
            forget_s=api.login_window_s))
        object.__setattr__(self, "sessions", SessionCache(ttl_s=api.auth_cache_s,
                                                          clock=self.wall))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)
