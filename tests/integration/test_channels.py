"""Each channel's request as its service documents it, against receivers served by the test; retries,
refusals, and the ladder moving on when nobody on a rung can be reached."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from dispatch.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, DeliveryFailed, Sender, WebhookSender, verify
from dispatch.senders import close, http_senders
from dispatch.service import Dispatcher
from shouwang.clock import FastClock
from shouwang.domain.alerts import Alert, AlertKind, Finding, Severity
from shouwang.domain.channels import StaffChannel
from shouwang.domain.delivery import Channel, DeliveryStatus
from shouwang.domain.model import Grid, Household, Role, Staff, Tier
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.state import StateStore
from tests.support import ServiceReceiver, wait_for

START = 1_750_000_000.0
DING_SECRET = "SECb1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2"
FEISHU_SECRET = "qKjZ8bQm2nW4xY6z"
COMMUNITY_SECRET = "community-secret"


@pytest.fixture
def robots() -> Iterator[ServiceReceiver]:
    server = ServiceReceiver()
    yield server
    server.close()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    store.registry.add_grid(Grid("g-a", "东园"))
    store.registry.add_household(Household("hh-1", Tier.RED, "g-a", alias="王秀英",
                                           address="东园3-2-101"), now=START)
    yield store
    store.close()


def channels_at(robots: ServiceReceiver, who: str) -> list[StaffChannel]:
    return [
        StaffChannel(Channel.WECOM, robots.url(f"{who}/wecom/cgi-bin/webhook/send") + "?key=wk-1"),
        StaffChannel(Channel.DINGTALK, robots.url(f"{who}/ding/robot/send") + "?access_token=dt-1",
                     DING_SECRET),
        StaffChannel(Channel.FEISHU, robots.url(f"{who}/feishu/open-apis/bot/v2/hook/fs-1"), FEISHU_SECRET,
                     lang="en"),
        StaffChannel(Channel.SMS, "+8613800000001"),
    ]


def start(state: StateStore, robots: ServiceReceiver, clock: FastClock,
          **settings: Any) -> tuple[Dispatcher, dict[Channel, Sender]]:
    d = DispatchSettings(poll_s=0.05, retry_initial_s=0.05, retry_max_s=0.2, webhook_timeout_s=2,
                         ladders_min={"red": [5, 15]}, sms_gateway_url=robots.url("sms"),
                         sms_template={"mobile": "{phone}", "content": "{text}", "sign": "守望"},
                         sms_answer_code_field="code", **settings)
    senders = http_senders(d, secret=COMMUNITY_SECRET)
    service = Dispatcher(settings=d, state=state, clock=clock, metrics=Metrics(), senders=senders,
                         api_url="https://sw.example.org", link_secret="link-secret")
    service.start()
    return service, senders


def open_alert(state: StateStore, clock: FastClock) -> Alert:
    alert = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, START - 7200,
                                      "no water, power or door since 07:40",
                                      explanation_zh="自07:40起无用水、用电或开门"), now=clock.now())
    assert alert is not None
    return alert


def within_an_hour(stamp_s: float) -> bool:
    return abs(time.time() - stamp_s) < 3600


def test_each_channel_sends_what_its_service_documents(state: StateStore, robots: ServiceReceiver) -> None:
    robots.script["/sms"] = [(200, {"code": 0, "message": "queued"})]
    state.registry.add_staff(username="wang", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-a"],
                             # as colleagues write it; robots match the bare number (found by a tester)
                             phone="+86 138-0000-0001", channels=channels_at(robots, "wang"), now=START)
    clock = FastClock(START, 1.0)
    service, senders = start(state, robots, clock)
    try:
        alert = open_alert(state, clock)
        wait_for(lambda: all(d.status is DeliveryStatus.DELIVERED for d in state.alerts.deliveries(alert.id))
                 and len(state.alerts.deliveries(alert.id)) == 4, what="all four channels")
    finally:
        service.stop()
        close(senders)

    # WeCom group robot (https://developer.work.weixin.qq.com/document/path/91770): the key in the
    # URL, {"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}; content ≤ 2048 bytes.
    ((query, headers, body),) = robots.to("wang/wecom/cgi-bin/webhook/send")
    assert query == {"key": ["wk-1"]} and headers["Content-Type"].startswith("application/json")
    assert body["msgtype"] == "text" and body["text"]["mentioned_mobile_list"] == ["13800000001"]
    content = body["text"]["content"]
    assert content.startswith("【守望】紧急 红色户 王秀英（东园3-2-101）：长时间无动静")
    assert len(content.encode()) <= 2048
    # A group's robot is read by everyone in the chat: found by a tester, the one-time link in it let
    # any of them acknowledge and resolve as 王芳. The group gets the page, where staff sign in.
    assert "/ack/" not in content and content.endswith("\n登录处理：https://sw.example.org/#/household/hh-1")
    assert "ack_link" not in body

    # DingTalk custom robot, signed (https://open.dingtalk.com/document/robots/customize-robot-security-settings):
    # timestamp in ms within an hour; sign = urlencode(base64(HmacSHA256(secret, "timestamp\nsecret"))).
    ((query, _, body),) = robots.to("wang/ding/robot/send")
    stamp = query["timestamp"][0]
    expected = hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    assert query["access_token"] == ["dt-1"] and within_an_hour(int(stamp) / 1000)
    assert query["sign"] == [base64.b64encode(expected).decode()]  # parse_qs undid the URL encoding
    assert body["msgtype"] == "text" and body["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert "长时间无动静" in body["text"]["content"] and body["text"]["content"].endswith("@13800000001")

    # Feishu custom bot, signed (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot):
    # timestamp in s and sign = base64(HmacSHA256(key "timestamp\nsecret", empty message)) in the body.
    ((_, _, body),) = robots.to("wang/feishu/open-apis/bot/v2/hook/fs-1")
    expected = hmac.new(f"{body['timestamp']}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()
    assert body["sign"] == base64.b64encode(expected).decode() and within_an_hour(int(body["timestamp"]))
    assert body["msg_type"] == "text"
    assert body["content"]["text"].startswith("[Shouwang] URGENT red 王秀英")  # she chose English here

    # The community's SMS gateway: its template filled in, signed like the webhook.
    ((_, headers, body),) = robots.to("sms")
    assert set(body) == {"mobile", "content", "sign"} and body["mobile"] == "+8613800000001"
    assert body["sign"] == "守望" and "长时间无动静" in body["content"]
    raw = next(b for p, _, _, b in robots.requests if p == "/sms")
    assert verify(COMMUNITY_SECRET, headers[TIMESTAMP_HEADER], raw, headers[SIGNATURE_HEADER], now=time.time())


def test_a_robot_that_is_busy_then_recovers_gets_the_message(
    state: StateStore, robots: ServiceReceiver,
) -> None:
    busy = {"errcode": -1, "errmsg": "system busy"}
    robots.script["/wang/wecom/cgi-bin/webhook/send"] = [(200, busy), (503, {}), (200, busy)]
    wecom = channels_at(robots, "wang")[0]
    state.registry.add_staff(username="wang", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-a"],
                             channels=[wecom], now=START)
    clock = FastClock(START, 1.0)
    service, senders = start(state, robots, clock)
    try:
        alert = open_alert(state, clock)
        wait_for(lambda: [d.status for d in state.alerts.deliveries(alert.id)] == [DeliveryStatus.DELIVERED],
                 what="the WeCom message to get through")
    finally:
        service.stop()
        close(senders)
    delivery = state.alerts.deliveries(alert.id)[0]
    assert delivery.attempts == 4 and len(robots.to("wang/wecom/cgi-bin/webhook/send")) == 4


def test_a_refusal_in_a_200_answer_is_a_failure_with_its_reason(
    state: StateStore, robots: ServiceReceiver,
) -> None:
    robots.script["/wang/ding/robot/send"] = [(200, {"errcode": 310000, "errmsg": "sign not match"})]
    robots.script["/wang/feishu/open-apis/bot/v2/hook/fs-1"] = [
        (200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour", "data": {}})]
    state.registry.add_staff(username="wang", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-a"],
                             channels=channels_at(robots, "wang")[1:3], now=START)
    clock = FastClock(START, 1.0)
    service, senders = start(state, robots, clock)
    try:
        alert = open_alert(state, clock)
        wait_for(lambda: [d.status for d in state.alerts.deliveries(alert.id)] == [DeliveryStatus.FAILED] * 2,
                 what="both refusals to be recorded")
    finally:
        service.stop()
        close(senders)
    ding, feishu = state.alerts.deliveries(alert.id)
    assert ding.attempts == 1 and "errcode 310000 sign not match" in (ding.last_error or "")
    assert feishu.attempts == 1 and "code 19021" in (feishu.last_error or "")
    assert "dt-1" not in (ding.last_error or "")  # the robot's token is cut short in what is kept


def test_the_ladder_climbs_at_once_when_nobody_on_the_rung_can_be_reached(
    state: StateStore, robots: ServiceReceiver,
) -> None:
    # The grid member: a WeCom robot with a wrong key (refused for good) and an SMS gateway that
    # keeps answering 503 (retried; counts as not getting through after 3 attempts).
    robots.script["/wang/wecom/cgi-bin/webhook/send"] = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    robots.script["/sms"] = [(503, {})] * 50
    wang = channels_at(robots, "wang")
    state.registry.add_staff(username="wang", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-a"],
                             channels=[wang[0], wang[3]], now=START)
    state.registry.add_staff(username="zhao", name="赵强", role=Role.GRID_HEAD, grid_ids=["g-a"],
                             channels=[channels_at(robots, "zhao")[0]], now=START)
    clock = FastClock(START, 1.0)  # the red ladder's first wait is 5 minutes: far beyond this test
    service, senders = start(state, robots, clock, move_on_after_attempts=3)
    try:
        alert = open_alert(state, clock)
        wait_for(lambda: robots.to("zhao/wecom/cgi-bin/webhook/send"), timeout_s=15,
                 what="the grid head to be told")
    finally:
        service.stop()
        close(senders)
    assert clock.now() - START < 60
    climbed = [e for e in state.audit.for_entity("alert", alert.id) if e.action == "escalated"]
    assert len(climbed) == 1 and climbed[0].details["level"] == 1
    reason = climbed[0].details["reason"]
    assert "every channel of rung 0 failed" in reason and "errcode 93000" in reason and "503" in reason
    (_, _, body), = robots.to("zhao/wecom/cgi-bin/webhook/send")
    assert "已通知王芳" in body["text"]["content"] and "无人确认" in body["text"]["content"]
    # The next rung's wait counts from the climb, as if the first wait had run out then.
    assert state.alerts.get(alert.id).next_escalation_at == pytest.approx(climbed[0].at + 15 * 60)


def test_robots_in_markdown_carry_the_link_as_a_link(robots: ServiceReceiver) -> None:
    link = "https://sw.example.org/ack/1.1.9.n.s"
    body = {"text": f"【守望】红色户 王秀英：长时间无动静\n点此确认：{link}", "ack_link": link}
    staff = Staff(1, "wang", "王芳", Role.GRID_MEMBER, channels=tuple(
        dataclasses.replace(c, msgtype="markdown") for c in channels_at(robots, "wang")[:3]))
    senders = http_senders(DispatchSettings(webhook_timeout_s=2), secret=None)
    try:
        for kind in (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU):
            assert "0" in senders[kind].send(staff, body)
    finally:
        close(senders)
    ((_, _, wecom),) = robots.to("wang/wecom/cgi-bin/webhook/send")
    assert wecom == {"msgtype": "markdown",
                     "markdown": {"content": f"【守望】红色户 王秀英：长时间无动静\n[点此确认]({link})"}}
    ((_, _, ding),) = robots.to("wang/ding/robot/send")
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"] == "【守望】红色户 王秀英：长时间无动静"
    assert ding["markdown"]["text"].endswith(f"\n\n[点此确认]({link})")
    ((_, _, feishu),) = robots.to("wang/feishu/open-apis/bot/v2/hook/fs-1")
    assert feishu["msg_type"] == "post"
    assert feishu["content"]["post"]["en_us"]["content"][1] == [{"tag": "a", "text": "点此确认", "href": link}]


def test_what_a_receiver_answers_decides_when_or_whether_it_is_tried_again(robots: ServiceReceiver) -> None:
    """Found by a channels tester: a Retry-After was ignored (asked again after 2 and 4 seconds),
    and redirects and 4xx answers were retried for a day, where the redirect pointed unsaid."""
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    robots.script["/hook"] = [(429, {}, {"Retry-After": "7"}), (503, {}, {"Retry-After": soon}), (500, {}),
                              (302, {}, {"Location": "http://169.254.169.254/latest"}), (404, {}), (410, {}),
                              (408, {})]
    sender = WebhookSender(timeout_s=2)
    member = Staff(1, "wang", "王芳", Role.GRID_MEMBER, webhook_url=robots.url("hook"))
    outcomes = []
    try:
        for _ in range(7):
            with pytest.raises(DeliveryFailed) as failed:
                sender.send(member, {"event": "test"})
            outcomes.append((type(failed.value).__name__, failed.value.retry_after_s, str(failed.value)))
    finally:
        sender.close()
    assert outcomes[0][:2] == ("DeliveryFailed", 7.0)
    assert outcomes[1][0] == "DeliveryFailed" and 25 < (outcomes[1][1] or 0) <= 30
    assert outcomes[2][:2] == ("DeliveryFailed", None)
    assert outcomes[3][0] == "Undeliverable" and "moving to 'http://169.254.169.254/latest'" in outcomes[3][2]
    assert [o[0] for o in outcomes[4:6]] == ["Undeliverable", "Undeliverable"] and "HTTP 404" in outcomes[4][2]
    assert outcomes[6][0] == "DeliveryFailed", "408: later, not never"


def test_a_throttled_receiver_is_asked_again_no_sooner_than_it_said(
        state: StateStore, robots: ServiceReceiver) -> None:
    robots.script["/wang"] = [(429, {}, {"Retry-After": "3"})]
    state.registry.add_staff(username="wang", name="王芳", role=Role.GRID_MEMBER, grid_ids=["g-a"],
                             webhook_url=robots.url("wang"), notify_mqtt=False, now=START)
    clock = FastClock(START, 1.0)
    service, senders = start(state, robots, clock)
    try:
        open_alert(state, clock)
        wait_for(lambda: [r for r in robots.requests if r[0] == "/wang"], what="the first attempt")
        first = time.monotonic()
        wait_for(lambda: len([r for r in robots.requests if r[0] == "/wang"]) == 2, timeout_s=20,
                 what="the second attempt")
        waited_s = time.monotonic() - first
    finally:
        service.stop()
        close(senders)
    assert waited_s >= 2.5, f"asked again after {waited_s:.1f} s where it said 3"
