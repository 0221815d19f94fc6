"""What a reminder and a colour suggestion say: Chinese first, short, with the household."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dispatch.care_message import tier_suggested, visit_overdue
from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.domain.tier_advice import TierSuggestion
from shouwang.domain.visits_due import VisitDue

TZ = ZoneInfo("Asia/Shanghai")
NOW = 1_790_000_000.0
DAY = 86400.0
HOME = Household("hh-7", Tier.YELLOW, "g-01", alias="李桂英", address="2号楼 202")
STAFF = Staff(1, "wang.fang", "王芳", Role.GRID_MEMBER, frozenset({"g-01"}))


def test_a_visit_three_days_late_says_so_in_days_and_names_the_last_visit() -> None:
    due = VisitDue("hh-7", Tier.YELLOW, NOW - 18 * DAY, NOW - 3 * DAY, 15 * DAY, (1,), NOW)
    body = visit_overdue(due, HOME, STAFF, tz=TZ, api_url=None)
    assert body["text_zh"].startswith("【走访提醒】李桂英（黄色，每半月走访）已逾期 3 天；上次走访 ")
    assert "3 days overdue" in body["text"] and "link" not in body
    assert body["visit"]["period"] == 1 and body["household"]["address"] == "2号楼 202"
    assert len(body["text_zh"]) < 80  # a phone notification's length


def test_a_household_never_visited_says_there_is_no_visit_yet() -> None:
    due = VisitDue("hh-7", Tier.YELLOW, None, NOW - 5 * 3600, 15 * DAY, (1,), NOW)
    body = visit_overdue(due, HOME, STAFF, tz=TZ, api_url="https://sw.example.org/")
    assert "已逾期 5 小时；还没有走访记录" in body["text_zh"]
    assert body["link"] == "https://sw.example.org/#/household/hh-7"


def test_a_suggestion_leaves_the_decision_to_the_person() -> None:
    body = tier_suggested(TierSuggestion("hh-7", Tier.YELLOW, Tier.ORANGE, (3, 5, 9)), HOME, STAFF,
                          window_days=30, api_url=None)
    assert body["event"] == "tier_suggested" and body["suggestion"]["alert_ids"] == [3, 5, 9]
    assert "最近 30 天有 3 次需要处理的警报，建议由黄色调为橙色" in body["text_zh"]
    assert "是否调整由您决定" in body["text_zh"]


def test_a_visit_that_has_just_fallen_due_says_it_is_due_not_zero_hours_late() -> None:
    due = VisitDue("hh-7", Tier.YELLOW, NOW - 15 * DAY - 60, NOW - 60, 15 * DAY, (1,), NOW)
    body = visit_overdue(due, HOME, STAFF, tz=TZ, api_url=None)
    assert "（黄色，每半月走访）已到走访时间；上次走访" in body["text_zh"] and "is due now" in body["text"]
