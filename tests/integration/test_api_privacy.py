"""A worker sees only their own grids' households and alerts, object by object."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.bootstrap import ApiServer, build
from shouwang.broker import free_port
from shouwang.clock import FastClock
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import Grid, Household, Role, Tier
from shouwang.settings import Settings

NOW = 1_750_000_000.0


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[httpx.Client, dict[str, str], dict[str, int]]]:
    system = build(Settings(storage={"data_dir": tmp_path}), clock=FastClock(NOW, 1.0))
    registry = system.state.registry
    for grid in (Grid("g-a", "A"), Grid("g-b", "B")):
        registry.add_grid(grid)
    tokens = {}
    for name, role, grids in (("member_a", Role.GRID_MEMBER, ["g-a"]),
                              ("member_b", Role.GRID_MEMBER, ["g-b"]),
                              ("leader", Role.DUTY_LEADER, [])):
        person = registry.add_staff(username=name, name=name, role=role, grid_ids=grids, now=NOW)
        tokens[name] = registry.issue_token(person.id, name="t", now=NOW)
    alerts = {}
    for household_id, grid in (("hh-a", "g-a"), ("hh-b", "g-b")):
        registry.add_household(Household(household_id, Tier.ORANGE, grid), now=NOW)
        alert = system.state.alerts.open(Finding(household_id, AlertKind.INACTIVITY,
                                                 Severity.URGENT, NOW - 9000, "quiet"), now=NOW)
        assert alert is not None
        alerts[household_id] = alert.id
    server = ApiServer(system.app, "127.0.0.1", free_port())
    server.start()
    with httpx.Client(base_url=server.url) as client:
        yield client, tokens, alerts
    server.stop()
    system.stop()


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_grid_member_gets_404_for_another_grids_household_and_alert(api: tuple) -> None:  # type: ignore[type-arg]
    client, tokens, alerts = api
    member_b = as_(tokens["member_b"])
    assert client.get("/households/hh-a", headers=member_b).status_code == 404
    assert client.get(f"/alerts/{alerts['hh-a']}", headers=member_b).status_code == 404
    refused = client.post(f"/alerts/{alerts['hh-a']}/acknowledge", headers=member_b)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    assert client.get("/households/hh-b", headers=member_b).status_code == 200


def test_a_grid_member_cannot_list_another_grids_households_or_alerts(api: tuple) -> None:  # type: ignore[type-arg]
    client, tokens, _ = api
    member_b = as_(tokens["member_b"])
    def items(path: str, headers: dict[str, str]) -> list[dict[str, object]]:
        page: list[dict[str, object]] = client.get(path, headers=headers).json()["items"]
        return page

    assert [h["id"] for h in items("/households", member_b)] == ["hh-b"]
    assert {a["household_id"] for a in items("/alerts", member_b)} == {"hh-b"}
    assert items("/alerts?grid=g-a", member_b) == []
    leader = as_(tokens["leader"])
    assert [h["id"] for h in items("/households", leader)] == ["hh-a", "hh-b"]


def test_without_a_valid_token_nothing_is_shown(api: tuple) -> None:  # type: ignore[type-arg]
    client, _, _ = api
    assert client.get("/alerts").status_code == 401
    answer = client.get("/households", headers=as_("sw_wrong"))
    assert answer.status_code == 401
    assert "unknown" in answer.json()["error"]["message"]
