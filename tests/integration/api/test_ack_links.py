"""One-time acknowledgement links from a notification, against a real state store: the page shows,
the button acknowledges as the recipient, once; expired, forged, reused and orphaned links refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.app import create_app
from api.context import ApiContext
from shouwang.domain import ack_links
from shouwang.domain.errors import Conflict
from shouwang.metrics import Metrics
from tests.integration.api.conftest import NOW, Community, build_community

SECRET = "this community's own secret, long enough"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[tuple[Community, TestClient]]:
    community = build_community(tmp_path)
    context = ApiContext(settings=community.client.app.state.context.settings,  # type: ignore[attr-defined]
                         state=community.state, readings=community.readings, clock=community.clock,
                         metrics=Metrics(), secret=SECRET)
    client = TestClient(create_app(context))
    yield community, client
    client.close()
    community.client.close()
    community.readings.close()
    community.state.close()


def link_for(community: Community, who: str, home: str = "h-east-red", ttl_s: float = 3600) -> str:
    return ack_links.make(SECRET, alert_id=community.alerts[home].id, staff_id=community.staff[who].id,
                          now=NOW, ttl_s=ttl_s)


def test_opening_the_link_shows_the_alert_and_only_the_button_acknowledges(
        linked: tuple[Community, TestClient]) -> None:
    community, client = linked
    token = link_for(community, "member1")
    alert_id = community.alerts["h-east-red"].id
    shown = client.get(f"/ack/{token}")
    assert shown.status_code == 200 and "王秀英" in shown.text and "我来处理" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert community.state.alerts.get(alert_id).state.value == "open"  # a link preview changes nothing
    done = client.post(f"/ack/{token}", headers=FORM)
    assert done.status_code == 200 and "已确认" in done.text and "name='outcome'" in done.text
    alert = community.state.alerts.get(alert_id)
    assert alert.state.value == "acknowledged" and alert.acknowledged_by == community.staff["member1"].id
    again = client.post(f"/ack/{token}", headers=FORM)
    assert again.status_code == 409 and "用过" in again.text
    resolved = client.post(f"/ack/{token}/resolve", content="outcome=elder_fine&note=%E5%9C%A8%E5%AE%B6",
                           headers=FORM)
    assert resolved.status_code == 200 and "老人安好" in resolved.text
    alert = community.state.alerts.get(alert_id)
    assert (alert.state.value, alert.outcome.value if alert.outcome else None, alert.note) == (
        "resolved", "elder_fine", "在家")
    assert client.post(f"/ack/{token}/resolve", content="outcome=elder_fine", headers=FORM).status_code == 409


def test_expired_forged_and_other_peoples_links_are_refused(linked: tuple[Community, TestClient]) -> None:
    community, client = linked
    expired = link_for(community, "member1", ttl_s=-1)
    assert client.get(f"/ack/{expired}").status_code == 410
    forged = link_for(community, "member1").replace(f".{community.staff['member1'].id}.",
                                                    f".{community.staff['admin'].id}.", 1)
    assert client.post(f"/ack/{forged}", headers=FORM).status_code == 403
    # member2 works in the west grid: a link to the east's alert is not theirs to use.
    wrong = link_for(community, "member2")
    assert client.post(f"/ack/{wrong}", headers=FORM).status_code == 403
    community.state.registry.update_staff(community.staff["member1"].id, active=False)
    retired = link_for(community, "member1")
    assert client.post(f"/ack/{retired}", headers=FORM).status_code == 403
    assert community.state.alerts.get(community.alerts["h-east-red"].id).state.value == "open"


def test_a_link_whose_signature_is_not_ascii_gets_the_refusal_page_not_a_500(
        linked: tuple[Community, TestClient]) -> None:
    """Found by an attacker: compare_digest refused the str and every such link answered 500,
    each with a traceback in the log, before anyone signed in."""
    community, client = linked
    token = link_for(community, "member1")
    damaged = token[:token.rindex(".") + 1] + "%C3%A9"
    for answer in (client.get(f"/ack/{damaged}"), client.post(f"/ack/{damaged}", headers=FORM),
                   client.post(f"/ack/{damaged}/resolve", content="outcome=elder_fine", headers=FORM),
                   client.get(f"/family/{damaged}"), client.post(f"/family/{damaged}/fine", headers=FORM)):
        assert answer.status_code in (403, 404) and "<html" in answer.text.lower(), answer.text[:200]
    assert community.state.alerts.get(community.alerts["h-east-red"].id).state.value == "open"

def test_a_link_whose_action_fails_is_not_used_up(linked: tuple[Community, TestClient],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an attacker: the link was spent before its action ran, and when the action failed
    (dispatch escalating the alert at that moment), it was used up with nothing done."""
    community, client = linked
    token = link_for(community, "member1")
    alert_id = community.alerts["h-east-red"].id
    assert client.post(f"/ack/{token}", headers=FORM).status_code == 200
    store = community.state.alerts
    real = store.resolve

    def escalated_meanwhile(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(store, "resolve", real)
        raise Conflict(f"alert {alert_id} changed meanwhile; reload it and try again")
    monkeypatch.setattr(store, "resolve", escalated_meanwhile)
    failed = client.post(f"/ack/{token}/resolve", content="outcome=elder_fine", headers=FORM)
    assert failed.status_code == 409 and "链接还可以再用" in failed.text
    assert community.state.alerts.get(alert_id).state.value == "acknowledged"
    done = client.post(f"/ack/{token}/resolve", content="outcome=elder_fine", headers=FORM)
    assert done.status_code == 200 and community.state.alerts.get(alert_id).state.value == "resolved"


def test_a_link_whose_action_meets_a_store_error_is_not_used_up(linked: tuple[Community, TestClient],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a tester: "database is locked" (SQLite's busy timeout, a PostgreSQL failover) gave
    a 500 in JSON, and the retry it asked for was told the link had been used."""
    community, client = linked
    token = link_for(community, "member1")
    store = community.state.alerts
    real = store.acknowledge

    def locked(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(store, "acknowledge", real)
        raise OperationalError("UPDATE alerts", {}, Exception("database is locked"))
    monkeypatch.setattr(store, "acknowledge", locked)
    failed = client.post(f"/ack/{token}", headers=FORM)
    assert failed.status_code == 503 and "链接还可以再用" in failed.text and "<html" in failed.text.lower()
    assert client.post(f"/ack/{token}", headers=FORM).status_code == 200

def test_resolving_needs_an_outcome(linked: tuple[Community, TestClient]) -> None:
    community, client = linked
    token = link_for(community, "caseworker")
    assert client.post(f"/ack/{token}/resolve", content="note=x", headers=FORM).status_code == 422
    assert client.post(f"/ack/{token}/resolve", content="outcome=cleared_itself", headers=FORM).status_code == 422


def test_without_a_secret_the_links_are_off(community: Community) -> None:
    token = ack_links.make(SECRET, alert_id=1, staff_id=1, now=NOW, ttl_s=60)
    assert community.client.get(f"/ack/{token}").status_code == 404


def test_a_link_used_after_someone_else_acknowledged_says_who_and_stays_unused(
        linked: tuple[Community, TestClient]) -> None:
    """Found by a tester: the link answered "acknowledged" to a second person and was spent, while
    the alert stayed the first one's; the API answers such a second acknowledgement 409."""
    community, client = linked
    alert_id = community.alerts["h-east-red"].id
    community.state.alerts.acknowledge(alert_id, staff=community.staff["head1"], now=NOW)
    token = link_for(community, "member1")
    refused = client.post(f"/ack/{token}", headers=FORM)
    assert refused.status_code == 409 and f"已由{community.staff['head1'].name}确认处理" in refused.text
    assert community.state.alerts.get(alert_id).acknowledged_by == community.staff["head1"].id
    assert client.get(f"/ack/{token}").status_code == 200  # not spent: it still shows the alert
