"""Words a grid worker understands: local clock times and plain durations."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from detector.context import Context
from detector.signs import HomeState
from shouwang.domain.alerts import Alert, AlertKind


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
    "activity": "movement",
    "visit": "a visit",
}

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KIND_ORDER = ("water", "electricity", "gas", "door", "activity")


def kinds_in_words(kinds: list[str]) -> str:
    """["water", "electricity", "door"] → "water, power or door"."""
    words = [SIGN_WORDS[k] for k in KIND_ORDER if k in kinds] or ["water", "power", "gas", "door"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def weekday(ts: float, tz: ZoneInfo) -> str:
    return WEEKDAYS[datetime.fromtimestamp(ts, tz).weekday()]


def _clock_hour(hours: float) -> str:
    minutes = round(hours * 60) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def silence_words(*, why: str, kinds: str, since: float, now: float, expected: float,
                  tz: ZoneInfo, last_door: float | None, learned_days: int, outing_h: float,
                  wake_h: float, wake_limit_h: float, ceiling_h: float) -> str:
    """Why a learned detector alerts on a silence, in words a grid worker understands.

    `why` is "day", "night", "out" or "ceiling" (see `detector.judge`).
    """
    since_words = f"since {clock_time(since, tz, now=now)} ({duration(now - since)})"
    uses = max(1, round(expected))
    if why == "out":
        text = (f"probably went out: the door was used at {clock_time(since, tz, now=now)} and "
                f"there has been no {kinds} since ({duration(now - since)}), longer than this "
                f"home's outings usually last (back within {duration(outing_h * 3600)})")
    elif why == "night":
        text = (f"not up yet: no {kinds} {since_words}; this home is usually up by "
                f"{_clock_hour(wake_h)} and nearly always by {_clock_hour(wake_limit_h)}")
    else:
        text = (f"no {kinds} {since_words}; on a usual {weekday(now, tz)} this home shows about "
                f"{uses} sign{'s' if uses != 1 else ''} of life in that time")
    if why != "out" and last_door is not None:
        text += f"; last door event {clock_time(last_door, tz, now=now)}"
    if why == "ceiling":
        text += f"; no silence may run past {duration(ceiling_h * 3600)}"
    if learned_days < 7:
        text += (f" (still learning this home: {learned_days} day{'s' if learned_days != 1 else ''}"
                 " of history, so the community's usual rhythm counts too)")
    return text


def cleared_reason(alert: Alert, home: HomeState | None, ctx: Context | None, tz: ZoneInfo,
                   now: float) -> str:
    """Why an alert nobody took cleared itself, in words for the people it was sent to."""
    if ctx is None or not ctx.household.is_active:
        return "household no longer monitored"
    if ctx.is_away(now):
        return f"household marked away until {clock_time(ctx.household.away_until or now, tz)}"
    if home is None:
        return "condition ended"
    if alert.kind is AlertKind.NO_WATER and home.last_water_at and home.last_water_at > alert.since:
        return f"water drawn again at {clock_time(home.last_water_at, tz, now=now)}"
    if alert.kind is AlertKind.INACTIVITY and home.last_sign_at:
        kind = SIGN_WORDS[home.last_sign_kind.value] if home.last_sign_kind else "activity"
        return f"life resumed at {clock_time(home.last_sign_at, tz, now=now)} ({kind})"
    if alert.kind is AlertKind.HUB_OFFLINE and home.hub_last_seen_at:
        return f"hub heard again at {clock_time(home.hub_last_seen_at, tz, now=now)}"
    return "condition ended"
