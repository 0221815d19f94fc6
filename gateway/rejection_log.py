"""Logging refused messages without letting a flood of them flood the log.

At most one line per hub and reason every `interval_s`; what was refused in between is counted
into that line. Every field is cut short, so a 60,000-character topic is a short line too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from shouwang.storage.dead_letters import DeadLetter

log = logging.getLogger("gateway.service")
MOST_KEYS = 10_000
"""Hub and reason pairs remembered; beyond this the quiet ones are forgotten (their counts logged)
and further hubs are logged together as `(many)`."""
MANY = "(many)"


@dataclass(slots=True)
class _Seen:
    logged_at: float
    unlogged: int = 0


class RejectionLog:
    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._seen: dict[tuple[str | None, str], _Seen] = {}

    def report(self, letters: Sequence[DeadLetter], now: float) -> None:
        """Log this batch's refusals (grouped by hub and reason); `now` is a monotonic time."""
        if len(self._seen) > MOST_KEYS:
            self._forget(now)
        groups: dict[tuple[str | None, str], list[DeadLetter]] = {}
        for letter in letters:
            key = (letter.hub_id, letter.category)
            if key not in self._seen and key not in groups and len(self._seen) + len(groups) >= MOST_KEYS:
                key = (MANY, letter.category)
            groups.setdefault(key, []).append(letter)
        for key, group in groups.items():
            seen = self._seen.get(key)
            if seen is not None and now - seen.logged_at < self._interval_s:
                seen.unlogged += len(group)
                continue
            first = group[0]
            log.warning(
                "gateway.rejected reason=%.32s hub=%.66r count=%d topic=%.200r detail=%.300r payload=%.120r",
                key[1], key[0], len(group) + (seen.unlogged if seen else 0), first.topic, first.reason,
                first.payload)
            self._seen[key] = _Seen(now)

    def _forget(self, now: float) -> None:
        quiet = [k for k, s in self._seen.items() if now - s.logged_at >= self._interval_s]
        unlogged = sum(self._seen.pop(k).unlogged for k in quiet)
        if unlogged:
            log.warning("gateway.rejected reason=various hubs=%d count=%d (not logged one by one)",
                        len(quiet), unlogged)
