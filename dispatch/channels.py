"""Notification channels: a JSON POST to a staff member's webhook, or their MQTT topic."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Protocol

import httpx

from gateway.topics import staff_topic
from shouwang.domain.errors import ShouwangError
from shouwang.domain.model import Staff
from shouwang.mqtt import MqttClient


class DeliveryFailed(ShouwangError):
    pass


class Sender(Protocol):
    def send(self, staff: Staff, body: dict[str, Any]) -> None:
        """Deliver or raise DeliveryFailed."""
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

    def __init__(self, *, timeout_s: float, secret: str | None = None) -> None:
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._secret = secret

    def send(self, staff: Staff, body: dict[str, Any]) -> None:
        if not staff.webhook_url:
            raise DeliveryFailed(f"staff {staff.id} has no webhook url")
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"User-Agent": "shouwang-dispatch", "Content-Type": "application/json"}
        if self._secret is not None:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, content)
        try:
            response = self._client.post(staff.webhook_url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"webhook {staff.webhook_url}: {exc!r}") from exc
        if not response.is_success:
            raise DeliveryFailed(f"webhook {staff.webhook_url} answered {response.status_code}")

    def close(self) -> None:
        self._client.close()


class MqttSender:
    def __init__(self, client: MqttClient, *, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def send(self, staff: Staff, body: dict[str, Any]) -> None:
        if not self._client.connected:
            raise DeliveryFailed("not connected to the MQTT broker")
        try:
            self._client.publish(staff_topic(self._prefix, staff.id), json.dumps(body,
                                 ensure_ascii=False), qos=1, timeout_s=10)
        except ShouwangError as exc:
            raise DeliveryFailed(str(exc)) from exc
