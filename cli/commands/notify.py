"""`shouwang staff test-notify USER`: does each of their channels reach them, and how fast."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from cli.bootstrap import ensure_secret
from cli.commands.common import load_settings, open_state
from dispatch.channels import DeliveryFailed, MqttSender
from dispatch.policy import channels
from dispatch.probe import try_channels
from dispatch.senders import close as close_senders
from dispatch.senders import http_senders
from shouwang.contract.topics import staff_topic
from shouwang.domain.channels import find
from shouwang.domain.delivery import Channel
from shouwang.domain.errors import ShouwangError
from shouwang.domain.model import Staff
from shouwang.mqtt import MqttClient

ACK_TIMEOUT_S = 5.0


def add_parser(staff_actions: Any) -> None:
    p = staff_actions.add_parser(
        "test-notify", help="send a test notification through each of their channels",
        description="Sends a test (event \"test\", no alert) through each of their channels (webhook, "
        "WeCom, DingTalk and Feishu robots, the SMS gateway, their MQTT topic) and prints per channel "
        "what happened: the answer or the error, and the time it took.")
    p.add_argument("username")
    p.set_defaults(handler=test_notify)


class _Unreachable:
    def __init__(self, reason: str) -> None:
        self._reason = reason

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        raise DeliveryFailed(self._reason)


def test_notify(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    state = open_state(args, settings)
    try:
        member = state.registry.staff_by_username(args.username)
    finally:
        state.close()
    if not channels(member):
        print(f"{member.username} has no channel: give them one (`shouwang staff update "
              f"{member.username} --channel wecom:https://...`, see `shouwang staff update --help`)")
        return 1
    senders = http_senders(settings.dispatch, secret=ensure_secret(settings))
    client = None
    if find(member.reached_by, Channel.MQTT):
        # Dispatch's login, so the test meets the broker's ACL as real notifications do.
        client = MqttClient(settings.mqtt, role="dispatch", client_id=f"{settings.mqtt.client_id_prefix}"
                            f"-test-notify-{os.getpid()}", quiet=True)
        try:
            client.start(timeout_s=ACK_TIMEOUT_S)
            senders[Channel.MQTT] = MqttSender(client, prefix=settings.mqtt.topic_prefix,
                                               ack_timeout_s=ACK_TIMEOUT_S)
        except ShouwangError as exc:
            client, senders[Channel.MQTT] = None, _Unreachable(str(exc))
    shown = {c.kind: c.shown_address for c in member.reached_by}
    host, port, *_ = settings.mqtt.endpoint()  # which broker: the embedded one's port is a setting
    shown[Channel.MQTT] = f"{staff_topic(settings.mqtt.topic_prefix, member.id)} on {host}:{port}"
    if Channel.SMS in shown:
        shown[Channel.SMS] += f" via {settings.dispatch.sms_gateway_url or 'no gateway'}"
    try:
        results = try_channels(member, senders, now=time.time(), address=lambda c: shown.get(c) or "-")
    finally:
        close_senders(senders)
        if client is not None:
            client.stop()
    for r in results:
        print(f"{r.channel.value:<8} {r.address}: {'ok' if r.ok else 'FAILED'} in "
              f"{r.seconds * 1000:.0f} ms: {r.detail}")
    return 0 if all(r.ok for r in results) else 1
