"""The SMS or voice gateway a community contracts, reached by a signed JSON POST.

Gateways differ (a carrier's, a cloud provider's, a local voice-call service), so the body is the
community's template (`dispatch.sms_template`) with the phone number and the phone text put into its
strings, signed like the generic webhook so the gateway (or the relay in front of it) can tell ours
from a forgery. A gateway that answers 200 with a refusal in its JSON is told by
`sms_answer_code_field`/`sms_answer_ok`.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx

from dispatch import posting
from dispatch.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, DeliveryFailed, Undeliverable, sign
from dispatch.robots import text_of
from shouwang.domain.channels import find
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Staff
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: Any, values: dict[str, str]) -> Any:
    """The template with each {name} in its strings replaced; keys and non-strings untouched, so
    nothing in the text can change the JSON's shape."""
    if isinstance(template, str):  # one pass: a "{phone}" inside the text stays as written
        return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


class SmsGatewaySender:
    def __init__(self, *, url: str | None, template: dict[str, Any], timeout_s: float,
                 connect_timeout_s: float | None = None, secret: str | None = None,
                 code_field: str | None = None, ok_value: str = "0") -> None:
        timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s or timeout_s)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._timeout_s = timeout_s
        self._url = url
        self._template = template
        self._secret = secret
        self._code_field = code_field
        self._ok_value = ok_value

    @property
    def url(self) -> str | None:
        return self._url

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        channel = find(staff.reached_by, Channel.SMS)
        if channel is None:
            raise Undeliverable(f"staff {staff.id} has no sms channel")
        alert_id = (body.get("alert") or {}).get("id")
        return self.send_text(channel.address, text_of(body), name=staff.name, alert_id=alert_id)

    def send_text(self, phone: str, text: str, *, name: str, alert_id: int | None) -> str:
        """Text `phone` through the gateway (a staff member's, or a relative's), saying how it went."""
        if not self._url:
            raise Undeliverable("no SMS gateway is configured: set dispatch.sms_gateway_url "
                                "(SHOUWANG_DISPATCH__SMS_GATEWAY_URL)")
        try:
            url = check_webhook_url(self._url, allow_http=True).url
        except InvalidWebhook as exc:
            raise Undeliverable(f"dispatch.sms_gateway_url: {exc}") from None
        payload = fill(self._template, {"phone": phone, "text": text, "name": name,
                                        "alert_id": str(alert_id or "")})
        content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"User-Agent": "shouwang-dispatch", "Content-Type": "application/json; charset=utf-8"}
        if self._secret is not None:
            stamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = sign(self._secret, stamp, content)
        try:
            response = posting.post(self._client, url, content=content, headers=headers,
                                    deadline_s=self._timeout_s)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"sms gateway: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise posting.refusal(response, "sms gateway")
        return self._judge(response)

    def _judge(self, response: posting.Answer) -> str:
        if self._code_field is None:
            return f"HTTP {response.status_code}"
        try:
            code = response.json()[self._code_field]
        except (ValueError, KeyError, TypeError):
            raise DeliveryFailed(f"sms gateway answered {response.status_code} without "
                                 f"{self._code_field} ({posting.described(response)})") from None
        if str(code) != self._ok_value:
            raise DeliveryFailed(f"sms gateway refused it: {self._code_field} {str(code)[:100]}")
        return f"HTTP {response.status_code}, {self._code_field} {code}"

    def close(self) -> None:
        self._client.close()
