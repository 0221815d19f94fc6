"""What a relative is told and where they may be reached: a phone number or a webhook, checked
where it is entered; a short Chinese text with their link on a line of its own."""

from __future__ import annotations

import pytest

from dispatch.family import family_message, family_text
from dispatch.message import MAX_TEXT_CHARS
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Severity
from shouwang.domain.cover import FamilyContact
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Household, Tier
from shouwang.domain.webhooks import InvalidWebhook, check_family_channel

NOW = 1_750_000_000.0
LINK = "https://sw.example.org/family/7.9.1750086400.abcdefghijkl.MAC0123456789abcdefghijklmnopqrstuvwxyz"
ALERT = Alert(7, "hh-1", AlertKind.HELP, AlertState.OPEN, Severity.URGENT, NOW - 300, NOW - 300,
              "the help button was pressed", details={"explanation_zh": "按下了求助按钮"})
HOME = Household("hh-1", Tier.RED, "g-01", alias="王秀英", address="东园小区3栋2单元101")
SON = FamilyContact(9, "hh-1", "王小明", "儿子", "sms", "13800138000", "王小明", NOW)


def test_a_relative_is_reached_by_a_phone_number_or_a_webhook() -> None:
    assert check_family_channel("sms", "+86 138-0013-8000") == (Channel.SMS, "+8613800138000")
    assert check_family_channel("SMS", "13800138000") == (Channel.SMS, "13800138000")
    assert check_family_channel("webhook", " http://relay.example.org/sms ") == (
        Channel.WEBHOOK, "http://relay.example.org/sms")


@pytest.mark.parametrize(("kind", "address", "says"), [
    ("sms", "call my son", "is not a phone number"),
    ("sms", "https://example.org/sms", "is not a phone number"),
    ("webhook", "13800138000", "not an http(s) URL"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "reached by sms or webhook"),
    ("mqtt", "", "reached by sms or webhook"),
])
def test_an_address_nobody_could_be_reached_at_is_refused_saying_why(kind: str, address: str, says: str) -> None:
    with pytest.raises(InvalidWebhook, match=says.replace("(", r"\(").replace(")", r"\)")):
        check_family_channel(kind, address)


def test_the_text_says_whose_home_what_how_long_and_carries_the_link_on_its_own_line() -> None:
    words, link = family_text(ALERT, HOME, SON, now=NOW, link=LINK).split("\n")
    assert words == ("【守望】王小明您好：王秀英（东园小区3栋2单元101）按下了求助按钮，已5分钟。"
                     "社区工作人员也已收到通知。请尽快打电话或上门看看，然后点下面的链接告诉我们。")
    assert link == LINK


def test_without_a_link_nothing_asks_them_to_click() -> None:
    text = family_text(ALERT, HOME, SON, now=NOW, link=None)
    assert "\n" not in text and "链接" not in text and text.endswith("上门看看。")


def test_a_long_address_gives_way_and_the_words_stay_short() -> None:
    home = Household("hh-1", Tier.RED, "g-01", alias="王秀英", address="东园街道" * 40)
    words = family_text(ALERT, home, SON, now=NOW, link=LINK).split("\n")[0]
    assert len(words) <= MAX_TEXT_CHARS and "（东园街道东园街道东园街道东园街道东园街…）" in words
    named = FamilyContact(9, "hh-1", "王" * 200, "儿子", "sms", "13800138000", "x", NOW)
    assert len(family_text(ALERT, home, named, now=NOW, link=LINK).split("\n")[0]) == MAX_TEXT_CHARS


def test_the_message_carries_the_text_and_the_link_for_a_webhook() -> None:
    message = family_message(ALERT, HOME, SON, now=NOW, link=LINK)
    assert message["answer_link"] == LINK and message["text"].endswith(LINK)
    assert message["to"] == {"contact_id": 9, "name": "王小明", "relation": "儿子"}
