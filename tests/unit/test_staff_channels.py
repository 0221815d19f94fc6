"""A staff member's channels: what may be entered, how it reads back, and the old fields."""

from __future__ import annotations

import pytest

from dispatch.gaps import channel_gaps
from shouwang.domain.channels import StaffChannel, check_phone, legacy, legacy_fields, with_legacy
from shouwang.domain.delivery import Channel
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Role, Staff
from shouwang.domain.webhooks import InvalidWebhook, check_channel, check_channels, parse_channel

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING = "https://oapi.dingtalk.com/robot/send?access_token=3d5c0f2e9b1a"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/9f8e7d6c-5b4a-3210"


def test_each_kind_is_read_from_its_command_line_form() -> None:
    assert parse_channel(f"wecom:{WECOM}", allow_http=False) == StaffChannel(Channel.WECOM, WECOM)
    ding = parse_channel(f"dingtalk:{DING}#SEC0123456789abcdef", allow_http=False)
    assert (ding.kind, ding.address, ding.secret) == (Channel.DINGTALK, DING, "SEC0123456789abcdef")
    feishu = parse_channel(f"FEISHU:{FEISHU}#secret=k3y&lang=en&msgtype=markdown", allow_http=False)
    assert (feishu.secret, feishu.lang, feishu.msgtype) == ("k3y", "en", "markdown")
    assert parse_channel("sms:+86 138-0000-0000", allow_http=False).address == "+8613800000000"
    assert parse_channel("mqtt", allow_http=False) == StaffChannel(Channel.MQTT)
    assert parse_channel("webhook:https://example.org/h", allow_http=False, lang="en").lang == "en"


@pytest.mark.parametrize(("spec", "says"), [
    ("telegram:https://example.org", "does not start with a kind"),
    ("wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "has no key="),
    ("dingtalk:https://oapi.dingtalk.com/robot/send?access_token=", "has no access_token="),
    ("feishu:https://open.feishu.cn/open-apis/bot/v2/hook/", "does not end in /hook/TOKEN"),
    (f"wecom:{WECOM}#s3cret", "takes no secret"),
    ("webhook:https://example.org/h#s3cret", "takes no secret"),
    ("sms:call me", "is not a phone number"),
    ("sms:12", "is not a phone number"),
    ("sms:12345", "a mobile number has 11 digits, this has 5"),  # found by a tester: taken
    ("sms:00000", "not only zeros"),  # found by a channels tester: taken
    ("sms:0000000", "not only zeros"),
    ("sms:123456", "a mobile number has 11 digits, this has 6"),
    ("sms:654321", "at least 7 digits, this has 6"),
    ("sms:+0 123 4567 890", "no country code begins with 0"),
    # found by a regression tester: past a country code, anything was taken
    ("sms:+86 00000", "not only zeros"),
    ("sms:0086 0000000", "not only zeros"),
    ("sms:+1 0000000", "not only zeros"),
    ("sms:+86 1000000", "a Beijing number has 10 digits after .86, this has 7"),
    ("sms:+86 138000000", "a mobile number has 11 digits, this has 9"),
    ("sms:+86 138 0000 000", "a mobile number has 11 digits, this has 10"),
    ("mqtt:somewhere", "takes no address"),
    (f"dingtalk:{DING}#secret=a&lang=fr", "language 'fr'"),
    (f"dingtalk:{DING}#a&b", "is not one of"),
    ("webhook:https://example.org/h#msgtype=markdown", "other channels text only"),
    ("wecom:http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "plain http"),
    ("webhook:https://<receiver>/", "placeholder"),
])
def test_a_channel_no_notification_could_reach_is_refused_saying_what_to_fix(spec: str, says: str) -> None:
    with pytest.raises(InvalidWebhook, match=says):
        parse_channel(spec, allow_http=False)


def test_plain_http_only_when_allowed() -> None:
    assert check_channel(Channel.WECOM, "http://127.0.0.1:8080/send?key=k", allow_http=True).address


def test_a_list_has_each_kind_once() -> None:
    with pytest.raises(InvalidWebhook, match="wecom is listed twice"):
        check_channels([StaffChannel(Channel.WECOM, WECOM), StaffChannel(Channel.WECOM, WECOM + "x")])


def test_secrets_and_robot_tokens_are_never_shown_in_full() -> None:
    channel = StaffChannel(Channel.DINGTALK, DING, "SEC0123456789abcdef")
    shown = channel.describe()
    assert "SEC0123456789abcdef" not in shown and "3d5c0f2e9b1a" not in shown
    assert shown == "dingtalk:https://oapi.dingtalk.com/robot/send?access_token=3d5c… secret SEC0…"
    assert StaffChannel(Channel.FEISHU, FEISHU).shown_address.endswith("/hook/9f8e…")
    assert StaffChannel(Channel.WECOM, WECOM).shown_address.endswith("?key=693a…")
    assert StaffChannel(Channel.WEBHOOK, "https://example.org/h").shown_address == "https://example.org/h"


def test_the_stored_form_round_trips() -> None:
    for channel in (StaffChannel(Channel.FEISHU, FEISHU, "k", "en", "markdown"), StaffChannel(Channel.MQTT)):
        assert StaffChannel.from_json(channel.as_json()) == channel


def test_staff_registered_before_channel_lists_keep_their_webhook_and_mqtt() -> None:
    old = Staff(1, "wang", "王芳", Role.GRID_MEMBER, webhook_url="https://example.org/h", notify_mqtt=True)
    assert old.reached_by == (StaffChannel(Channel.WEBHOOK, "https://example.org/h"),
                              StaffChannel(Channel.MQTT))
    assert Staff(2, "li", "李", Role.GRID_MEMBER, notify_mqtt=False).reached_by == ()
    listed = Staff(3, "z", "z", Role.GRID_MEMBER, webhook_url="https://ignored.example.org",
                   channels=(StaffChannel(Channel.SMS, "+8613800000000"),))
    assert [c.kind for c in listed.reached_by] == [Channel.SMS]


def test_the_old_fields_change_the_list_in_place() -> None:
    channels = (StaffChannel(Channel.WECOM, WECOM), StaffChannel(Channel.WEBHOOK, "https://a.example.org", lang="en"))
    moved = with_legacy(channels, webhook_url="https://b.example.org", notify_mqtt=True)
    assert moved == (channels[0], StaffChannel(Channel.WEBHOOK, "https://b.example.org", lang="en"),
                     StaffChannel(Channel.MQTT))
    assert with_legacy(moved, webhook_url=None, notify_mqtt=False) == (channels[0],)
    assert with_legacy((), webhook_url="https://c.example.org") == legacy("https://c.example.org", False)
    assert legacy_fields(moved) == {"webhook_url": "https://b.example.org", "notify_mqtt": True}


def test_start_up_says_who_cannot_be_told() -> None:
    roster = [Staff(1, "wang", "王芳", Role.GRID_MEMBER, notify_mqtt=False),
              Staff(2, "li", "李", Role.GRID_HEAD, channels=(StaffChannel(Channel.SMS, "+8613800000000"),)),
              Staff(3, "gone", "走", Role.GRID_MEMBER, notify_mqtt=False, active=False)]
    gaps = channel_gaps(roster, sms_gateway=False)
    assert gaps[0].en.startswith("wang has no channel") and "gone" not in gaps[0].en
    assert gaps[0].zh.startswith("wang 没有任何通知渠道")
    assert "sms channels of li fail" in gaps[1].en and "li 的短信渠道会发送失败" in gaps[1].zh
    assert channel_gaps(roster[1:], sms_gateway=True) == []


def test_a_mobile_a_digit_short_is_refused_and_landlines_and_numbers_abroad_are_not_judged() -> None:
    """Found by a tester: `--phone 1380000000`, a digit short, was taken."""
    with pytest.raises(InvalidInput, match="a mobile number has 11 digits, this has 10"):
        check_phone("1380000000")
    assert [check_phone(p) for p in ("13800000000", "+86 138-0000-0000", "010-12345678", "+1 415 555 0100")] == [
        "13800000000", "+86 138-0000-0000", "010-12345678", "+1 415 555 0100"]
    assert parse_channel("sms:+8613800138000", allow_http=False).address == "+8613800138000"
