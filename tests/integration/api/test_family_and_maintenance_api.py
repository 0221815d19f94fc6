"""Family contacts and maintenance windows over the API, against a real state store: the household's
own staff manage its relatives (with their consent); grid heads their grids' maintenance."""

from __future__ import annotations

from tests.integration.api.conftest import Community
from tests.support import loopback_name

SON = {"name": "王小明", "relation": "儿子", "channel": "sms", "address": "138-0013-8000", "consent_by": "王小明",
       "step": 1}


def test_the_households_own_staff_add_list_and_remove_a_relative_with_their_consent(community: Community) -> None:
    client, member = community.client, community.auth("member1")
    added = client.post("/households/h-east-red/family", json=SON, headers=member)
    assert added.status_code == 201, added.text
    son = added.json()
    assert (son["channel"], son["address"], son["step"]) == ("sms", "13800138000", 1)
    assert client.get("/households/h-east-red/family", headers=member).json() == [son]
    unconsented = client.post("/households/h-east-red/family", json={**SON, "consent_by": " "}, headers=member)
    assert unconsented.status_code == 422 and "consent" in unconsented.text
    wrong = client.post("/households/h-east-red/family", json={**SON, "address": "call me"}, headers=member)
    assert wrong.status_code == 422 and "not a phone number" in wrong.text
    robot = client.post("/households/h-east-red/family", json={**SON, "channel": "wecom"}, headers=member)
    assert robot.status_code == 422
    # Found by a regression tester: a relative's webhook inside the machine made dispatch reach it.
    named = [f"http://{name}:9000/"] if (name := loopback_name()) else []  # this machine, by name
    for url in ("http://127.0.0.1:8080/admin", "http://10.1.2.3/h", *named):
        inside = client.post("/households/h-east-red/family", headers=member,
                             json={**SON, "channel": "webhook", "address": url})
        assert inside.status_code == 403 and "only an admin" in inside.text, inside.text
    # A volunteer visits this home but does not see its relatives' numbers.
    assert client.get("/households/h-east-red/family", headers=community.auth("volunteer")).status_code == 403
    # A contact is removed only through its own household.
    other = community.client.post("/households/h-west-red/family", json=SON, headers=community.auth("member2"))
    assert other.status_code == 201
    assert client.post(f"/households/h-east-red/family/{other.json()['id']}/remove",
                       headers=member).status_code == 404
    removed = client.post(f"/households/h-east-red/family/{son['id']}/remove", headers=member)
    assert removed.status_code == 200 and removed.json()["id"] == son["id"]
    assert client.get("/households/h-east-red/family", headers=member).json() == []
    assert client.post(f"/households/h-east-red/family/{son['id']}/remove", headers=member).status_code == 404
    trail = [(e.action, e.actor) for e in community.state.audit.for_entity("household", "h-east-red")]
    assert ("family_contact_added", "member1") in trail and ("family_contact_removed", "member1") in trail


def test_a_grid_head_manages_maintenance_of_their_own_grid_only(community: Community) -> None:
    client, head, leader = community.client, community.auth("head1"), community.auth("leader")
    window = {"until": "2026-11-19T18:00:00Z", "reason": "更换电表"}
    mine = client.post("/maintenance", json={**window, "grid_id": "g-01"}, headers=head)
    assert mine.status_code == 201, mine.text
    assert mine.json()["by_staff_id"] == community.staff["head1"].id
    for other in ({"grid_id": "g-02"}, {"hub_id": "hub-h-west-red"}, {"hub_id": "hub-nowhere"}):
        refused = client.post("/maintenance", json={**window, **other}, headers=head)
        assert refused.status_code == 404, (other, refused.text)
    theirs = client.post("/maintenance", json={**window, "hub_id": "hub-h-west-red"}, headers=leader)
    assert theirs.status_code == 201
    assert client.post("/maintenance", json={**window, "grid_id": "g-01", "hub_id": "hub-h-east-red"},
                       headers=leader).status_code == 422
    assert client.post("/maintenance", json={**window, "until": "2020-01-01T00:00:00Z", "grid_id": "g-01"},
                       headers=leader).status_code == 422
    assert [w["id"] for w in client.get("/maintenance", headers=head).json()] == [mine.json()["id"]]
    assert len(client.get("/maintenance", headers=leader).json()) == 2
    assert client.get("/maintenance", headers=community.auth("member1")).status_code == 403
    assert client.post(f"/maintenance/{theirs.json()['id']}/end", headers=head).status_code == 404
    assert client.post(f"/maintenance/{mine.json()['id']}/end", headers=head).status_code == 200
    assert client.post(f"/maintenance/{mine.json()['id']}/end", headers=head).status_code == 422
    assert [w["hub_id"] for w in client.get("/maintenance", headers=leader).json()] == ["hub-h-west-red"]
