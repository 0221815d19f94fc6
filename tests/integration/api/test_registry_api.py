"""Keeping the registry right through the API: create, change, retire, import and export."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.integration.api.conftest import NOW, Community
from tests.support import loopback_name


def test_a_leader_registers_a_household_that_waits_for_consent(community: Community) -> None:
    created = community.client.post("/households", json={
        "id": "h-new", "colour": "orange", "grid_id": "g-01", "alias": "赵玉兰"},
        headers=community.auth("leader"))
    assert created.status_code == 201, created.text
    assert created.json()["monitoring"] is False
    assert not community.state.consent.has_consent("h-new")
    consent = community.client.post("/households/h-new/consent", json={
        "given_by": "赵玉兰", "sensing": True, "share_with_family": True},
        headers=community.auth("member1"))
    assert consent.status_code == 201
    assert community.state.consent.has_consent("h-new")
    card = community.client.get("/households/h-new", headers=community.auth("member1")).json()
    assert card["monitoring"] is True
    duplicate = community.client.post("/households", json={
        "id": "h-new", "colour": "orange", "grid_id": "g-01"}, headers=community.auth("leader"))
    assert duplicate.status_code == 409


def test_withdrawing_consent_stops_monitoring_and_keeps_the_record(community: Community) -> None:
    community.client.post("/households/h-east-yellow/consent",
                          json={"given_by": "李桂英", "sensing": False},
                          headers=community.auth("member1"))
    assert not community.state.consent.has_consent("h-east-yellow")
    assert "h-east-yellow" not in community.state.consent.consenting()
    state = community.client.get("/households/h-east-yellow/consent",
                                 headers=community.auth("member1")).json()
    assert state["sensing"] is False and len(state["history"]) == 2


def test_retiring_a_household_keeps_it_and_its_history(community: Community) -> None:
    alert = community.alerts["h-east-red"]
    refused = community.client.post("/households/h-east-red/retire", headers=community.auth("admin"))
    assert refused.status_code == 409
    assert f"has alert #{alert.id} (inactivity) not yet resolved" in refused.json()["error"]["message"]
    community.state.alerts.clear("h-east-red", alert.kind, reason="life resumed", now=NOW + 60)
    retired = community.client.post("/households/h-east-red/retire",
                                    headers=community.auth("admin"))
    assert retired.status_code == 200 and retired.json()["retired_at"] is not None
    listed = community.client.get("/households", headers=community.auth("leader")).json()
    assert "h-east-red" not in [h["id"] for h in listed["items"]]
    everything = community.client.get("/households?include_retired=true",
                                      headers=community.auth("leader")).json()
    assert "h-east-red" in [h["id"] for h in everything["items"]]
    assert community.client.get(f"/alerts/{community.alerts['h-east-red'].id}",
                                headers=community.auth("leader")).status_code == 200
    assert community.state.registry.hubs(["h-east-red"]) == []


def test_hubs_and_grids_are_created_changed_and_retired(community: Community) -> None:
    admin = community.auth("admin")
    assert community.client.post("/grids", json={"id": "g-03", "name": "南苑"},
                                 headers=admin).status_code == 201
    assert community.client.patch("/grids/g-03", json={"name": "南苑网格"},
                                  headers=admin).json()["name"] == "南苑网格"
    assert community.client.post("/grids/g-01/retire", headers=admin).status_code == 409
    assert community.client.post("/grids/g-03/retire", headers=admin).status_code == 200
    hub = community.client.post("/hubs", json={"id": "hub-2", "household_id": "h-east-red"},
                                headers=admin)
    assert hub.status_code == 201
    assert community.client.patch("/hubs/hub-2", json={"report_interval_s": 300},
                                  headers=admin).json()["report_interval_s"] == 300
    assert community.client.post("/hubs/hub-2/retire", headers=admin).status_code == 200
    orphan = community.client.post("/hubs", json={"id": "hub-3", "household_id": "nope"},
                                   headers=admin)
    assert orphan.status_code == 422 and "add it first" in orphan.json()["error"]["message"]


def test_staff_are_added_changed_and_cannot_retire_themselves(community: Community) -> None:
    admin = community.auth("admin")
    made = community.client.post("/staff", json={
        "username": "li.na", "name": "李娜", "role": "volunteer",
        "household_ids": ["h-east-yellow"], "password": "a long passphrase"}, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["household_ids"] == ["h-east-yellow"]
    own = community.client.patch(f"/staff/{community.staff['member1'].id}",
                                 json={"phone": "138 0000 0138"}, headers=community.auth("member1"))
    assert own.status_code == 200 and own.json()["phone"] == "138 0000 0138"
    nonsense = community.client.patch(f"/staff/{community.staff['member1'].id}",
                                      json={"phone": "call me"}, headers=community.auth("member1"))
    assert nonsense.status_code == 422 and "is not a phone number" in nonsense.text
    promote = community.client.patch(f"/staff/{community.staff['member1'].id}",
                                     json={"role": "admin"}, headers=community.auth("member1"))
    assert promote.status_code == 403
    me = community.staff["admin"].id
    assert community.client.post(f"/staff/{me}/retire", headers=admin).status_code == 409


def test_webhook_addresses_are_checked_where_staff_are_added_and_changed(community: Community) -> None:
    admin = community.auth("admin")
    member = community.staff["member1"].id
    for url, says in (("https://…", "placeholder"), ("https://example.org/a b", "contains ' '"),
                      ("http://10.0.0.5/h", "plain http")):
        made = community.client.post("/staff", json={"username": "x", "name": "X",
                                                     "role": "duty_leader", "webhook_url": url},
                                     headers=admin)
        assert made.status_code == 422 and says in made.json()["error"]["message"], made.text
        own = community.client.patch(f"/staff/{member}", json={"webhook_url": url},
                                     headers=community.auth("member1"))
        assert own.status_code == 422 and says in own.json()["error"]["message"], own.text
    assert community.state.registry.staff(member).webhook_url is None
    plain = community.client.patch(f"/staff/{member}", headers=community.auth("member1"),
                                   json={"webhook_url": "http://hooks.example.org/h", "allow_http": True})
    assert plain.status_code == 200 and plain.json()["webhook_url"] == "http://hooks.example.org/h"
    assert "plain http" in plain.json()["warnings"][0]
    # Found by a tester: a grid member set their own channel to an internal service (or a cloud's
    # metadata address) and read its answers back in the delivery's error. Inside the community's
    # network, only an admin sets a receiver; a link-local address, nobody.
    named = [f"http://{name}:9000/x"] if (name := loopback_name()) else []  # this machine, by name
    for url in ("http://10.0.0.5/h", "http://127.0.0.1:8080/admin", "http://localhost/x", "http://[::1]/h",
                "http://100.64.0.1/h", *named):
        for body in ({"webhook_url": url, "allow_http": True},
                     {"channels": [{"kind": "wecom", "address": url + "?key=k"}], "allow_http": True}):
            own = community.client.patch(f"/staff/{member}", headers=community.auth("member1"), json=body)
            assert own.status_code == 403 and "only an admin" in own.text, own.text
    by_admin = community.client.patch(f"/staff/{member}", headers=admin,
                                      json={"webhook_url": "http://10.0.0.5/h", "allow_http": True})
    assert by_admin.status_code == 200
    metadata = community.client.patch(f"/staff/{member}", headers=admin,
                                      json={"webhook_url": "http://169.254.169.254/latest", "allow_http": True})
    assert metadata.status_code == 422 and "never a receiver" in metadata.text
    fine = community.client.patch(f"/staff/{member}", headers=community.auth("member1"),
                                  json={"webhook_url": "https://example.org/hooks/m1"})
    assert (fine.status_code, fine.json()["warnings"]) == (200, [])


def test_households_export_as_csv_that_imports_back(community: Community) -> None:
    exported = community.client.get("/exports/households.csv", headers=community.auth("leader"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    assert "h-west-red" in text and "张凤英" in text
    imported = community.client.post("/imports/households", content=text.replace("909", "910"),
                                      headers={**community.auth("leader"),
                                               "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["updated"] == 3 and imported.json()["added"] == 0
    assert community.state.registry.household("h-west-red").address == "9号楼 910"


def test_a_bad_csv_imports_nothing_and_says_which_lines(community: Community) -> None:
    bad = "id,colour,grid,hub\nh-a,red,g-01,hub-a\nh-b,purple,g-01,hub-b\n"
    response = community.client.post("/imports/households", content=bad,
                                      headers={**community.auth("admin"),
                                               "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert "line 3" in response.json()["error"]["message"]
    assert [h.id for h in community.state.registry.households()].count("h-a") == 0


def test_csv_cells_that_look_like_formulas_are_kept_as_text(community: Community) -> None:
    community.client.patch("/households/h-east-yellow", json={"alias": "=HYPERLINK(1)"},
                           headers=community.auth("leader"))
    text = community.client.get("/exports/households.csv",
                                headers=community.auth("leader")).text
    assert "'=HYPERLINK(1)" in text
    # found by a tester: the cockpit's CSVs wrote it as it was, and a tab before "=" passed
    community.client.patch("/households/h-east-red", json={"alias": "\t=1+1", "address": "+1+1"},
                           headers=community.auth("leader"))
    for path in ("/cockpit/households.csv", "/exports/households.csv"):
        text = community.client.get(path, headers=community.auth("leader")).text
        assert "'=HYPERLINK(1)" in text and "'\t=1+1" in text and ",=" not in text, path
    # ...and an export imports as it was: the apostrophe is the spreadsheet's, not the data's
    imported = community.client.post("/imports/households", content=text,
                                     headers={**community.auth("leader"), "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    home = community.state.registry.household("h-east-red")
    assert (home.alias, home.address) == ("\t=1+1", "+1+1")


def test_staff_import_adds_and_updates(community: Community) -> None:
    csv = ("username,name,role,grids,phone\nnew.one,新人,grid_member,g-02,13800000001\n"
           "member1,改名,grid_member,g-01,\n")
    response = community.client.post("/imports/staff", content=csv,
                                      headers={**community.auth("admin"),
                                               "Content-Type": "text/csv"})
    assert response.json() == {"added": 1, "updated": 1, "hubs_added": 0, "grids_added": 0,
                               "consents_recorded": 0, "changed": []}
    assert community.state.registry.staff_by_username("member1").name == "改名"



def test_a_staff_import_checks_every_row_before_writing_any(community: Community) -> None:
    """Found by a tester: a bad phone on line 3 answered 422 after line 2's new member had been
    added, and a grid member with no grid, or a duty leader with one, was accepted."""
    headers = {**community.auth("admin"), "Content-Type": "text/csv"}
    for bad, said in ((("new.one,新人,grid_member,g-02,13800000001\nnew.two,新人二,grid_member,g-02,1380000000\n"),
                       "line 3: phone"),
                      ("new.one,新人,grid_member,,13800000001\n", "line 2: a grid_member works in a grid"),
                      ("new.one,新人,duty_leader,g-01,\n", "line 2: a duty_leader takes no grid"),
                      ("new.one,新人,caseworker,g-01,\n", "line 2: a caseworker takes no grid"),
                      ("new.one,新人,grid_member,g-01,138,0000\n", "line 2: more cells than the header")):
        refused = community.client.post("/imports/staff", content="username,name,role,grids,phone\n" + bad,
                                        headers=headers)
        assert refused.status_code == 422, refused.text
        assert said in refused.json()["error"]["message"] and "nothing imported" in refused.json()["error"]["message"]
    assert [m for m in community.state.registry.roster() if m.username.startswith("new.")] == []

DING = "https://oapi.dingtalk.com/robot/send?access_token=dt0123456789"


def test_channels_are_set_checked_and_shown_without_their_secrets(community: Community) -> None:
    admin = community.auth("admin")
    made = community.client.post("/staff", headers=admin, json={
        "username": "zhou", "name": "周", "role": "duty_leader", "channels": [
            {"kind": "dingtalk", "address": DING, "secret": "SECtopsecret0123"},
            {"kind": "sms", "address": "+86 138 0000 0000", "lang": "en"}, {"kind": "mqtt"}]})
    assert made.status_code == 201, made.text
    shown = made.json()
    assert [c["kind"] for c in shown["channels"]] == ["dingtalk", "sms", "mqtt"]
    assert "SECtopsecret0123" not in made.text and "dt0123456789" not in made.text
    assert shown["channels"][0]["secret"] == "SECt…" and shown["notify_mqtt"] is True
    zhou = community.state.registry.staff(shown["id"])
    assert zhou.reached_by[0].secret == "SECtopsecret0123" and zhou.reached_by[1].address == "+8613800000000"
    # Changing the list without the secret keeps it for the same robot; a bad entry is refused.
    kept = community.client.patch(f"/staff/{zhou.id}", headers=admin, json={"channels": [
        {"kind": "sms", "address": "+8613800000000"}, {"kind": "dingtalk", "address": DING}]})
    assert kept.status_code == 200, kept.text
    assert [c.kind.value for c in community.state.registry.staff(zhou.id).reached_by] == ["sms", "dingtalk"]
    assert community.state.registry.staff(zhou.id).reached_by[1].secret == "SECtopsecret0123"
    assert community.state.registry.staff(zhou.id).notify_mqtt is False
    for bad, says in (([{"kind": "wecom", "address": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}],
                       "has no key="),
                      ([{"kind": "sms", "address": "+8613800000000"}] * 2, "listed twice")):
        refused = community.client.patch(f"/staff/{zhou.id}", headers=admin, json={"channels": bad})
        assert refused.status_code == 422 and says in refused.json()["error"]["message"], refused.text
    trail = [e for e in community.state.audit.for_entity("staff", zhou.id) if e.action == "staff_changed"]
    assert trail[0].details["channels"] == ["sms", "dingtalk"] and "SECtop" not in str(trail)


def test_staff_import_sets_channels_and_refuses_a_bad_one_by_line(community: Community) -> None:
    headers = {**community.auth("admin"), "Content-Type": "text/csv"}
    csv = ("username,name,role,grids,phone,channels\n"
           f"new.two,新人,duty_leader,,13800000002,{DING}#SECx1 sms:13900000000\n".replace(DING, "dingtalk:" + DING))
    assert community.client.post("/imports/staff", content=csv, headers=headers).status_code == 200
    listed = community.state.registry.staff_by_username("new.two").reached_by
    assert [(c.kind.value, c.secret) for c in listed] == [("dingtalk", "SECx1"), ("sms", None)]
    bad = "username,name,role,grids,phone,channels\nnew.three,新,duty_leader,,,fax:123\n"
    refused = community.client.post("/imports/staff", content=bad, headers=headers)
    assert refused.status_code == 422 and "line 2" in refused.json()["error"]["message"]


def test_a_household_without_a_hub_exports_and_imports_again_as_it_was(community: Community) -> None:
    """Found by a tester: `POST /households` makes a household without a hub, the export gives it
    an empty hub cell, and re-importing the export was refused ("column hub: empty"); the header
    also listed consent columns the rows did not carry."""
    made = community.client.post("/households", json={"id": "h-new", "colour": "blue", "grid_id": "g-01",
                                                       "alias": "新住户"}, headers=community.auth("leader"))
    assert made.status_code == 201, made.text
    text = community.client.get("/exports/households.csv", headers=community.auth("leader")).text
    header, *rows = text.lstrip("\ufeff").splitlines()
    assert all(len(row.split(",")) == len(header.split(",")) for row in rows if "," in row and '"' not in row)
    assert "consent_by" not in header
    imported = community.client.post("/imports/households", content=text,
                                     headers={**community.auth("leader"), "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert community.state.registry.hubs(["h-new"]) == []


def test_text_with_a_nul_character_is_refused_on_every_store(community: Community) -> None:
    """Found by a tester: stored and echoed back on SQLite, where PostgreSQL refuses it: a 500
    waited on the production store."""
    alert_id = community.alerts["h-east-red"].id
    said = community.client.post(f"/alerts/{alert_id}/comments", json={"text": "on my way\u0000"},
                                 headers=community.auth("member1"))
    assert said.status_code == 422 and "NUL" in said.text
    for path in ("/imports/households", "/imports/staff"):
        said = community.client.post(path, content="id,colour,grid,hub\nh-x,red,g-01,h\u0000x\n",
                                     headers={**community.auth("admin"), "Content-Type": "text/csv"})
        assert said.status_code == 422 and "NUL" in said.text, path


def test_a_csv_saved_by_excel_on_a_chinese_windows_imports(community: Community) -> None:
    """Found by an integrator: Excel's "CSV (逗号分隔)" is GBK, which the CLI imports and the API
    answered with a bare "unable to parse raw data as a unicode string"."""
    sheet = "id,colour,grid,hub,alias\nh-gbk,红,g-01,h-gbk,李桂兰\n".encode("gbk")
    imported = community.client.post("/imports/households", content=sheet,
                                     headers={**community.auth("leader"), "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert community.state.registry.household("h-gbk").alias == "李桂兰"
    staff = "username,name,role,grids\nzhang.li,张丽,grid_member,g-01\n".encode("gbk")
    imported = community.client.post("/imports/staff", content=staff,
                                     headers={**community.auth("admin"), "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert community.state.registry.staff_by_username("zhang.li").name == "张丽"


def test_a_time_without_its_zone_is_refused_not_read_as_utc(community: Community) -> None:
    """Found by an integrator: `start=2026-12-01T08:00` was read as UTC, eight hours from what a
    community in China means by it, without a word."""
    who = community.auth("member1")
    naive = community.client.get("/households/h-east-red/readings?start=2026-12-01T08:00", headers=who)
    assert naive.status_code == 422 and "has no zone" in naive.json()["error"]["message"]
    start = datetime.fromtimestamp(NOW - 86400, timezone(timedelta(hours=8))).isoformat()
    zoned = community.client.get("/households/h-east-red/readings", params={"start": start}, headers=who)
    assert zoned.status_code == 200, zoned.text
    visit = community.client.post("/households/h-east-red/visits", json={"at": "2026-12-01T08:00:00"}, headers=who)
    assert visit.status_code == 422 and "+08:00" in visit.json()["error"]["message"]
