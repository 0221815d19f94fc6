"""Hubs whose readings are always heard late: a clock running behind, or a bridge's cloud that
delivers a vendor's readings a steady while after they happened.

Found by a tester of real hubs: a hub whose clock slipped an hour behind (a time-zone or summer
time slip in its firmware, a clock that lost an hour in a power cut) reported every reading on
time, an hour early by its stamp. Dated by the stamp, the elder was always an hour "silent": a
regular elder's red home had seven false inactivity alerts in ten hours, each saying she had
used no water since an hour before she did. A pipeline that delivers late looks the same, and is
judged the same way: by the stamp, the newest hour is always silent, because it has not arrived.

So a hub heard late by the same amount, reading after reading, for half an hour, has its signs
dated that much later: a silence is then measured from the moment up to which the hub has told
us. A backlog (a hub flushing hours it could not send) is heard late by ever different amounts,
and is dated by its stamps as before; so is anything the detector reads back from the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

LATE_S = 600.0
"""A reading heard this long after its stamp, or longer, is late; sooner, its hub is on time."""
STEADY_S = 300.0
"""Lateness within this of each other is one steady lateness; more apart, a backlog."""
SETTLE_S = 1800.0
"""How long (by the clock, as heard) a steady lateness holds before the hub is taken as late."""
MIN_READINGS = 3
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Streak:
    since: float
    low: float
    high: float
    readings: int
    told: bool = False


class Lateness:
    """Per hub, how much later than its stamps its signs are dated; only late hubs are kept."""

    def __init__(self) -> None:
        self._late: dict[str, _Streak] = {}

    def shift(self, hub_id: str, ts: float, heard_at: float) -> float:
        """Seconds to add to the stamp `ts` of a reading of `hub_id` heard at `heard_at`."""
        lag = heard_at - ts
        streak = self._late.get(hub_id)
        if lag < LATE_S:
            if streak is not None:
                del self._late[hub_id]
                if streak.told:
                    log.info("detector.hub_on_time hub=%s: its signs are dated by its stamps again", hub_id)
            return 0.0
        if streak is None or max(streak.high, lag) - min(streak.low, lag) > STEADY_S:
            self._late[hub_id] = _Streak(heard_at, lag, lag, 1)
            return 0.0
        streak.low, streak.high, streak.readings = min(streak.low, lag), max(streak.high, lag), streak.readings + 1
        if heard_at - streak.since < SETTLE_S or streak.readings < MIN_READINGS:
            return 0.0
        if not streak.told:
            streak.told = True
            log.warning("detector.hub_late hub=%s late_s=%.0f: its readings arrive %.0f min after their "
                        "stamps, steadily; its signs are dated as heard. Check the hub's clock (or the "
                        "bridge's delay)", hub_id, streak.low, streak.low / 60)
        return streak.low  # the least lateness heard: what delivery added to the clock's error

    def late(self) -> dict[str, float]:
        """The hubs whose signs are dated as heard now, and by how many seconds (for /health)."""
        return {hub: streak.low for hub, streak in self._late.items() if streak.told}
