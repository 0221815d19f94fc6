"""The few words a phone shows: Chinese first, within the length bound, with who, what, how long,
who else was told and the one-time link."""

from __future__ import annotations

import pytest

from dispatch.message import MAX_TEXT_CHARS, duration, notification, phone_text
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Severity
from shouwang.domain.delivery import Channel, Delivery, DeliveryEvent, DeliveryStatus
from shouwang.domain.model import Household, Role, Staff, Tier

NOW = 1_750_000_000.0
LINK = "https://sw.example.org/ack/7.3.1750086400.abcdefghijkl.MAC0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
ALERT = Alert(7, "hh-1", AlertKind.INACTIVITY, AlertState.OPEN, Severity.URGENT, NOW, NOW - 12_000,
              "no water, power or door since 07:40",
              details={"explanation_zh": "自07:40起无用水、用电或开门"})
HOME = Household("hh-1", Tier.RED, "g-01", alias="王秀英", address="东园小区3栋2单元101")


def words(text: str) -> str:
    return text.split("\n", 1)[0]


def test_a_call_to_go_says_who_what_how_long_who_else_and_carries_the_link() -> None:
    text = phone_text(DeliveryEvent.OPENED, ALERT, HOME, told=["李明", "张华"], lang="zh", now=NOW,
                      link=LINK)
    head, last = text.split("\n")
    for part in ("红色户 王秀英", "东园小区3栋2单元101", "长时间无动静", "3小时20分", "自07:40起",
                 "已通知李明、张华", "紧急"):
        assert part in head
    assert last == f"点此确认：{LINK}"


def test_english_where_the_person_chose_it() -> None:
    text = phone_text(DeliveryEvent.ESCALATED, ALERT, HOME, told=["Li Ming"], lang="en", now=NOW,
                      link=LINK)
    assert words(text).startswith("[Shouwang] URGENT red 王秀英 (东园小区3栋2单元101): no sign of life")
    assert "for 3 h 20 min" in text and "also told Li Ming" in text and "nobody has taken it" in text
    assert text.endswith(f"Acknowledge: {LINK}")


def test_news_that_asks_nothing_carries_no_link_and_no_urgency() -> None:
    text = phone_text(DeliveryEvent.RESOLVED, ALERT, HOME, told=[], lang="zh", now=NOW, link=LINK)
    assert "\n" not in text and LINK not in text and "紧急" not in text and "已处理完毕" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_words_stay_within_the_bound_however_long_the_parts(lang: str) -> None:
    long_alert = Alert(7, "hh-1", AlertKind.INACTIVITY, AlertState.OPEN, Severity.URGENT, NOW, NOW - 90_000,
                       "quiet " * 200, details={"explanation_zh": "无动静" * 200})
    long_home = Household("hh-1", Tier.RED, "g-01", alias="王" * 30, address="东园小区" * 50)
    told = [f"网格员{i}号" for i in range(40)]
    text = phone_text(DeliveryEvent.OPENED, long_alert, long_home, told=told, lang=lang, now=NOW, link=LINK)
    assert len(words(text)) <= MAX_TEXT_CHARS
    assert text.endswith(LINK)  # the link is never cut
    assert ("1天1小时" if lang == "zh" else "1 d 1 h") in text  # how long survives the cuts


def test_the_explanation_gives_way_before_the_names_of_the_others() -> None:
    alert = Alert(7, "hh-1", AlertKind.INACTIVITY, AlertState.OPEN, Severity.URGENT, NOW, NOW - 600,
                  "x", details={"explanation_zh": "无动静" * 60})
    text = phone_text(DeliveryEvent.OPENED, alert, HOME, told=["李明", "张华"], lang="zh", now=NOW, link=None)
    assert len(text) <= MAX_TEXT_CHARS and text.endswith("已通知李明、张华")
    assert "…" in text and "10分钟" in text


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s, "zh") for s in (59, 45 * 60, 3 * 3600 + 20 * 60, 86400, 90000)] == [
        "0分钟", "45分钟", "3小时20分", "1天", "1天1小时"]
    assert duration(3 * 3600 + 20 * 60, "en") == "3 h 20 min"


def test_the_json_carries_the_phone_text_in_the_channels_language() -> None:
    delivery = Delivery(1, 7, 3, Channel.WECOM, DeliveryEvent.OPENED, DeliveryStatus.PENDING, 0, NOW, NOW)
    staff = Staff(3, "wang", "王芳", Role.GRID_MEMBER)
    body = notification(delivery, ALERT, HOME, staff, api_url="https://sw.example.org", ack_token="t.o.k.e.n",
                        told=["李明"], lang="zh", now=NOW)
    assert body["text"].endswith("\n点此确认：https://sw.example.org/ack/t.o.k.e.n")
    assert "已通知李明" in body["text"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("event", list(DeliveryEvent))
@pytest.mark.parametrize("kind", list(AlertKind))
def test_every_event_of_every_kind_has_words(event: DeliveryEvent, kind: AlertKind, lang: str) -> None:
    # A reminder and a help press once had none: their deliveries failed with a KeyError, retried for ever.
    alert = Alert(7, "hh-1", kind, AlertState.OPEN, Severity.URGENT, NOW, NOW - 600, "x")
    text = phone_text(event, alert, HOME, told=[], lang=lang, now=NOW, link=LINK)
    if lang == "zh":
        assert kind.value not in words(text)  # said in words, not the code's name
