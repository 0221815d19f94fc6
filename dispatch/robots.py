"""Group robots of the Chinese work apps, each as its service documents it.

- WeCom (企业微信) group robot: POST {"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}
  (or markdown) to .../cgi-bin/webhook/send?key=KEY; the answer {"errcode": 0, "errmsg": "ok"}.
  https://developer.work.weixin.qq.com/document/path/91770
- DingTalk (钉钉) custom robot: POST {"msgtype": "text", "text": {"content"}, "at": {"atMobiles"}}
  (or markdown with a title) to .../robot/send?access_token=TOKEN; when signing ("加签") is on, the
  URL also carries timestamp (ms) and sign = urlencode(base64(HmacSHA256(key=secret,
  "timestamp\\nsecret"))); the answer {"errcode": 0, "errmsg": "ok"}.
  https://open.dingtalk.com/document/robots/customize-robot-security-settings
- Feishu (飞书) custom bot: POST {"msg_type": "text", "content": {"text"}} (or "post" rich text) to
  .../open-apis/bot/v2/hook/TOKEN; when signing is on, the body also carries timestamp (s) and
  sign = base64(HmacSHA256(key="timestamp\\nsecret", message empty)); the answer {"code": 0, ...}.
  https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot

Each answers HTTP 200 even when it refused the message, so the code in the JSON decides: 0 is
delivered; "busy" or "too fast" is worth another attempt; anything else (a wrong token or
signature, a keyword the robot requires) will not get better by itself and is given up at once,
so the ladder moves on instead of waiting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import httpx

from dispatch import posting
from dispatch.channels import DeliveryFailed, Undeliverable
from shouwang.domain.channels import StaffChannel, find, mention_number
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Staff
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url

Request = tuple[str, dict[str, Any]]
"""The URL to POST to and the JSON body."""


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's `sign` parameter, URL-encoded as its documentation shows."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return quote_plus(base64.b64encode(mac.digest()).decode())


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's `sign`: the key is "timestamp\\nsecret", the message empty."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def text_of(body: dict[str, Any]) -> str:
    """The phone text of a notification (or of a test)."""
    return str(body.get("text") or body.get("message") or "")


def split_link(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(the text without its link line, the link's label, the link) for markdown and rich text."""
    text, link = text_of(body), body.get("ack_link") or body.get("page_link")
    if not link or not text.endswith(link):
        return text, None, None
    head, _, last = text.rpartition("\n")
    return head, last[: -len(link)].rstrip("：: ") or "ack", str(link)


class RobotSender:
    """One robot kind; the staff member's channel of that kind says where, how and in which form."""

    kind: Channel
    code_field = "errcode"
    retry_codes: frozenset[int] = frozenset({-1})
    """-1: the service is busy (all three document it); a subclass adds its rate limits."""

    def __init__(self, *, timeout_s: float, connect_timeout_s: float | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s or timeout_s)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._timeout_s = timeout_s
        self._wall = wall
        """Real time: the robots refuse a signature more than an hour from theirs."""

    def request(self, channel: StaffChannel, staff: Staff, body: dict[str, Any]) -> Request:
        raise NotImplementedError

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        channel = find(staff.reached_by, self.kind)
        if channel is None:
            raise Undeliverable(f"staff {staff.id} has no {self.kind.value} channel")
        try:
            check_webhook_url(channel.address, allow_http=True)
        except InvalidWebhook as exc:
            raise Undeliverable(f"{exc}; fix it with `shouwang staff update`") from None
        url, payload = self.request(channel, staff, body)
        shown = channel.shown_address
        content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = posting.post(self._client, url, content=content, headers={
                "User-Agent": "shouwang-dispatch", "Content-Type": "application/json; charset=utf-8"},
                deadline_s=self._timeout_s)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise Undeliverable(f"{self.kind.value} {shown}: {type(exc).__name__}: {exc}") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{self.kind.value} {shown}: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise posting.refusal(response, f"{self.kind.value} {shown}")
        return self._judge(response, shown)

    def _judge(self, response: posting.Answer, shown: str) -> str:
        try:
            answer = response.json()
            code = int(answer.get(self.code_field, answer.get("StatusCode")))
        except (ValueError, TypeError, AttributeError):
            raise DeliveryFailed(f"{self.kind.value} {shown} answered HTTP {response.status_code} "
                                 f"without a {self.code_field} ({posting.described(response)})") from None
        if code == 0:
            return f"HTTP {response.status_code}, {self.code_field} 0"
        message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        reason = f"{self.kind.value} {shown} refused it: {self.code_field} {code} {str(message)[:200]}"
        if code in self.retry_codes:
            raise DeliveryFailed(reason)
        raise Undeliverable(reason)

    def close(self) -> None:
        self._client.close()


class WeComSender(RobotSender):
    kind = Channel.WECOM
    retry_codes = frozenset({-1, 45009})  # 45009: the robot's 20 messages a minute are used up

    def request(self, channel: StaffChannel, staff: Staff, body: dict[str, Any]) -> Request:
        if channel.msgtype == "markdown":
            head, label, link = split_link(body)
            content = head + (f"\n[{label}]({link})" if link else "")
            return channel.address, {"msgtype": "markdown", "markdown": {"content": content}}
        text: dict[str, Any] = {"content": text_of(body)}
        if staff.phone:
            text["mentioned_mobile_list"] = [mention_number(staff.phone)]  # rings their phone too
        return channel.address, {"msgtype": "text", "text": text}


class DingTalkSender(RobotSender):
    kind = Channel.DINGTALK
    retry_codes = frozenset({-1, 130101, 410100})  # sending too fast

    def request(self, channel: StaffChannel, staff: Staff, body: dict[str, Any]) -> Request:
        url = channel.address
        if channel.secret:
            stamp = str(int(self._wall() * 1000))
            url += f"&timestamp={stamp}&sign={dingtalk_sign(channel.secret, stamp)}"
        at = {"atMobiles": [mention_number(staff.phone)] if staff.phone else [], "isAtAll": False}
        if channel.msgtype == "markdown":
            head, label, link = split_link(body)
            text = head + (f"\n\n[{label}]({link})" if link else "")
            title = head.split("\n", 1)[0][:30]
            return url, {"msgtype": "markdown", "markdown": {"title": title, "text": text}, "at": at}
        # DingTalk @-mentions someone only when their number also appears in the text.
        content = text_of(body) + (f"\n@{mention_number(staff.phone)}" if staff.phone else "")
        return url, {"msgtype": "text", "text": {"content": content}, "at": at}


class FeishuSender(RobotSender):
    kind = Channel.FEISHU
    code_field = "code"
    retry_codes = frozenset({-1, 11232})  # 11232: messages sent too often

    def request(self, channel: StaffChannel, staff: Staff, body: dict[str, Any]) -> Request:
        payload: dict[str, Any] = {}
        if channel.secret:
            stamp = str(int(self._wall()))
            payload = {"timestamp": stamp, "sign": feishu_sign(channel.secret, stamp)}
        if channel.msgtype == "markdown":
            head, label, link = split_link(body)
            lines: list[list[dict[str, str]]] = [[{"tag": "text", "text": head}]]
            if link:
                lines.append([{"tag": "a", "text": label or link, "href": link}])
            title = head.split("；", 1)[0][:30]
            post = {"zh_cn" if channel.lang == "zh" else "en_us": {"title": title, "content": lines}}
            return channel.address, {**payload, "msg_type": "post", "content": {"post": post}}
        return channel.address, {**payload, "msg_type": "text", "content": {"text": text_of(body)}}
