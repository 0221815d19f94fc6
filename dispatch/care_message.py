"""What a care notice says: an overdue visit or a suggested colour, Chinese first, as JSON.

Short enough for a phone notification: the household, what is due or suggested, since when, and
the link to the household's page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shouwang.domain.model import Household, Staff, Tier
from shouwang.domain.notices import NoticeKind
from shouwang.domain.tier_advice import TierSuggestion
from shouwang.domain.visits_due import VisitDue

COLOUR_ZH = {Tier.RED: "红色", Tier.ORANGE: "橙色", Tier.YELLOW: "黄色", Tier.BLUE: "蓝色", Tier.GREEN: "绿色"}
CADENCE_ZH = {1: "每天", 7: "每周", 15: "每半月", 30: "每月", 91: "每季度"}


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _local(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%m-%d %H:%M")


def _cadence_zh(days: float) -> str:
    return CADENCE_ZH.get(round(days)) or f"每 {days:g} 天"


def _household(h: Household) -> dict[str, Any]:
    return {"id": h.id, "alias": h.alias, "address": h.address, "colour": h.tier.colour,
            "grid_id": h.grid_id}


def _base(kind: NoticeKind, household: Household, staff: Staff, api_url: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": kind.value,
        "to": {"staff_id": staff.id, "name": staff.name, "role": staff.role.value},
        "household": _household(household),
    }
    if api_url:
        body["link"] = f"{api_url.rstrip('/')}/#/household/{household.id}"
    return body


def visit_overdue(due: VisitDue, household: Household, staff: Staff, *, tz: ZoneInfo,
                  api_url: str | None) -> dict[str, Any]:
    """A reminder to the person who claimed the household's visits."""
    name = household.alias or household.id
    days = due.every_s / 86400
    late_h = due.overdue_s / 3600
    late_zh = ("已到走访时间" if late_h < 1 else
               f"已逾期 {late_h / 24:.0f} 天" if late_h >= 48 else f"已逾期 {late_h:.0f} 小时")
    late_en = ("is due now" if late_h < 1 else
               f"is {late_h / 24:.0f} days overdue" if late_h >= 48 else f"is {late_h:.0f} h overdue")
    last_zh = f"上次走访 {_local(due.last_visit_at, tz)}" if due.last_visit_at else "还没有走访记录"
    last_en = f"last visit {_local(due.last_visit_at, tz)}" if due.last_visit_at else "never visited yet"
    body = _base(NoticeKind.VISIT_OVERDUE, household, staff, api_url)
    body["visit"] = {"last_visit_at": _iso(due.last_visit_at), "due_at": _iso(due.due_at),
                     "overdue_h": round(late_h, 1), "every_days": days, "period": due.period}
    body["text_zh"] = (f"【走访提醒】{name}（{COLOUR_ZH[household.tier]}，{_cadence_zh(days)}走访）"
                       f"{late_zh}；{last_zh}。走访后请在页面上记录。")
    body["text"] = (f"[Visit due] {name} ({household.tier.colour}, every {days:g} days) "
                    f"{late_en}; {last_en}. Record the visit on the page.")
    return body


def tier_suggested(suggestion: TierSuggestion, household: Household, staff: Staff, *,
                   window_days: float, api_url: str | None) -> dict[str, Any]:
    """A suggestion to the household's caseworker: consider a hotter colour."""
    name = household.alias or household.id
    n = len(suggestion.alert_ids)
    body = _base(NoticeKind.TIER_SUGGESTED, household, staff, api_url)
    body["suggestion"] = {"from": suggestion.from_tier.colour, "to": suggestion.to_tier.colour,
                          "alert_ids": list(suggestion.alert_ids), "window_days": window_days}
    body["text_zh"] = (f"【调色建议】{name} 最近 {window_days:g} 天有 {n} 次需要处理的警报，"
                       f"建议由{COLOUR_ZH[suggestion.from_tier]}调为{COLOUR_ZH[suggestion.to_tier]}。"
                       "是否调整由您决定，请在页面上确认或保留原色并说明理由。")
    body["text"] = (f"[Colour] {name} had {n} genuine alerts in {window_days:g} days; consider "
                    f"raising it from {suggestion.from_tier.colour} to {suggestion.to_tier.colour}. "
                    "Your decision: change it or keep it, with a reason, on the page.")
    return body
