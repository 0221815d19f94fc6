"""Cover over the API: a duty leader records leave with a deputy and sees the gaps in cover."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.api.conftest import Community, build_community


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    built = build_community(tmp_path)
    yield built
    built.client.close()
    built.readings.close()
    built.state.close()


def test_leave_recorded_by_a_duty_leader_is_shown_and_a_leave_without_a_deputy_is_a_gap(
        community: Community) -> None:
    client, leader = community.client, community.auth("leader")
    with_deputy = client.post("/cover/leave", headers=leader, json={
        "username": "member1", "starts_at": "2099-01-01T00:00:00Z", "ends_at": "2099-01-08T00:00:00Z",
        "deputy": "member2", "reason": "年假"})
    assert with_deputy.status_code == 201 and with_deputy.json()["deputy"] == "member2"
    alone = client.post("/cover/leave", headers=leader, json={
        "username": "head1", "starts_at": "2099-01-01T00:00:00Z", "ends_at": "2099-01-02T00:00:00Z"})
    assert alone.status_code == 201
    backwards = client.post("/cover/leave", headers=leader, json={
        "username": "head1", "starts_at": "2099-01-02T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"})
    assert backwards.status_code == 422 and "leave must end after it starts" in backwards.text
    shown = client.get("/cover", headers=leader).json()
    assert [(lv["username"], lv["deputy"]) for lv in shown["leaves"]] == [("member1", "member2"), ("head1", None)]
    assert sum("head1 is on leave" in gap and "with no deputy" in gap for gap in shown["gaps"]) == 1
    assert sum(gap.startswith("head1 休假（2099-01-01 08:00 至 2099-01-02 08:00）且没有代班人")
               for gap in shown["gaps_zh"]) == 1
    assert len(shown["gaps_zh"]) == len(shown["gaps"])
    assert not any("member1 is on leave" in gap for gap in shown["gaps"])
    trail = [e.action for e in community.state.audit.for_entity("staff", community.staff["member1"].id)]
    assert "leave" in trail


def test_a_duty_leader_puts_night_duty_on_the_roster_and_the_open_hours_are_a_gap(community: Community) -> None:
    client, leader = community.client, community.auth("leader")
    night = client.post("/cover/roster", headers=leader,
                        json={"username": "leader", "weekday": "sun", "start_h": 18, "end_h": 8})
    assert night.status_code == 201 and night.json()["weekday"] == "sun"
    wrong = client.post("/cover/roster", headers=leader,
                        json={"username": "leader", "weekday": "someday", "start_h": 18, "end_h": 8})
    assert wrong.status_code == 422 and "unknown weekday" in wrong.text
    shown = client.get("/cover", headers=leader).json()
    assert [(s["username"], s["weekday"], s["start_h"], s["end_h"]) for s in shown["roster"]] == [
        ("leader", "sun", 18, 8)]
    assert any(gap.startswith("the duty roster has nobody on duty mon 08:00–sun 18:00") for gap in shown["gaps"])
