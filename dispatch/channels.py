"""Notification channels: a JSON POST to a staff member's webhook, or their MQTT topic."""

from __future__ import annotations

import json
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


class WebhookSender:
    def __init__(self, *, timeout_s: float) -> None:
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def send(self, staff: Staff, body: dict[str, Any]) -> None:
        if not staff.webhook_url:
            raise DeliveryFailed(f"staff {staff.id} has no webhook url")
        try:
            response = self._client.post(staff.webhook_url, json=body,
                                         headers={"User-Agent": "shouwang-dispatch"})
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
