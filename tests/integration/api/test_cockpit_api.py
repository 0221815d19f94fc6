"""The cockpit over a real state store: leaders see every grid's figures; nobody else sees it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.storage.status import HouseholdStatus
from tests.integration.api.conftest import NOW, Community, build_community


def test_a_leader_sees_each_grids_alerts_past_their_limit_and_who_needs_a_visit(community: Community) -> None:
    community.state.status.save([HouseholdStatus(h, NOW - 3600, "water", None, NOW - 60, NOW)
                                 for h in ("h-east-red", "h-east-yellow")])
    answer = community.client.get("/cockpit", headers=community.auth("leader"))
    assert answer.status_code == 200
    body = answer.json()
    grids = {g["grid_id"]: g for g in body["grids"]}
    east, west = grids["g-01"], grids["g-02"]
    assert east["past_limit"] == [community.alerts["h-east-red"].id]  # red: 5 minutes, opened 10 ago
    assert west["past_limit"] == [community.alerts["h-west-red"].id]
    assert east["open_by_colour"] == {"red": 1} and east["oldest_open_min"] == 10.0
    assert east["hubs_offline"] == [] and west["hubs_offline"] == ["h-west-red"]  # never heard from
    assert "h-east-red" in east["visits_overdue"]  # red is visited daily; never visited
    assert west["visits_overdue"] == []  # visited two hours ago
    assert len(body["trend"]) == 30 and body["trend"][-1]["opened"] == 2
    shown = {h["household_id"]: h for h in body["households"]}
    assert shown["h-west-red"]["watch"] == "hub_silent"


@pytest.mark.parametrize("who", ["member1", "head1", "caseworker", "volunteer"])
def test_only_duty_leaders_and_admins_open_the_cockpit(community: Community, who: str) -> None:
    assert community.client.get("/cockpit", headers=community.auth(who)).status_code == 403
    assert community.client.get("/cockpit/grids.csv", headers=community.auth(who)).status_code == 403


def test_each_table_downloads_as_csv_that_excel_opens(community: Community) -> None:
    answer = community.client.get("/cockpit/grids.csv", headers=community.auth("admin"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["grid_id"] for r in rows] == ["g-01", "g-02"]
    assert rows[0]["name"] == "东园网格" and rows[0]["past_limit"] == "1"
    alerts = list(csv.DictReader(io.StringIO(community.client.get(
        "/cockpit/alerts.csv", headers=community.auth("admin")).content.decode("utf-8-sig"))))
    assert {int(r["id"]) for r in alerts} == {a.id for a in community.alerts.values()}
    assert community.client.get("/cockpit/secrets.csv", headers=community.auth("admin")).status_code == 422


def test_past_limit_follows_the_ladder_in_force_not_the_old_fixed_waits(tmp_path: Path) -> None:
    # The settings file gives red households a first step of 15 minutes; the help button keeps its own.
    built = build_community(tmp_path, dispatch={"ladders": {"red": {"steps": [
        {"who": ["grid_member"]}, {"after_min": 15, "who": ["grid_head"]}]}}})
    try:
        pressed = built.state.alerts.open(Finding("h-east-yellow", AlertKind.HELP, Severity.URGENT, NOW - 180,
                                                  "the help button was pressed"), now=NOW - 180)
        assert pressed is not None
        body = built.client.get("/cockpit", headers=built.auth("leader")).json()
    finally:
        built.client.close()
        built.readings.close()
        built.state.close()
    east = next(g for g in body["grids"] if g["grid_id"] == "g-01")
    assert east["past_limit"] == [pressed.id]  # help: two minutes; red inactivity, 10 minutes old: 15
    limits = {a["id"]: a["limit_min"] for a in body["alerts"]}
    assert limits == {pressed.id: 2.0, **{a.id: 15.0 for a in built.alerts.values()}}
