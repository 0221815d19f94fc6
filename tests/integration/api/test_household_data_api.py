"""Readings, activity, timeline, visits, silences, an elder's export and anonymising."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from api.routes.family_link import family_actor
from shouwang.domain.alerts import Outcome
from shouwang.domain.cover import FamilyContact
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Tier
from shouwang.health import Health
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.reminders import Reminder
from shouwang.storage.status import HouseholdStatus
from tests.integration.api.conftest import NOW, Community, build_community

METRICS_TOKEN = "scrape-me-with-this-long-token"


def test_readings_come_as_hourly_use_per_sensor(community: Community) -> None:
    response = community.client.get("/households/h-east-red/readings?start=2026-11-18T00:00:00Z"
                                    "&end=2026-11-18T04:00:00Z", headers=community.auth("member1"))
    assert response.status_code == 200, response.text
    sensors = {s["sensor"]: s for s in response.json()["sensors"]}
    assert set(sensors) == {"water", "door"}
    water = sensors["water"]
    assert water["unit"] == "m3" and len(water["hours"]) == 4
    # Each hour draws 0.005 m3 between its two readings and 0.005 since the hour before.
    assert all(abs(h["use"] - 0.01) < 1e-6 for h in water["hours"])
    assert sensors["door"]["unit"] == "changes"


def test_a_period_longer_than_a_month_is_refused_with_advice(community: Community) -> None:
    response = community.client.get("/households/h-east-red/readings?start=2026-01-01T00:00:00Z",
                                    headers=community.auth("member1"))
    assert response.status_code == 422 and "31 days" in response.json()["error"]["message"]


def test_activity_counts_signs_of_life_per_hour_and_kind(community: Community) -> None:
    body = community.client.get("/households/h-east-red/activity?days=2",
                                headers=community.auth("member1")).json()
    assert body["hours"] == 48 and set(body["kinds"]) >= {"water", "door", "visit"}
    assert all(len(v) == 48 for v in body["counts"].values())
    assert sum(body["counts"]["water"]) > 40
    # Uses, as the detector counts them: the door opened five minutes after the tap (every third
    # hour) is part of the same use, counted once, as water.
    assert sum(body["counts"]["door"]) == 0
    # What is usual for this home, by local hour of the day, from the days before today.
    assert body["usual_days"] >= 1 and all(len(v) == 24 for v in body["usual"].values())
    assert sum(body["usual"]["water"]) > 10
    assert body["silence"]["hours"] > 0 and body["silence"]["expected"] >= 0


def test_the_timeline_shows_signs_alerts_visits_and_silences(community: Community) -> None:
    events = community.client.get("/households/h-west-red/timeline",
                                  headers=community.auth("member2")).json()["events"]
    kinds = {e["kind"] for e in events}
    assert {"sign_of_life", "alert", "visit", "silence"} <= kinds
    times = [e["at"] for e in events]
    assert times == sorted(times, reverse=True)


def test_the_timeline_names_who_acted_not_their_login(community: Community) -> None:
    member = community.staff["member2"]
    community.state.registry.update_staff(member.id, name="李强")
    alert_id = community.alerts["h-west-red"].id
    community.client.post(f"/alerts/{alert_id}/acknowledge", headers=community.auth("member2"))
    community.clock.t += 60
    events = community.client.get("/households/h-west-red/timeline",
                                  headers=community.auth("member2")).json()["events"]
    acted = [e["details"] for e in events if e["kind"] == "alert"]
    acknowledged = next(d for d in acted if d["action"] == "acknowledged")
    assert (acknowledged["actor"], acknowledged["actor_name"]) == ("member2", "李强")
    opened = next(d for d in acted if d["action"] == "opened")
    assert opened["actor_name"] is None, "the detector is no staff member; the page words it"
    visit = next(e["details"] for e in events if e["kind"] == "visit")
    assert visit["staff_name"] == "李强"


def test_an_escalation_in_the_timeline_says_whom_it_reached(community: Community) -> None:
    head = community.state.registry.update_staff(community.staff["head1"].id, name="王建国")
    alert = community.alerts["h-east-red"]
    community.state.alerts.route(alert, recipients={1: [(head.id, Channel.MQTT),
                                                        (head.id, Channel.WEBHOOK)]},
                                 first_escalation_at=None, now=NOW - 300)
    community.state.alerts.escalate(alert, waits_s=(300.0, 900.0), now=NOW - 300)
    events = community.client.get("/households/h-east-red/timeline",
                                  headers=community.auth("member1")).json()["events"]
    escalated = next(e["details"] for e in events
                     if e["kind"] == "alert" and e["details"]["action"] == "escalated")
    assert escalated["escalated_to"] == [{"name": "王建国", "role": "grid_head"}]


def test_reminders_family_calls_moved_on_rungs_and_colour_changes_are_in_the_timeline(
        community: Community) -> None:
    state = community.state
    head = state.registry.update_staff(community.staff["head1"].id, name="王建国")
    alert = community.alerts["h-east-red"]
    state.alerts.route(alert, recipients={0: [(head.id, Channel.WEBHOOK)]}, first_escalation_at=None,
                       now=NOW - 600)
    state.alerts.escalate(alert, waits_s=(300.0, 900.0), now=NOW - 500,
                          reason="every channel of rung 0 failed: staff 3 webhook: https://hooks.example.org/s3cret")
    state.reminders.arm(alert.id, level=1, next_at=NOW - 400)
    assert state.reminders.send(Reminder(alert.id, 1, NOW - 400, 0), recipients=[(head.id, Channel.WEBHOOK)],
                                next_at=NOW - 340, now=NOW - 400)
    son = state.family.add(FamilyContact(0, "h-east-red", "王小明", "儿子", "sms", "13800138000", "王小明",
                                         NOW - 86400), actor=Actor("admin"), now=NOW - 86400)
    with writing(state.engine) as db:
        state.family.queue(db, alert.id, [son], NOW - 300)
    (delivery,) = state.family.deliveries(alert.id)
    state.family.mark(delivery, error="sms gateway answered 503", retry_at=None, now=NOW - 290)
    state.family.remove(son.id, actor=Actor("admin"), now=NOW - 250)  # still named where they answered
    with writing(state.engine) as db:
        trail.record(db, at=NOW - 200, actor=family_actor(son), action="family_unreached", entity="alert",
                     entity_id=alert.id, details={"family_contact_id": son.id})
    state.care.change_tier(state.registry.household("h-east-red"), Tier.ORANGE, reason="女儿搬回同住",
                           actor=Actor("head1", head.id), now=NOW - 100)
    events = community.client.get("/households/h-east-red/timeline",
                                  headers=community.auth("member1")).json()["events"]
    said = {e["details"]["action"]: e["details"] for e in events if e["kind"] in ("alert", "colour")}
    assert said["escalated"]["moved_on"] is True
    assert "s3cret" not in json.dumps(events), "why a rung failed (addresses) stays in the audit trail"
    assert (said["reminded"]["reminder"], said["reminded"]["reminded"]) == (1, [{"name": "王建国",
                                                                                  "role": "grid_head"}])
    family = {"name": "王小明", "relation": "儿子"}
    for action in ("family_called", "family_delivery_failed", "family_unreached"):
        assert said[action]["family"] == family, action
    colour = next(e for e in events if e["kind"] == "colour")
    assert {k: colour["details"][k] for k in ("action", "actor_name", "from", "to", "reason")} == {
        "action": "tier_changed", "actor_name": "王建国", "from": "red", "to": "orange", "reason": "女儿搬回同住"}
    assert [e["kind"] for e in events].index("colour") == 0, "newest first"


def test_a_resolved_alert_in_the_timeline_keeps_its_note(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    resolved = community.client.post(f"/alerts/{alert_id}/resolve",
                                     json={"outcome": "elder_fine",
                                           "note": "asleep in the chair"},
                                     headers=community.auth("member1"))
    assert resolved.status_code == 200, resolved.text
    community.clock.t += 60
    events = community.client.get("/households/h-east-red/timeline",
                                  headers=community.auth("member1")).json()["events"]
    done = next(e["details"] for e in events
                if e["kind"] == "alert" and e["details"]["action"] == "resolved")
    assert (done["outcome"], done["note"]) == ("elder_fine", "asleep in the chair")


def test_a_visit_counts_and_a_future_visit_is_refused(community: Community) -> None:
    made = community.client.post("/households/h-east-red/visits", json={"note": "well"},
                                 headers=community.auth("member1"))
    assert made.status_code == 201
    assert community.state.visits.since(0)[-1].household_id == "h-east-red"
    future = community.client.post("/households/h-east-red/visits",
                                   json={"at": "2030-01-01T00:00:00Z"},
                                   headers=community.auth("member1"))
    assert future.status_code == 422


def test_away_until_silences_and_cancelling_ends_them(community: Community) -> None:
    made = community.client.post("/households/h-east-red/silences",
                                 json={"until": "2026-11-20T00:00:00Z", "reason": "hospital"},
                                 headers=community.auth("caseworker"))
    assert made.status_code == 201, made.text
    assert community.state.registry.household("h-east-red").away_until is not None
    cancelled = community.client.post(f"/households/h-east-red/silences/{made.json()['id']}"
                                      "/cancel", headers=community.auth("caseworker"))
    assert cancelled.status_code == 200
    assert community.state.registry.household("h-east-red").away_until is None
    past = community.client.post("/households/h-east-red/silences",
                                 json={"until": "2020-01-01T00:00:00Z"},
                                 headers=community.auth("caseworker"))
    assert past.status_code == 422


def test_an_elders_data_exports_whole_and_only_for_leaders(community: Community) -> None:
    refused = community.client.get("/households/h-east-red/export",
                                   headers=community.auth("member1"))
    assert refused.status_code == 403
    body = community.client.get("/households/h-east-red/export",
                                headers=community.auth("leader")).json()
    assert body["household"][0]["alias"] == "王秀英"
    assert len(body["readings"]) > 100 and body["consents"] and body["alerts"]
    audit = community.client.get("/audit?action=exported",
                                 headers=community.auth("admin")).json()
    assert audit["total"] == 1


def test_anonymising_removes_who_they_were_and_keeps_history(community: Community) -> None:
    community.client.post("/households/h-west-red/visits", json={"note": "张凤英 seemed tired"},
                          headers=community.auth("member2"))
    alert = community.alerts["h-west-red"]
    open_one = community.client.post("/households/h-west-red/anonymise", headers=community.auth("admin"))
    assert open_one.status_code == 409 and f"alert #{alert.id}" in open_one.json()["error"]["message"]
    community.state.alerts.clear("h-west-red", alert.kind, reason="life resumed", now=NOW + 60)
    response = community.client.post("/households/h-west-red/anonymise",
                                     headers=community.auth("admin"))
    assert response.status_code == 200
    home = response.json()
    assert home["alias"] is None and home["address"] is None and home["retired_at"]
    export = json.dumps(community.client.get("/households/h-west-red/export",
                                             headers=community.auth("admin")).json(),
                        ensure_ascii=False)
    assert "张凤英" not in export and "seemed tired" not in export and "with her son" not in export
    assert community.state.alerts.get(community.alerts["h-west-red"].id).kind.value == \
        "inactivity"
    again = community.client.post("/households/h-west-red/anonymise",
                                  headers=community.auth("admin"))
    assert again.status_code == 409


def test_the_audit_trail_is_for_admins_and_leaders(community: Community) -> None:
    community.client.post(f"/alerts/{community.alerts['h-east-red'].id}/acknowledge",
                          headers=community.auth("member1"))
    page = community.client.get("/audit?entity=alert&action=acknowledged",
                                headers=community.auth("leader")).json()
    assert page["total"] == 1 and page["items"][0]["actor"] == "member1"
    assert community.client.get("/audit", headers=community.auth("head1")).status_code == 403


def test_health_needs_no_token_metrics_need_theirs_and_neither_names_anybody(
        tmp_path: Path) -> None:
    community = build_community(tmp_path, metrics_token=METRICS_TOKEN)
    health = community.client.get("/health").json()
    assert health["open_alerts"] == 2 and health["dead_letters"] == 0
    assert community.client.get("/metrics").status_code == 401
    assert community.client.get("/metrics", headers=community.auth("admin")).status_code == 401
    metrics = community.client.get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'shouwang_alerts_unresolved{colour="red"} 2.0' in metrics
    assert "shouwang_dead_letters 0.0" in metrics and "shouwang_deliveries_failed" in metrics
    assert "shouwang_readings_accepted_total" in metrics
    assert "王秀英" not in metrics and "h-east-red" not in metrics
    community.client.close()
    community.state.close()
    community.readings.close()


def test_metrics_are_off_until_their_token_is_set(community: Community) -> None:
    refused = community.client.get("/metrics", headers=community.auth("admin"))
    assert refused.status_code == 403
    assert "SHOUWANG_API__METRICS_TOKEN" in refused.json()["error"]["message"]


def test_the_live_feed_streams_alert_changes_the_viewer_may_see(community: Community) -> None:
    east, west = community.alerts["h-east-red"].id, community.alerts["h-west-red"].id
    community.client.post(f"/alerts/{west}/acknowledge", headers=community.auth("member2"))
    community.client.post(f"/alerts/{east}/acknowledge", headers=community.auth("member1"))
    with community.client.stream("GET", "/events", headers={**community.auth("member1"),
                                                            "Last-Event-ID": "0"}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    frames = [f for f in text.split("\n\n") if "event: alert" in f]
    alerts = [json.loads(f.split("data: ", 1)[1]) for f in frames]
    assert {a["alert"]["id"] for a in alerts} == {east}
    assert [a["action"] for a in alerts] == ["opened", "acknowledged"]


def test_health_is_failing_while_a_role_of_the_process_reports_a_problem(
        community: Community, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a storage tester: `shouwang run`'s /health said ok through a full disk, a
    read-only file system, failing ticks and a help press not raised; the roles' problems were
    only on their own health endpoints, which `run` does not open."""
    monkeypatch.setattr(logging.getLogger("shouwang.health"), "disabled", True)
    gateway = Health("gateway")
    community.client.app.state.context.roles.append(gateway)  # type: ignore[attr-defined]
    assert community.client.get("/health").status_code == 200
    gateway.problem("reading_store_unavailable", "the reading store cannot take readings (disk full)")
    failing = community.client.get("/health")
    assert failing.status_code == 503
    body = failing.json()
    assert body["status"] == "failing" and body["open_alerts"] == 2
    assert [(p["role"], p["problem"]) for p in body["problems"]] == [("gateway", "reading_store_unavailable")]
    assert "disk full" in body["problems"][0]["message"]
    gateway.clear("reading_store_unavailable")
    assert community.client.get("/health").json()["status"] == "ok"


def test_the_page_is_served_with_a_strict_content_policy(community: Community) -> None:
    page = community.client.get("/")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "{{" not in page.text
    assert community.client.get("/static/app.js").status_code == 200
    api = community.client.get("/health")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_a_card_says_when_its_alert_was_closed_but_the_home_is_still_silent(community: Community) -> None:
    alert = community.alerts["h-east-red"]
    community.state.alerts.resolve(alert.id, staff=community.staff["leader"], outcome=Outcome.ELDER_FINE,
                                   note=None, now=NOW)
    community.state.status.save([HouseholdStatus("h-east-red", alert.since - 60, "water", None, NOW, NOW)])
    card = community.client.get("/households/h-east-red", headers=community.auth("leader")).json()
    assert card["open_alert"] is None
    assert card["closed_while_silent"]["id"] == alert.id
    assert card["closed_while_silent"]["outcome"] == "elder_fine"
    # A sign of life after the silence began: the closed alert is history, not news.
    community.state.status.save([HouseholdStatus("h-east-red", alert.since + 60, "water", None, NOW, NOW)])
    card = community.client.get("/households/h-east-red", headers=community.auth("leader")).json()
    assert card["closed_while_silent"] is None


def test_a_card_and_the_chart_weigh_the_silence_by_the_detectors_own_idea_of_the_week(
        community: Community) -> None:
    community.state.status.save([HouseholdStatus("h-east-red", NOW - 5400, "water", None, NOW, NOW)])
    before = community.client.get("/households/h-east-red", headers=community.auth("leader")).json()
    assert before["usual_now"] is None  # nothing learned yet: nothing claimed
    community.state.rhythm.save({"h-east-red": [2.0] * 168}, now=NOW)
    card = community.client.get("/households/h-east-red", headers=community.auth("leader")).json()
    assert card["usual_now"] == {"silent_min": 90, "expected": 3.0}
    listed = community.client.get("/households", headers=community.auth("leader")).json()["items"]
    assert next(h for h in listed if h["id"] == "h-east-red")["usual_now"]["expected"] == 3.0
    chart = community.client.get("/households/h-east-red/activity?days=1",
                                 headers=community.auth("leader")).json()
    assert chart["silence"]["expected"] == round(2.0 * chart["silence"]["hours"], 1)
    volunteer = community.client.get("/households/h-east-red", headers=community.auth("volunteer")).json()
    assert volunteer["usual_now"] is None
