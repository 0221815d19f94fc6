"""Every HTTP channel's sender, built from the dispatch settings (the MQTT one needs a connection)."""

from __future__ import annotations

from collections.abc import Mapping

from dispatch.channels import Sender, WebhookSender
from dispatch.robots import DingTalkSender, FeishuSender, WeComSender
from dispatch.sms import SmsGatewaySender
from shouwang.domain.delivery import Channel
from shouwang.settings import DispatchSettings


def http_senders(d: DispatchSettings, *, secret: str | None) -> dict[Channel, Sender]:
    """Webhook, the three robots and the SMS gateway, with the webhook's timeouts."""
    timeout, connect = d.webhook_timeout_s, d.webhook_connect_timeout_s
    return {
        Channel.WEBHOOK: WebhookSender(timeout_s=timeout, connect_timeout_s=connect, secret=secret),
        Channel.WECOM: WeComSender(timeout_s=timeout, connect_timeout_s=connect),
        Channel.DINGTALK: DingTalkSender(timeout_s=timeout, connect_timeout_s=connect),
        Channel.FEISHU: FeishuSender(timeout_s=timeout, connect_timeout_s=connect),
        Channel.SMS: sms_sender(d, secret=secret),
    }


def sms_sender(d: DispatchSettings, *, secret: str | None) -> SmsGatewaySender:
    """The community's SMS gateway, as the settings describe it (staff and family are texted alike)."""
    return SmsGatewaySender(url=d.sms_gateway_url, template=d.sms_template, timeout_s=d.webhook_timeout_s,
                            connect_timeout_s=d.webhook_connect_timeout_s, secret=secret,
                            code_field=d.sms_answer_code_field, ok_value=d.sms_answer_ok)


def close(senders: Mapping[Channel, Sender]) -> None:
    """Close each sender that holds connections."""
    for sender in senders.values():
        closing = getattr(sender, "close", None)
        if callable(closing):
            closing()
