"""The elder's help button: a press is an urgent alert at once, not a judgement at the next tick.

A help alert never clears itself (the elder asked; only staff who went can close it), and a press
already answered by an alert is not raised again when its message comes a second time (a broker's
redelivery after a restart, a hub's backlog). A press stamped before the last help alert is not
for that an old one (a hub whose clock is behind after a power cut), and a press that could not be
raised (the state store away for a moment) is tried again until it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from detector.explain import clock_time
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import HELP_PRESS, Reading, SensorKind, StoredReading


def is_help_press(reading: Reading | StoredReading) -> bool:
    return reading.kind is SensorKind.BUTTON and reading.value == HELP_PRESS


def help_finding(reading: StoredReading, tz: ZoneInfo, now: float) -> Finding:
    """The urgent finding for one help press, said in English and Chinese."""
    at = clock_time(reading.ts, tz, now=now)
    return Finding(
        reading.household_id, AlertKind.HELP, Severity.URGENT, reading.ts,
        f"the help button was pressed at {at}; go or call at once",
        {"sensor": reading.sensor, "hub_id": reading.hub_id, "pressed_at": reading.ts},
        explanation_zh=f"{at}按下了求助按钮，请立即上门或致电",
    )


def presses_to_raise(presses: list[StoredReading],
                     raised: Mapping[str, Sequence[float]]) -> list[StoredReading]:
    """The earliest press per household that raised no help alert yet; `raised` gives, per
    household, the press time (`since`) of each of its help alerts. A press met again (a broker's
    redelivery, a hub's resend) has its own time; one that came while an alert was open is merged
    into it when the alert opens (`Alerting.open_now`). Stamps are compared with stamps only: a
    hub's clock behind (found by an attacker) made a new press look older than the resolution
    before it, and it was dropped."""
    first: dict[str, StoredReading] = {}
    for press in sorted(presses, key=lambda r: r.ts):
        if press.ts not in raised.get(press.household_id, ()):
            first.setdefault(press.household_id, press)
    return list(first.values())
