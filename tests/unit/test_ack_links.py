"""One-time acknowledgement links: signed, expiring, damaged ones refused."""

from __future__ import annotations

import pytest

from shouwang.domain import ack_links
from shouwang.domain.ack_links import InvalidLink

SECRET = "a-community-secret-of-enough-length"


def test_a_link_names_its_alert_and_recipient_until_it_expires() -> None:
    token = ack_links.make(SECRET, alert_id=7, staff_id=3, now=1000.0, ttl_s=3600)
    link = ack_links.read(SECRET, token, now=2000.0)
    assert (link.alert_id, link.staff_id, link.expires_at) == (7, 3, 4600.0)
    with pytest.raises(InvalidLink) as late:
        ack_links.read(SECRET, token, now=4600.0)
    assert late.value.expired


def test_two_links_for_the_same_alert_and_person_differ() -> None:
    one = ack_links.make(SECRET, alert_id=7, staff_id=3, now=0, ttl_s=60)
    two = ack_links.make(SECRET, alert_id=7, staff_id=3, now=0, ttl_s=60)
    assert one != two and ack_links.read(SECRET, one, now=1).nonce != ack_links.read(SECRET, two, now=1).nonce


@pytest.mark.parametrize("damage", [
    lambda t: t.replace("7.3.", "7.4.", 1),          # someone else's name on it
    lambda t: t.replace("7.3.", "8.3.", 1),          # another alert
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature
    lambda t: t + ".x",
    lambda t: "",
    lambda t: "a.b.c.d.e",
])
def test_a_changed_or_made_up_link_is_refused(damage: object) -> None:
    token = ack_links.make(SECRET, alert_id=7, staff_id=3, now=0, ttl_s=60)
    with pytest.raises(InvalidLink):
        ack_links.read(SECRET, damage(token), now=1)  # type: ignore[operator]
    with pytest.raises(InvalidLink):
        ack_links.read("another community's secret!!", token, now=1)
