"""Words a grid worker understands: local clock times and plain durations."""

from __future__ import annotations

import math
from dataclasses import dataclass
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


def _days_hours_minutes(seconds: float) -> tuple[int, int, int]:
    minutes = int(max(0.0, seconds) // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return days, hours, minutes


def duration(seconds: float) -> str:
    """"3 h 05 m", "45 m", "2 d 4 h"."""
    days, hours, minutes = _days_hours_minutes(seconds)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} m" if hours else f"{minutes} m"


def duration_zh(seconds: float) -> str:
    """"3小时05分", "45分钟", "2天4小时"."""
    days, hours, minutes = _days_hours_minutes(seconds)
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}小时{minutes:02d}分" if hours else f"{minutes}分钟"


SIGN_WORDS = {
    "water": "water",
    "electricity": "power",
    "gas": "gas",
    "door": "door",
    "activity": "movement",
    "motion": "movement",
    "visit": "a visit",
}

SIGN_WORDS_ZH = {
    "water": "用水",
    "electricity": "用电",
    "gas": "燃气",
    "door": "开关门",
    "activity": "活动",
    "motion": "活动",
    "visit": "上门探访",
}

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
KIND_ORDER = ("water", "electricity", "gas", "door", "activity", "motion")
ALL_KINDS = ["water", "electricity", "gas", "door"]


def kinds_in_words(kinds: list[str]) -> str:
    """["water", "electricity", "door"] → "water, power or door"."""
    words = [SIGN_WORDS[k] for k in KIND_ORDER if k in kinds] or ["water", "power", "gas", "door"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def kinds_in_words_zh(kinds: list[str]) -> str:
    """["water", "electricity", "door"] → "用水、用电或开关门"."""
    words = [SIGN_WORDS_ZH[k] for k in KIND_ORDER if k in kinds] or [
        SIGN_WORDS_ZH[k] for k in ALL_KINDS]
    return words[0] if len(words) == 1 else "、".join(words[:-1]) + "或" + words[-1]


def weekday(ts: float, tz: ZoneInfo) -> str:
    return WEEKDAYS[datetime.fromtimestamp(ts, tz).weekday()]


def weekday_zh(ts: float, tz: ZoneInfo) -> str:
    return WEEKDAYS_ZH[datetime.fromtimestamp(ts, tz).weekday()]


@dataclass(frozen=True, slots=True)
class Quiet:
    """Why a silence is counted from a moment that is not the home's last sign of life: the
    explanation must still say when the elder was last heard from, and what moved the count."""

    last_sign: float | None
    """The home's last sign of life, if any was ever seen."""
    reason: str | None
    """"checked" (staff closed an alert), "resumed" (the hub was heard again after a gap),
    "away" (came back from a recorded absence), "began" (monitoring began) or None (the
    silence starts at the last sign of life)."""
    last_kind: str | None = None
    """What the last sign of life was ("water", ..., "visit"), when known."""


def quiet_since(start: float, *, last_sign: float | None, checked: float | None = None,
                resumed: float | None = None, away_end: float | None = None,
                last_kind: str | None = None) -> Quiet:
    """Which of the moments a silence may be counted from made `start`."""
    last = last_sign if last_sign is not None and math.isfinite(last_sign) else None
    kind = last_kind if last is not None else None
    if last is not None and last >= start:
        return Quiet(last, None, kind)
    for reason, moment in (("checked", checked), ("away", away_end), ("resumed", resumed)):
        if moment is not None and math.isfinite(moment) and moment >= start:
            return Quiet(last, reason, kind)
    return Quiet(last, "began", kind)


def since_words(kinds: list[str], since: float, now: float, tz: ZoneInfo,
                quiet: Quiet) -> tuple[str, str]:
    """"no water or power since 06:35 (6 h 10 m)", noting a later moment the count starts from."""
    zh_kinds = kinds_in_words_zh(kinds)
    kinds_en = kinds_in_words(kinds)
    last = quiet.last_sign
    heard = since if quiet.reason is None or last is None else last  # when last heard from
    en = f"no {kinds_en} since {clock_time(heard, tz, now=now)} ({duration(now - heard)})"
    zh = f"自{clock_time(heard, tz, now=now)}起{duration_zh(now - heard)}没有{zh_kinds}"
    if quiet.last_kind == "visit" and last is not None:
        seen = clock_time(last, tz, now=now)
        en += f", when staff visited and saw the elder at {seen}"
        zh += f"（{seen}工作人员上门时见到老人）"
    if quiet.reason is not None:
        at = clock_time(since, tz, now=now)
        gone, gone_zh = duration(now - since), duration_zh(now - since)
        en_why, zh_why = {
            "checked": (f"staff checked at {at}", f"工作人员{at}已查看"),
            "away": (f"back from a recorded absence at {at}", f"记录的外出于{at}结束"),
            "resumed": (f"the hub (or its devices) could be heard again at {at}", f"网关（或设备）{at}恢复联系"),
            "began": (f"monitoring began at {at}", f"{at}开始监测"),
        }[quiet.reason]
        if last is None:
            en = f"no {kinds_en} seen yet; {en_why}, nothing since ({gone})"
            zh = f"尚未见到{zh_kinds}；{zh_why}，此后{gone_zh}没有动静"
        else:
            en += f"; {en_why}, nothing since ({gone})"
            zh += f"；{zh_why}，此后{gone_zh}没有动静"
    return en, zh


def _clock_hour(hours: float) -> str:
    minutes = round(hours * 60) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def silence_words(*, why: str, kinds: list[str], since: float, now: float, expected: float,
                  tz: ZoneInfo, last_door: float | None, learned_days: int, outing_h: float,
                  wake_h: float, wake_limit_h: float, ceiling_h: float,
                  quiet: Quiet | None = None, latest_wake_h: float = 24.0,
                  night_h: float | None = None, bed_early_h: float = math.nan,
                  bed_late_h: float = math.nan,
                  lit: tuple[float, float] = (math.nan, math.nan)) -> tuple[str, str]:
    """Why a learned detector alerts on a silence, in English and in Chinese.

    `why` is "day", "night", "out", "evening", "lights" or "ceiling" (see `detector.judge`); for
    "evening", `bed_early_h` and `bed_late_h` are the household's bedtime limits; for "lights",
    `lit` is the power since the silence began and the household's usual power at night (watts),
    `bed_late_h` its late bedtime limit; for "ceiling",
    `ceiling_h` is the household's safety limit and `night_h` its longest silences at home
    (calibrated), if known; a
    night's wake limit at `latest_wake_h` is the community's latest getting-up time.
    """
    quiet = quiet or Quiet(since, None)
    said, said_zh = since_words(kinds, since, now, tz, quiet)
    en_kinds, zh_kinds = kinds_in_words(kinds), kinds_in_words_zh(kinds)
    at = clock_time(since, tz, now=now)
    gone, gone_zh = duration(now - since), duration_zh(now - since)
    uses = max(1, round(expected))
    if why == "out":
        text = (f"probably went out: the door was used at {at} and "
                f"there has been no {en_kinds} since ({gone}), longer than this "
                f"home's outings usually last (back within {duration(outing_h * 3600)})")
        zh = (f"可能外出了：{at}开关过门，此后{gone_zh}没有{zh_kinds}，"
              f"比这户平常外出的时间更长（通常{duration_zh(outing_h * 3600)}内回来）")
    elif why == "night" and wake_limit_h >= latest_wake_h - 1e-3:
        limit = _clock_hour(latest_wake_h)
        text = (f"not up yet: {said}; nobody has been seen by {limit}, the latest getting-up "
                f"time this community allows (this home is usually up by {_clock_hour(wake_h)})")
        zh = (f"还没起床：{said_zh}；到{limit}仍未见任何动静，这是社区设定的最晚起床时间"
              f"（这户通常{_clock_hour(wake_h)}前起床）")
    elif why == "evening":
        early, late = _clock_hour(bed_early_h), _clock_hour(bed_late_h)
        text = (f"not gone to bed as usual: {said}; this home's last sign of the evening "
                f"comes after {early} and nearly always by {late}")
        zh = (f"没有像平常一样睡前活动：{said_zh}；这户晚上最后一次活动通常在{early}之后，"
              f"几乎总在{late}前")
    elif why == "lights":
        late, (floor, night) = _clock_hour(bed_late_h), lit
        text = (f"lights left on: {said}; the power has stayed at {floor:.0f} W or more since "
                f"(this home's nights: {night:.0f} W), past {late}, by when it has nearly "
                f"always switched off for the night")
        zh = (f"灯一直没关：{said_zh}；此后用电一直不低于{floor:.0f}瓦（这户夜里通常{night:.0f}瓦），"
              f"已过{late}，这户几乎总在此前关灯睡觉")
    elif why == "night":
        text = (f"not up yet: {said}; this home is usually up by "
                f"{_clock_hour(wake_h)} and nearly always by {_clock_hour(wake_limit_h)}")
        zh = (f"还没起床：{said_zh}；这户通常{_clock_hour(wake_h)}前起床，"
              f"几乎总在{_clock_hour(wake_limit_h)}前起床")
    else:
        text = (f"{said}; on a usual {weekday(now, tz)} this home shows about "
                f"{uses} sign{'s' if uses != 1 else ''} of life in that time")
        zh = f"{said_zh}；在平常的{weekday_zh(now, tz)}，这户在这段时间里约有{uses}次生活迹象"
    if why != "out" and last_door is not None:
        text += f"; last door event {clock_time(last_door, tz, now=now)}"
        zh += f"；最近一次开关门在{clock_time(last_door, tz, now=now)}"
    if why == "ceiling" and night_h is not None and math.isfinite(night_h):
        text += (f"; longer than this home is ever quiet at home (its longest silences, the "
                 f"night's included, last up to {duration(night_h * 3600)}): the safety limit "
                 f"of {duration(ceiling_h * 3600)}")
        zh += (f"；比这户在家最长的安静时间还长（包括夜里，最长约{duration_zh(night_h * 3600)}），"
               f"超过了安全上限{duration_zh(ceiling_h * 3600)}")
    elif why == "ceiling":
        text += f"; no silence may run past {duration(ceiling_h * 3600)}"
        zh += f"；任何静默都不应超过{duration_zh(ceiling_h * 3600)}"
    if learned_days < 7:
        text += (f" (still learning this home: {learned_days} day{'s' if learned_days != 1 else ''}"
                 " of history, so the community's usual rhythm counts too)")
        zh += f"（仍在学习这户的规律：只有{learned_days}天的记录，所以也参考社区的一般规律）"
    return text, zh


def no_water_words(since: float, last_sign: float, now: float, tz: ZoneInfo, *,
                   out_s: float = 0.0, asleep_s: float = 0.0) -> tuple[str, str]:
    """No water drawn at home; `out_s` of the time since the elder was out, `asleep_s` in her
    usual night (neither is counted towards the limit)."""
    at, other = clock_time(since, tz, now=now), clock_time(last_sign, tz, now=now)
    parts = [(f"{duration(s)} of it {what}", f"{zh}{duration_zh(s)}") for s, what, zh in
             ((out_s, "out", "外出"), (asleep_s, "in her usual night", "在平常睡觉的时间"))
             if s >= 60.0]
    out = "".join(f", {en}" for en, _ in parts)
    out_zh = f"（其中{'，'.join(zh for _, zh in parts)}）" if parts else ""
    return (f"no water drawn since {at} ({duration(now - since)}{out}), though other signs of "
            f"life went on until {other}",
            f"自{at}起{duration_zh(now - since)}没有用水{out_zh}，但其他生活迹象一直持续到{other}")


def running_words(kind: str, since: float, run_s: float, now: float, tz: ZoneInfo, *,
                  limit_s: float, learned: bool, started: float | None = None) -> tuple[str, str]:
    """Water or gas running too long, judged against the home's own runs when `learned`.

    `started` is when the run truly began, if staff closed an alert about it since (`since`):
    the run is judged from their check, but the words still say how long it has gone on."""
    at = clock_time(since, tz, now=now)
    name_zh = "水" if kind == "water" else "燃气"
    if learned:
        usual = f"this home's longest normal use lasts {duration(limit_s)}"
        usual_zh = f"这户平常最长一次使用为{duration_zh(limit_s)}"
    else:
        usual = f"usual use stops within {duration(limit_s)}"
        usual_zh = f"平常的使用在{duration_zh(limit_s)}内停止"
    if started is not None and started < since:
        begun = clock_time(started, tz, now=now)
        total = since - started + run_s
        return (f"{kind} has been running without a break since {begun} ({duration(total)}); "
                f"staff closed the earlier alert at {at} and it has run {duration(run_s)} since; "
                f"{usual}",
                f"{name_zh}自{begun}起不间断地使用了{duration_zh(total)}；工作人员{at}关闭了上一次"
                f"警报，此后又持续了{duration_zh(run_s)}；{usual_zh}")
    return (f"{kind} has been running without a break since {at} ({duration(run_s)}); {usual}",
            f"{name_zh}自{at}起不间断地使用了{duration_zh(run_s)}；{usual_zh}")


def hub_words(hub_ids: list[str], since: float, now: float, tz: ZoneInfo, *, welfare: bool,
              blind: bool, ever_heard: bool = True) -> tuple[str, str]:
    """A silent hub: a welfare check for a red or orange home we can no longer see, else a repair."""
    if welfare:
        advice, advice_zh = ("we cannot see this home: please check on the elder",
                             "我们看不到这户的情况：请上门查看老人")
    elif blind:
        advice, advice_zh = ("a device fault or power cut; arrange a repair",
                             "可能是设备故障或停电；请安排维修")
    else:
        advice, advice_zh = ("the home's other hub still reports; arrange a repair",
                             "这户的另一个网关仍在上报；请安排维修")
    names = ", ".join(hub_ids)
    at = clock_time(since, tz, now=now)
    last, last_zh = ((f"since {at}", f"自{at}起") if ever_heard
                     else ("since monitoring began", "自开始监测起"))
    return (f"hub {names} has sent nothing {last} ({duration(now - since)}); {advice}",
            f"网关 {names} {last_zh}{duration_zh(now - since)}没有发送任何数据；{advice_zh}")


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
    back = ctx.devices.back_at
    if alert.kind is AlertKind.HUB_OFFLINE and "devices" in alert.details and back is not None:
        return f"devices reachable again at {clock_time(back, tz, now=now)}"
    if alert.kind is AlertKind.HUB_OFFLINE and home.hub_last_seen_at:
        return f"hub heard again at {clock_time(home.hub_last_seen_at, tz, now=now)}"
    return "condition ended"
