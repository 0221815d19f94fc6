"""Notification channels: a JSON POST to a staff member's webhook, or their MQTT topic."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Protocol

import httpx

from dispatch import posting
from shouwang.contract.topics import staff_topic
from shouwang.domain.errors import ShouwangError
from shouwang.domain.model import Staff
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url
from shouwang.mqtt import MqttClient


class DeliveryFailed(ShouwangError):
    """This attempt failed; a later one may get through (no sooner than `retry_after_s`, when the
    receiver said when)."""

    retry_after_s: float | None = None


class Undeliverable(DeliveryFailed):
    """No attempt can ever get through (e.g. an address that is not a URL): give up at once."""


class Sender(Protocol):
    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        """Deliver and say how ("HTTP 204"), or raise DeliveryFailed."""
        ...


SIGNATURE_HEADER = "X-Shouwang-Signature"
TIMESTAMP_HEADER = "X-Shouwang-Timestamp"


def sign(secret: str, timestamp: str, content: bytes) -> str:
    """"sha256=<hex>": HMAC-SHA256 with the community's secret over "<timestamp>." + the body."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + content, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, content: bytes, signature: str, *, now: float,
           max_age_s: float = 300.0) -> bool:
    """What a webhook receiver checks: the body came from us, unchanged, recently."""
    try:
        fresh = abs(now - float(timestamp)) <= max_age_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, content), signature)


class WebhookSender:
    """JSON POSTs, signed (when a secret is given) so a receiver can tell ours from a forgery."""

    def __init__(self, *, timeout_s: float, connect_timeout_s: float | None = None,
                 secret: str | None = None) -> None:
        timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s or timeout_s)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._timeout_s = timeout_s
        self._secret = secret

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        if not staff.webhook_url:
            raise Undeliverable(f"staff {staff.id} has no webhook url")
        try:
            url = check_webhook_url(staff.webhook_url, allow_http=True).url
        except InvalidWebhook as exc:  # stored before addresses were checked at entry
            raise Undeliverable(f"{exc}; fix it with `shouwang staff update`") from None
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"User-Agent": "shouwang-dispatch", "Content-Type": "application/json"}
        if self._secret is not None:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, content)
        try:
            response = posting.post(self._client, url, content=content, headers=headers,
                                    deadline_s=self._timeout_s)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise Undeliverable(f"webhook {url}: {type(exc).__name__}: {exc}") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"webhook {url}: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise posting.refusal(response, f"webhook {url}")
        return f"HTTP {response.status_code}"

    def close(self) -> None:
        self._client.close()


class MqttSender:
    """A staff member's MQTT topic: delivered only once the broker acknowledged it (PUBACK); a
    broker that refuses it (an MQTT 5 reason code, e.g. not authorized) makes a failed attempt."""

    def __init__(self, client: MqttClient, *, prefix: str, ack_timeout_s: float = 10.0) -> None:
        self._client = client
        self._prefix = prefix
        self._ack_timeout_s = ack_timeout_s

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        if not self._client.connected:
            raise DeliveryFailed("not connected to the MQTT broker")
        topic = staff_topic(self._prefix, staff.id)
        try:
            self._client.publish_confirmed(topic, json.dumps(body, ensure_ascii=False),
                                           timeout_s=self._ack_timeout_s)
        except ShouwangError as exc:
            raise DeliveryFailed(str(exc)) from exc
        return f"published to {topic} (QoS 1), acknowledged by the broker"
