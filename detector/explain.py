"""Words a grid worker understands: local clock times and plain durations."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def clock_time(ts: float, tz: ZoneInfo, *, now: float | None = None) -> str:
    """"07:40" today, "11-22 07:40" on another day."""
    moment = datetime.fromtimestamp(ts, tz)
    if now is not None and datetime.fromtimestamp(now, tz).date() == moment.date():
        return moment.strftime("%H:%M")
    return moment.strftime("%m-%d %H:%M")


def duration(seconds: float) -> str:
    """"3 h 05 m", "45 m", "2 d 4 h"."""
    minutes = int(max(0.0, seconds) // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} m"
    return f"{minutes} m"


SIGN_WORDS = {
    "water": "water",
    "electricity": "power",
    "gas": "gas",
    "door": "door",
    "visit": "a visit",
}
