"""What a notification says: the alert, the home and what to do, as JSON, and the few words a phone
shows (`phone_text`, Chinese first) that robots, SMS and the JSON's `text` carry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from shouwang.domain.alerts import Alert, Severity
from shouwang.domain.delivery import Delivery, DeliveryEvent
from shouwang.domain.model import Household, Staff


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def notification(
    delivery: Delivery, alert: Alert, household: Household, staff: Staff, *, api_url: str | None,
    ack_token: str | None = None, told: Sequence[str] = (), lang: str = "zh", now: float | None = None,
    group: bool = False,
) -> dict[str, Any]:
    """The JSON every channel sends; with `ack_token`, a one-time link that acknowledges the alert
    as this recipient without signing in (`ack_link`). `text` is what a phone shows, in `lang`,
    naming the others `told`. A `group` (a WeCom, DingTalk or Feishu group's robot) is read by
    everyone in the chat: it gets no one-time link, which would let any of them act as the
    recipient (found by a tester), but the page's link to the household, where staff sign in."""
    body: dict[str, Any] = {
        "event": delivery.event.value,
        "delivery_id": delivery.id,
        "to": {"staff_id": staff.id, "name": staff.name, "role": staff.role.value},
        "alert": {
            "id": alert.id,
            "kind": alert.kind.value,
            "state": alert.state.value,
            "severity": alert.severity.value,
            "opened_at": iso(alert.opened_at),
            "since": iso(alert.since),
            "explanation": alert.explanation,
            "explanation_zh": alert.explanations["zh"],
            "escalation_level": alert.escalation_level,
            "outcome": alert.outcome.value if alert.outcome else None,
            "note": alert.note,
        },
        "household": {
            "id": household.id,
            "alias": household.alias,
            "address": household.address,
            "colour": household.tier.colour,
            "grid_id": household.grid_id,
        },
    }
    if api_url:
        body["acknowledge"] = f"{api_url.rstrip('/')}/alerts/{alert.id}/acknowledge"
        if group and delivery.event in ASKS_FOR_SOMEONE:
            body["page_link"] = f"{api_url.rstrip('/')}/#/household/{quote(household.id)}"
        elif ack_token and delivery.event in ASKS_FOR_SOMEONE:
            body["ack_link"] = f"{api_url.rstrip('/')}/ack/{ack_token}"
    body["text"] = phone_text(delivery.event, alert, household, told=told, lang=lang,
                              now=alert.opened_at if now is None else now,
                              link=body.get("ack_link") or body.get("page_link"),
                              sign_in="page_link" in body)
    return body


ASKS_FOR_SOMEONE = frozenset({DeliveryEvent.OPENED, DeliveryEvent.ESCALATED, DeliveryEvent.REMINDER})
"""Events that ask someone to go; the others only tell (acknowledged, resolved, cleared)."""


MAX_TEXT_CHARS = 160
"""The words of a phone notification, its link apart (on a line of its own, so a phone makes it a
link): about the four lines a lock screen shows; with a link of about 100 characters, four SMS
segments of 67 Chinese characters (found by a tester: this said three). Well within WeCom's 2,048
bytes and DingTalk's and Feishu's limits."""

_KIND = {
    "zh": {"inactivity": "长时间无动静", "no_water": "长时间未用水", "hub_offline": "设备离线",
           "water_running": "水流不停", "gas_running": "燃气长时间开启", "unusual_day": "今日异常",
           "help": "按下了求助按钮"},
    "en": {"inactivity": "no sign of life", "no_water": "no water used", "hub_offline": "hub offline",
           "water_running": "water running", "gas_running": "gas left on", "unusual_day": "unusual day",
           "help": "help button pressed"},
}
_COLOUR = {"zh": {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝", "green": "绿"}}
_WORDS = {
    "zh": {"opened": "请查看", "escalated": "无人确认，请处理", "reminder": "提醒：仍无人确认，请处理",
           "acknowledged": "已有人确认", "resolved": "已处理完毕", "cleared": "已自行解除", "urgent": "紧急",
           "for": "持续",
           "told": "已通知", "and": "、", "more": "等{n}人", "ack": "点此确认：", "sign_in": "登录处理：", "sep": "；",
           "brand": "【守望】"},
    "en": {"opened": "please check", "escalated": "nobody has taken it, please act",
           "reminder": "reminder: still nobody has taken it",
           "acknowledged": "someone is on it", "resolved": "resolved", "cleared": "cleared itself",
           "urgent": "URGENT", "for": "for", "told": "also told", "and": ", ", "more": "+{n} more",
           "ack": "Acknowledge: ", "sign_in": "Sign in to act: ", "sep": "; ", "brand": "[Shouwang] "},
}


def duration(seconds: float, lang: str) -> str:
    """"3小时20分" / "3 h 20 min": minutes under an hour, hours and minutes under a day, then days."""
    minutes = max(0, int(seconds // 60))
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if lang == "zh":
        if days:
            return f"{days}天{hours}小时" if hours else f"{days}天"
        return f"{hours}小时{mins}分" if hours else f"{mins}分钟"
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def phone_text(event: DeliveryEvent, alert: Alert, household: Household, *, told: Sequence[str],
               lang: str, now: float, link: str | None, sign_in: bool = False) -> str:
    """What a phone shows: who (household), what happened, for how long, who else was told, and
    the one-time link on the last line. The words before the link stay within MAX_TEXT_CHARS:
    the explanation gives way first, then the address, then the names of the others told."""
    lang = lang if lang in _WORDS else "zh"
    w = _WORDS[lang]
    colour = _COLOUR.get(lang, {}).get(household.tier.colour, household.tier.colour)
    home = f"{colour}{'色户 ' if lang == 'zh' else ' '}{household.alias or household.id}"
    urgent = f"{w['urgent']} " if alert.severity is Severity.URGENT and event in ASKS_FOR_SOMEONE else ""
    what = _KIND[lang].get(alert.kind.value, alert.kind.value)
    length = f"{w['for']}{'' if lang == 'zh' else ' '}{duration(now - alert.since, lang)}"
    explanation = alert.explanations["zh" if lang == "zh" else "en"]
    others = list(told)

    def compose(explained: str, address: str | None, names: list[str]) -> str:
        where = f"（{address}）" if address and lang == "zh" else f" ({address})" if address else ""
        head = f"{w['brand']}{urgent}{home}{where}{'：' if lang == 'zh' else ': '}{what}"
        parts = [head, length, explained, w[event.value]]
        if names:
            shown = w["and"].join(names)
            extra = len(others) - len(names)
            parts.append(f"{w['told']}{'' if lang == 'zh' else ' '}{shown}"
                         + (w["more"].format(n=len(others)) if extra else ""))
        return w["sep"].join(p for p in parts if p)

    text = compose(explanation, household.address, others)
    if len(text) > MAX_TEXT_CHARS:
        room = MAX_TEXT_CHARS - len(compose("", household.address, others)) - len(w["sep"])
        text = compose(_cut(explanation, room) if room >= 8 else "", household.address, others)
    if len(text) > MAX_TEXT_CHARS:
        text = compose("", _cut(household.address or "", 20) or None, others)
    for keep in range(len(others) - 1, -1, -1):
        if len(text) <= MAX_TEXT_CHARS:
            break
        text = compose("", None, others[:keep])
    text = _cut(text, MAX_TEXT_CHARS)
    if link and event in ASKS_FOR_SOMEONE:
        return f"{text}\n{w['sign_in' if sign_in else 'ack']}{link}"
    return text
