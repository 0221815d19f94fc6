"""A deputy from the neighbouring grid, told of the absent member's alert, can open and act on it
while the leave lasts, and no longer (found by a tester: 404 on the alert she was asked to go to)."""
from __future__ import annotations

from typing import Any

from dispatch.service import Dispatcher
from shouwang.domain.cover import Leave
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Staff
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.audit import Actor
from tests.integration.api.conftest import NOW, Community


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        self.sent.append((staff.username, body["event"], body["alert"]["id"]))
        return "ok"


def test_a_deputy_from_another_grid_told_of_an_alert_can_open_and_acknowledge_it(community: Community) -> None:
    state, staff = community.state, community.staff
    state.cover.add_leave(Leave(staff["member1"].id, NOW - 3600, NOW + 5 * 86400, staff["member2"].id, "年假"),
                          actor=Actor("test"), now=NOW - 3600)
    rec = Recorder()
    service = Dispatcher(settings=DispatchSettings(poll_s=0.05), state=state, clock=community.clock,
                         metrics=Metrics(), senders={Channel.MQTT: rec})
    try:
        service.run_once()
        service.wait_idle(10)
    finally:
        service.stop()
    alert = community.alerts["h-east-red"]
    assert ("member2", "opened", alert.id) in rec.sent, rec.sent  # she stands in: she is told
    seen = community.client.get(f"/alerts/{alert.id}", headers=community.auth("member2"))
    acked = community.client.post(f"/alerts/{alert.id}/acknowledge", headers=community.auth("member2"))
    listed = community.client.get("/alerts?state=unresolved", headers=community.auth("member2")).json()
    assert seen.status_code == 200 and acked.status_code == 200, (
        f"told as deputy of member1 (on leave), member2 opens the alert: {seen.status_code} {seen.text[:200]}; "
        f"acknowledges it: {acked.status_code} {acked.text[:200]}; her list: {[i['id'] for i in listed['items']]}")
    assert alert.id in [i["id"] for i in listed["items"]]
    households = community.client.get("/households", headers=community.auth("member2")).json()
    assert "h-east-red" in [h["id"] for h in households["items"]]
    # the leave over, she sees her own grid's again, and nothing of member1's
    community.clock.t = NOW + 6 * 86400
    assert community.client.get(f"/alerts/{alert.id}", headers=community.auth("member2")).status_code == 404
    households = community.client.get("/households", headers=community.auth("member2")).json()
    assert "h-east-red" not in [h["id"] for h in households["items"]]
