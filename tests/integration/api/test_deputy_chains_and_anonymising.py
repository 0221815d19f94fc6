"""Deputies down a chain, deputies on the live feed, and anonymising a household with an open alert
(found by a regression tester of the deputy and retire changes), with the real app and SQLite."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch.service import Dispatcher
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.cover import Leave
from shouwang.domain.delivery import Channel
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.audit import Actor
from tests.integration.api.conftest import NOW, Community, build_community
from tests.integration.api.test_deputy_sees import Recorder
from tests.integration.api.test_live_revocation import LIVE_MAX_S, open_east_alert, watch


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    built = build_community(tmp_path, live_max_s=LIVE_MAX_S, live_poll_s=0.05)
    yield built
    built.client.close()
    built.readings.close()
    built.state.close()


def test_a_deputy_at_the_end_of_a_chain_told_of_an_alert_can_open_it(community: Community) -> None:
    """member1 (east) is on leave, her deputy member2 (west) too; member2's deputy, the caseworker,
    is the one dispatch calls for member1's homes (`ladders._present` follows deputies up to 5 hops)."""
    state, staff = community.state, community.staff
    state.cover.add_leave(Leave(staff["member1"].id, NOW - 3600, NOW + 5 * 86400, staff["member2"].id, "年假"),
                          actor=Actor("test"), now=NOW - 3600)
    state.cover.add_leave(Leave(staff["member2"].id, NOW - 3600, NOW + 5 * 86400, staff["caseworker"].id, "病假"),
                          actor=Actor("test"), now=NOW - 3600)
    alert_id = open_east_alert(community)                   # h-east-yellow: g-01, no caseworker of its own
    rec = Recorder()
    service = Dispatcher(settings=DispatchSettings(poll_s=0.05), state=state, clock=community.clock,
                         metrics=Metrics(), senders={Channel.MQTT: rec})
    try:
        service.run_once()
        service.wait_idle(10)
    finally:
        service.stop()
    trail = [(d.staff_id, d.status.value, d.last_error) for d in state.alerts.deliveries(alert_id)]
    seen = community.client.get(f"/alerts/{alert_id}", headers=community.auth("caseworker"))
    # before: routed to the caseworker ("deputy for member2 (on leave)"), whose notification is
    # then given up ("no longer looks after household h-east-yellow") and who gets 404 on the alert
    assert ("caseworker", "opened", alert_id) in rec.sent and seen.status_code == 200, (
        f"deliveries {trail}; the caseworker opens the alert: {seen.status_code}")


def test_a_deputy_sees_the_absent_colleagues_alerts_on_the_live_feed(community: Community) -> None:
    staff = community.staff
    community.state.cover.add_leave(Leave(staff["member1"].id, NOW - 3600, NOW + 5 * 86400, staff["member2"].id,
                                           "年假"), actor=Actor("test"), now=NOW - 3600)
    # she can open it through the API (test_deputy_sees)...
    alert_id = open_east_alert(community)
    assert community.client.get(f"/alerts/{alert_id}", headers=community.auth("member2")).status_code == 200

    def another_east_alert() -> None:
        community.state.alerts.open(Finding("h-east-red", AlertKind.HELP, Severity.URGENT, NOW, "help pressed"),
                                    now=NOW)

    frames, _ = watch(community, "member2", another_east_alert)
    # ...but the live feed, which the page listens to, uses the session's staff without `covering`
    assert [f["alert"]["household_id"] for f in frames] == ["h-east-red"], frames


def test_anonymising_a_household_with_an_unresolved_alert_is_refused_like_retiring_it(community: Community) -> None:
    alert = community.alerts["h-east-red"]                  # open, unresolved
    retire = community.client.post("/households/h-east-red/retire", headers=community.auth("admin"))
    assert retire.status_code == 409, retire.text          # the refusal to retire
    anon = community.client.post("/households/h-east-red/anonymise", headers=community.auth("admin"))
    household = community.state.registry.household("h-east-red")
    left = community.state.alerts.get(alert.id)
    # before: 200, the household retired (anonymise retires it) with alert still open
    assert anon.status_code == 409 or household.retired_at is None, (
        f"anonymise: {anon.status_code}; household retired at {household.retired_at}, "
        f"its alert #{left.id} {left.state.value}")
