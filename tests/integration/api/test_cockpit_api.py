"""The cockpit over a real state store: leaders see every grid's figures; nobody else sees it."""

from __future__ import annotations

import csv
import io

import pytest

from shouwang.storage.status import HouseholdStatus
from tests.integration.api.conftest import NOW, Community


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
