"""Alerts through the API: list with filters and paging, detail with history, act on them."""

from __future__ import annotations

from shouwang.domain.alerts import AlertKind, Finding, Outcome, Severity
from shouwang.domain.delivery import Channel
from tests.integration.api.conftest import NOW, Community


def test_alerts_are_paged_newest_first_with_a_total(community: Community) -> None:
    for kind in (AlertKind.NO_WATER, AlertKind.HUB_OFFLINE):
        community.state.alerts.open(Finding("h-east-yellow", kind, Severity.WARNING, NOW - 3600,
                                            "quiet"), now=NOW)
    first = community.client.get("/alerts?limit=2", headers=community.auth("leader")).json()
    second = community.client.get("/alerts?limit=2&offset=2",
                                  headers=community.auth("leader")).json()
    assert first["total"] == second["total"] == 4
    ids = [a["id"] for a in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4


def test_alerts_filter_by_colour_grid_kind_and_state(community: Community) -> None:
    leader = community.auth("leader")
    get = community.client.get
    assert get("/alerts?colour=red", headers=leader).json()["total"] == 2
    assert get("/alerts?colour=yellow", headers=leader).json()["total"] == 0
    assert [a["household_id"] for a in get("/alerts?grid=g-02", headers=leader).json()["items"]] \
        == ["h-west-red"]
    assert get("/alerts?kind=no_water", headers=leader).json()["total"] == 0
    assert get("/alerts?state=unresolved", headers=leader).json()["total"] == 2
    assert get("/alerts?state=resolved", headers=leader).json()["total"] == 0
    bad = get("/alerts?colour=purple", headers=leader)
    assert bad.status_code == 422 and bad.json()["error"]["problems"]


def test_acknowledging_stops_escalation_and_shows_in_the_history(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    response = community.client.post(f"/alerts/{alert_id}/acknowledge",
                                     headers=community.auth("member1"))
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == \
        community.staff["member1"].id
    assert body["next_escalation_at"] is None
    assert body["acknowledged_by_name"] == "member1"  # the name, so the feed can say who
    listed = community.client.get("/alerts?state=acknowledged", headers=community.auth("leader")).json()
    assert [(a["id"], a["acknowledged_by_name"]) for a in listed["items"]] == [(alert_id, "member1")]
    detail = community.client.get(f"/alerts/{alert_id}", headers=community.auth("member1")).json()
    assert [h["action"] for h in detail["history"]] == ["opened", "acknowledged"]
    assert detail["explanation"].startswith("no water")
    assert detail["explanations"] == {"en": detail["explanation"],
                                      "zh": "自08:00起没有用水、用电或开关门"}


def test_a_second_acknowledgement_by_someone_else_is_told_who_is_on_it(community: Community) -> None:
    """Found by a newcomer: it answered 200 as if they had taken it; now 409 naming who did (the
    page then shows "已有人处理过这条警报" and the alert as it is). The same person again: 200."""
    alert_id = community.alerts["h-east-red"].id
    first = community.client.post(f"/alerts/{alert_id}/acknowledge", headers=community.auth("member1"))
    again = community.client.post(f"/alerts/{alert_id}/acknowledge", headers=community.auth("member1"))
    assert first.status_code == again.status_code == 200
    other = community.client.post(f"/alerts/{alert_id}/acknowledge", headers=community.auth("head1"))
    assert other.status_code == 409
    assert other.json()["error"] == {"code": "conflict", "message": (
        f"alert {alert_id} is already acknowledged by member1; add a comment if you are helping "
        "(POST /alerts/{id}/comments)")}
    detail = community.client.get(f"/alerts/{alert_id}", headers=community.auth("leader")).json()
    assert [h["action"] for h in detail["history"]] == ["opened", "acknowledged"]


def test_an_acknowledgement_keeps_its_note_and_a_broken_body_acknowledges_nothing(community: Community) -> None:
    """Found by a newcomer: a body that was not JSON (or a note) was ignored and the alert acknowledged."""
    alert_id = community.alerts["h-east-red"].id
    json_headers = {**community.auth("member1"), "Content-Type": "application/json"}
    broken = community.client.post(f"/alerts/{alert_id}/acknowledge", content=b'{"note": ', headers=json_headers)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "bad_request"
    unknown = community.client.post(f"/alerts/{alert_id}/acknowledge", json={"nite": "x"},
                                    headers=community.auth("member1"))
    assert unknown.status_code == 422
    assert community.client.get(f"/alerts/{alert_id}", headers=community.auth("member1")).json()["state"] == "open"
    noted = community.client.post(f"/alerts/{alert_id}/acknowledge", json={"note": "on my way, 10 minutes"},
                                  headers=community.auth("member1"))
    assert noted.status_code == 200 and noted.json()["state"] == "acknowledged"
    detail = community.client.get(f"/alerts/{alert_id}", headers=community.auth("member1")).json()
    assert [h["action"] for h in detail["history"]] == ["opened", "acknowledged", "commented"]
    assert [c["text"] for c in detail["comments"]] == ["on my way, 10 minutes"]


def test_resolving_needs_an_outcome_and_closes_once(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    headers = community.auth("caseworker")
    missing = community.client.post(f"/alerts/{alert_id}/resolve", json={}, headers=headers)
    assert missing.status_code == 422
    system_only = community.client.post(f"/alerts/{alert_id}/resolve",
                                        json={"outcome": "cleared_itself"}, headers=headers)
    assert system_only.status_code == 422, "a person choosing the system's outcome is bad input"
    assert system_only.json()["error"]["code"] == "invalid"
    assert "choose what you found" in system_only.json()["error"]["message"]
    done = community.client.post(f"/alerts/{alert_id}/resolve",
                                 json={"outcome": "elder_fine", "note": "asleep"},
                                 headers=headers)
    assert done.json()["state"] == "resolved" and done.json()["outcome"] == "elder_fine"
    again = community.client.post(f"/alerts/{alert_id}/resolve",
                                  json={"outcome": "elder_fine"}, headers=headers)
    assert again.status_code == 409 and "already resolved" in again.json()["error"]["message"]


def test_the_alert_detail_names_the_people_beside_their_ids(community: Community) -> None:
    registry = community.state.registry
    member = registry.update_staff(community.staff["member1"].id, name="王芳")
    head = registry.update_staff(community.staff["head1"].id, name="赵敏")
    alert = community.alerts["h-east-red"]
    community.state.alerts.route(alert, recipients={0: [(member.id, Channel.MQTT)]},
                                 first_escalation_at=NOW + 300, now=NOW)
    community.client.post(f"/alerts/{alert.id}/acknowledge", headers=community.auth("member1"))
    community.client.post(f"/alerts/{alert.id}/comments", json={"text": "on my way"},
                          headers=community.auth("head1"))
    community.client.post(f"/alerts/{alert.id}/resolve", json={"outcome": "elder_fine"},
                          headers=community.auth("head1"))
    detail = community.client.get(f"/alerts/{alert.id}", headers=community.auth("member1")).json()
    assert (detail["acknowledged_by"], detail["acknowledged_by_name"]) == (member.id, "王芳")
    assert (detail["resolved_by"], detail["resolved_by_name"]) == (head.id, "赵敏")
    assert detail["assigned_to_name"] is None
    # the alert's opening and its resolution, both to the one recipient
    assert {(d["staff_id"], d["staff_name"]) for d in detail["deliveries"]} == {(member.id, "王芳")}
    assert [(c["staff_id"], c["staff_name"]) for c in detail["comments"]] == [(head.id, "赵敏")]


def test_comments_join_the_alert_history(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    made = community.client.post(f"/alerts/{alert_id}/comments",
                                 json={"text": "phoned her daughter"},
                                 headers=community.auth("member1"))
    assert made.status_code == 201
    assert made.json()["staff_name"] == community.staff["member1"].name  # found by a tester: null
    detail = community.client.get(f"/alerts/{alert_id}", headers=community.auth("head1")).json()
    assert [c["text"] for c in detail["comments"]] == ["phoned her daughter"]
    assert detail["comments"][0]["staff_name"] == made.json()["staff_name"]
    assert "commented" in [h["action"] for h in detail["history"]]


def test_a_grid_head_assigns_and_a_member_may_only_take_it(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    member1, head1 = community.staff["member1"].id, community.staff["head1"].id
    handed = community.client.post(f"/alerts/{alert_id}/assign", json={"staff_id": member1},
                                   headers=community.auth("head1"))
    assert handed.status_code == 200 and handed.json()["assigned_to"] == member1
    refused = community.client.post(f"/alerts/{alert_id}/assign", json={"staff_id": head1},
                                    headers=community.auth("member1"))
    assert refused.status_code == 403
    taken = community.client.post(f"/alerts/{alert_id}/assign", json={"staff_id": member1},
                                  headers=community.auth("member1"))
    assert taken.status_code == 200
    stranger = community.client.post(f"/alerts/{alert_id}/assign",
                                     json={"staff_id": community.staff["member2"].id},
                                     headers=community.auth("head1"))
    assert stranger.status_code == 422
    # Found by a privacy tester: the refusal named the username behind any staff id, which a grid
    # member could not otherwise see (GET /staff/N: 404).
    for someone in (community.staff["member2"].id, community.staff["admin"].id, 99_999):
        hidden = community.client.post(f"/alerts/{alert_id}/assign", json={"staff_id": someone},
                                       headers=community.auth("member1"))
        assert hidden.status_code == 403, hidden.text
        assert "you may take it" in hidden.text and "does not look after" not in hidden.text
    unseen = community.client.post(f"/alerts/{alert_id}/assign", json={"staff_id": 99_999},
                                   headers=community.auth("head1"))
    assert unseen.status_code == 422 and "does not exist among the staff you can see" in unseen.text
    mine = community.client.get(f"/alerts?assigned_to={member1}",
                                headers=community.auth("head1")).json()
    assert [a["id"] for a in mine["items"]] == [alert_id]
    acknowledged = community.client.post(f"/alerts/{alert_id}/acknowledge",
                                         headers=community.auth("member1"))
    assert acknowledged.json()["assigned_to"] == member1


def test_a_blank_comment_and_handing_over_a_resolved_alert_are_refused(community: Community) -> None:
    """Found by a tester: a comment of spaces was kept, and assigning a resolved alert answered
    200 where acknowledging or resolving it answers 409."""
    alert_id = community.alerts["h-east-red"].id
    blank = community.client.post(f"/alerts/{alert_id}/comments", json={"text": "   "},
                                  headers=community.auth("member1"))
    assert blank.status_code == 422 and "only spaces" in blank.text
    community.state.alerts.resolve(alert_id, staff=community.staff["leader"], outcome=Outcome.ELDER_FINE,
                                   note=None, now=NOW)
    handed = community.client.post(f"/alerts/{alert_id}/assign", json={"staff_id": community.staff["member1"].id},
                                   headers=community.auth("head1"))
    assert handed.status_code == 409 and "resolved" in handed.json()["error"]["message"]
