"""What a notification says, and when it carries a one-time acknowledgement link."""

from __future__ import annotations

from dispatch.message import notification
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Severity
from shouwang.domain.delivery import Channel, Delivery, DeliveryEvent, DeliveryStatus
from shouwang.domain.model import Household, Role, Staff, Tier

ALERT = Alert(7, "hh-1", AlertKind.INACTIVITY, AlertState.OPEN, Severity.URGENT, 100.0, 0.0, "quiet")
HOME = Household("hh-1", Tier.RED, "g-01", alias="王秀英")
WANG = Staff(3, "wang", "王芳", Role.GRID_MEMBER, frozenset({"g-01"}))


def delivery(event: DeliveryEvent) -> Delivery:
    return Delivery(1, 7, 3, Channel.WEBHOOK, event, DeliveryStatus.PENDING, 0, 100.0, 100.0)


def test_a_call_to_go_carries_the_recipients_one_time_link() -> None:
    for event in (DeliveryEvent.OPENED, DeliveryEvent.ESCALATED):
        body = notification(delivery(event), ALERT, HOME, WANG, api_url="https://sw.example.org/",
                            ack_token="7.3.200.n.sig")
        assert body["ack_link"] == "https://sw.example.org/ack/7.3.200.n.sig"
        assert body["acknowledge"] == "https://sw.example.org/alerts/7/acknowledge"


def test_news_that_needs_nobody_carries_no_link() -> None:
    for event in (DeliveryEvent.ACKNOWLEDGED, DeliveryEvent.RESOLVED, DeliveryEvent.CLEARED):
        body = notification(delivery(event), ALERT, HOME, WANG, api_url="https://sw.example.org",
                            ack_token="7.3.200.n.sig")
        assert "ack_link" not in body
    assert "ack_link" not in notification(delivery(DeliveryEvent.OPENED), ALERT, HOME, WANG, api_url=None,
                                           ack_token="t")
