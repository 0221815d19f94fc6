"""Overdue visits, colour decisions and the 369 figures over the real app and a real store:
each worker sees only their own households; a colour changes only by a person, with a reason."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from shouwang.domain.alerts import Outcome
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Tier
from shouwang.domain.notices import NewNotice, NoticeKind
from shouwang.domain.tier_advice import TierSuggestion
from tests.integration.api.conftest import NOW, Community

DAY = 86400.0


def overdue(community: Community, who: str) -> list[str]:
    answer = community.client.get("/visits/overdue", headers=community.auth(who))
    assert answer.status_code == 200, answer.text
    return sorted(v["household_id"] for v in answer.json())


def test_a_worker_sees_only_the_overdue_visits_of_their_own_households(community: Community) -> None:
    community.clock.t = NOW + DAY  # west's red visit (two hours before NOW) is now overdue too
    assert overdue(community, "member1") == ["h-east-red", "h-east-yellow"]
    assert overdue(community, "member2") == ["h-west-red"]
    assert overdue(community, "caseworker") == ["h-east-red"]
    assert overdue(community, "leader") == ["h-east-red", "h-east-yellow", "h-west-red"]
    [east_red] = [v for v in community.client.get("/visits/overdue", headers=community.auth("caseworker")).json()]
    assert east_red["claimed_by"] == [community.staff["caseworker"].id] and east_red["last_visit_at"] is None


def test_the_household_card_says_when_its_visit_is_due(community: Community) -> None:
    cards = community.client.get("/households", headers=community.auth("leader")).json()["items"]
    visit = {c["id"]: c["visit"] for c in cards}
    assert visit["h-east-red"]["overdue"] is True
    assert visit["h-west-red"]["overdue"] is False and visit["h-west-red"]["last_visit_at"] is not None


def test_the_households_own_staff_raise_its_colour_with_a_reason_kept_in_the_trail(community: Community) -> None:
    client, auth = community.client, community.auth
    path = "/households/h-east-yellow/colour"
    assert client.post(path, json={"colour": "orange", "reason": " "}, headers=auth("member1")).status_code == 422
    assert client.post(path, json={"colour": "orange", "reason": "x"}, headers=auth("member2")).status_code == 404
    assert client.post(path, json={"colour": "green", "reason": "better"}, headers=auth("member1")).status_code == 403
    answer = client.post(path, json={"colour": "orange", "reason": "两次送医"}, headers=auth("member1"))
    assert answer.status_code == 200 and answer.json()["colour"] == "orange"
    assert community.state.registry.household("h-east-yellow").tier is Tier.ORANGE
    [entry] = [e for e in community.state.audit.for_entity("household", "h-east-yellow")
               if e.action == "tier_changed"]
    assert (entry.actor, entry.details["from"], entry.details["to"], entry.details["reason"]) == (
        "member1", "yellow", "orange", "两次送医")
    lowered = client.post(path, json={"colour": "yellow", "reason": "recovered"}, headers=auth("leader"))
    assert lowered.status_code == 200 and lowered.json()["colour"] == "yellow"


def test_an_open_colour_suggestion_shows_on_the_card_until_someone_decides(community: Community) -> None:
    state, client, auth = community.state, community.client, community.auth
    suggestion = state.care.suggest(TierSuggestion("h-east-yellow", Tier.YELLOW, Tier.ORANGE, (1, 2, 3)), [],
                                    now=NOW)
    card = client.get("/households/h-east-yellow", headers=auth("member1")).json()
    assert card["colour_suggestion"] == {"id": suggestion.id, "to_colour": "orange", "alerts": 3}
    assert [s["id"] for s in client.get("/colour-suggestions", headers=auth("member1")).json()] == [suggestion.id]
    assert client.get("/colour-suggestions", headers=auth("member2")).json() == []
    declined = client.post("/households/h-east-yellow/colour-suggestion/decline",
                           json={"reason": "家属已搬来同住"}, headers=auth("member1"))
    assert declined.status_code == 200 and declined.json()["colour_suggestion"] is None
    assert state.care.suggestion(suggestion.id).state == "declined"
    again = client.post("/households/h-east-yellow/colour-suggestion/decline", json={"reason": "again"},
                        headers=auth("member1"))
    assert again.status_code == 409


def test_the_369_figures_cover_only_the_grids_a_worker_looks_after(community: Community) -> None:
    state, client, auth = community.state, community.client, community.auth
    east = community.alerts["h-east-red"]  # opened ten minutes before NOW
    state.alerts.acknowledge(east.id, staff=community.staff["member1"], now=NOW + 3600)
    state.alerts.resolve(east.id, staff=community.staff["member1"], outcome=Outcome.ELDER_FINE, note=None,
                         now=NOW + 4 * 3600)
    community.clock.t = NOW + 10 * 3600
    mine = client.get("/cockpit/responses?month=2026-11", headers=auth("member1")).json()
    assert mine["limits_h"] == {"respond": 3.0, "handle": 6.0, "settle": 9.0}
    rows = {(r["by"], r["group"]): r for r in mine["rows"]}
    assert ("grid", "g-02") not in rows and rows[("all", "")]["alerts"] == 1
    assert rows[("grid", "g-01")]["respond"] == {"measured": 1, "within": 1, "share": 1.0, "median_min": 70.0}
    everyone = {(r["by"], r["group"]): r for r in client.get("/cockpit/responses?month=2026-11",
                                                             headers=auth("leader")).json()["rows"]}
    # West's alert is still open after ten hours: late on every step.
    assert everyone[("grid", "g-02")]["settle"] == {"measured": 1, "within": 0, "share": 0.0, "median_min": None}
    assert everyone[("colour", "red")]["alerts"] == 2
    assert client.get("/cockpit/responses?month=2026-10", headers=auth("leader")).json()["rows"][-1]["alerts"] == 0


def test_the_369_figures_download_as_csv_and_are_not_for_volunteers(community: Community) -> None:
    answer = community.client.get("/cockpit/responses.csv?month=2026-11", headers=community.auth("head1"))
    assert answer.status_code == 200 and answer.text.startswith("\ufeffmonth,by,group,alerts,respond_measured")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert [r["group"] for r in rows if r["by"] == "grid"] == ["g-01"]
    assert community.client.get("/cockpit/responses", headers=community.auth("volunteer")).status_code == 403


@pytest.mark.parametrize("month", ["2026-13", "26-11"])
def test_a_month_that_is_not_one_is_refused(community: Community, month: str) -> None:
    answer = community.client.get(f"/cockpit/responses?month={month}", headers=community.auth("leader"))
    assert answer.status_code == 422


def test_reminders_and_colour_decisions_are_part_of_an_elders_data_and_anonymised_with_it(
    community: Community,
) -> None:
    state, client, auth = community.state, community.client, community.auth
    member2 = community.staff["member2"]
    state.care.owe([NewNotice(NoticeKind.VISIT_OVERDUE, "h-west-red", member2.id, Channel.WEBHOOK, "k",
                              {"household": {"alias": "张凤英"}, "text_zh": "【走访提醒】张凤英…"})], now=NOW)
    state.care.suggest(TierSuggestion("h-west-red", Tier.ORANGE, Tier.RED, ()), [], now=NOW)
    assert client.post("/households/h-west-red/colour-suggestion/decline", json={"reason": "张凤英的儿子回来了"},
                       headers=auth("member2")).status_code == 200
    export = client.get("/households/h-west-red/export", headers=auth("admin")).json()
    assert len(export["care_notices"]) == 1 and len(export["tier_suggestions"]) == 1
    alert = community.alerts["h-west-red"]
    state.alerts.clear("h-west-red", alert.kind, reason="life resumed", now=NOW + 60)  # (refused while open)
    assert client.post("/households/h-west-red/anonymise", headers=auth("admin")).status_code == 200
    after = json.dumps(client.get("/households/h-west-red/export", headers=auth("admin")).json(),
                       ensure_ascii=False)
    assert "张凤英" not in after
    assert [n.kind for n in state.care.notices(household_id="h-west-red")] == [NoticeKind.VISIT_OVERDUE]


def test_a_phone_call_counts_as_a_contact_for_369_but_not_as_one_of_the_colours_visits(
    community: Community,
) -> None:
    client, auth = community.client, community.auth
    community.clock.t = NOW + 3600
    half_hour_ago = datetime.fromtimestamp(NOW + 1800, UTC).isoformat()
    call = client.post("/households/h-east-red/visits",
                       json={"how": "call", "note": "她说一切都好", "at": half_hour_ago}, headers=auth("caseworker"))
    assert call.status_code == 201 and call.json()["how"] == "call"
    assert "h-east-red" in overdue(community, "caseworker")  # a call is not the daily visit
    rows = {(r["by"], r["group"]): r for r in client.get("/cockpit/responses?month=2026-11",
                                                         headers=auth("caseworker")).json()["rows"]}
    assert rows[("all", "")]["handle"] == {"measured": 1, "within": 1, "share": 1.0, "median_min": 40.0}
    timeline = client.get("/households/h-east-red/timeline", headers=auth("caseworker")).json()["events"]
    assert any(e["kind"] == "visit" and e["details"]["how"] == "call" for e in timeline)
    visit = client.post("/households/h-east-red/visits", json={}, headers=auth("caseworker"))
    assert visit.json()["how"] == "visit" and "h-east-red" not in overdue(community, "caseworker")
    assert client.post("/households/h-east-red/visits", json={"how": "letter"},
                       headers=auth("caseworker")).status_code == 422
