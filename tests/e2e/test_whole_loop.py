"""The whole loop on one machine: hub → MQTT → store → detector → alert → worker → acknowledged.

A simulated red household on a fast clock, a real embedded broker, real SQLite files, the API
over real HTTP, and webhooks served by the test itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest

from cli.bootstrap import ApiServer, System, build
from shouwang.broker import EmbeddedBroker, free_port
from shouwang.clock import FastClock
from shouwang.domain.alerts import Alert, AlertKind, AlertState
from shouwang.domain.model import Grid, Household, Hub, Role, Tier
from shouwang.settings import MqttSettings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from simulator.home import SimulatedHome
from simulator.incidents import Incident, IncidentKind
from simulator.publisher import Simulation
from simulator.routine import Profile
from tests.support import WebhookReceiver, settings_for_test, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.slow]
TZ = ZoneInfo("Asia/Shanghai")
# A fixed Tuesday morning, so the elder's routine (and this test) is the same every run.
START = datetime(2026, 3, 10, 10, 0, tzinfo=TZ).timestamp()
SPEED = 600.0
STAFF = (("member", Role.GRID_MEMBER), ("head", Role.GRID_HEAD), ("caseworker", Role.CASEWORKER),
         ("leader", Role.DUTY_LEADER))


@dataclass
class Community:
    system: System
    api: httpx.Client
    hooks: WebhookReceiver
    tokens: dict[str, str]
    simulation: Simulation

    def close(self) -> None:
        self.api.close()
        self.system.stop()
        self.hooks.close()

    def inactivity_alert(self) -> Alert | None:
        alerts = [a for a in self.system.state.alerts.list() if a.kind is AlertKind.INACTIVITY]
        return alerts[0] if alerts else None


def start_community(tmp_path: Path, mqtt: MqttSettings, incident: Incident) -> Community:
    port = free_port()
    settings = settings_for_test(tmp_path, mqtt, dispatch={"ladders_min": {"red": [5, 120]}},
                                 detector={"tick_s": 60}, api={"public_url": f"http://127.0.0.1:{port}"})
    clock = FastClock(START, SPEED)
    system = build(settings, clock=clock)
    hooks = WebhookReceiver()
    registry, now = system.state.registry, clock.now()
    registry.add_grid(Grid("g-a", "东园网格"))
    people = {name: registry.add_staff(username=name, name=name, role=role,
                                       grid_ids=[] if role in (Role.CASEWORKER, Role.DUTY_LEADER)
                                       else ["g-a"], webhook_url=hooks.url(name), now=now)
              for name, role in STAFF}
    tokens = {name: registry.issue_token(s.id, name="test", now=now) for name, s in people.items()}
    history = 3 * 86400
    registry.add_household(Household("hh-red", Tier.RED, "g-a", people["caseworker"].id,
                                     alias="王秀英", monitoring_since=START - history), now=now)
    registry.add_hub(Hub("h-red", "hh-red"), now=now)
    system.state.consent.record(Consent("hh-red", "王秀英", "self", sensing=True, share_with_family=True,
                                        given_at=START - history), actor=Actor("test"), now=now)
    profile = Profile.draw(np.random.default_rng(3))
    home = SimulatedHome("hh-red", "h-red", profile, seed=11, tz=TZ, start=START - history,
                         incidents=[incident])
    system.start_services()
    api = ApiServer(system.app, "127.0.0.1", port)
    api.start()
    system.add_stopper(api.stop)
    simulation = Simulation([home], mqtt=mqtt, clock=clock)
    simulation.connect()
    simulation.backfill(clock.now())
    simulation.start()
    system.add_stopper(simulation.stop)
    return Community(system, httpx.Client(base_url=api.url, timeout=10), hooks, tokens, simulation)


@pytest.fixture
def mqtt(embedded_broker: EmbeddedBroker, embedded_mqtt: MqttSettings) -> MqttSettings:
    return embedded_mqtt


@pytest.fixture
def incapacitated(tmp_path: Path, mqtt: MqttSettings) -> Iterator[Community]:
    fell = Incident("hh-red", IncidentKind.INCAPACITATION, START - 11.9 * 3600)
    community = start_community(tmp_path, mqtt, fell)
    yield community
    community.close()


@pytest.fixture
def recovers(tmp_path: Path, mqtt: MqttSettings) -> Iterator[Community]:
    dozed = Incident("hh-red", IncidentKind.INCAPACITATION, START - 11.9 * 3600, START + 0.3 * 3600)
    community = start_community(tmp_path, mqtt, dozed)
    yield community
    community.close()


def about(body: dict[str, Any], alert_id: int) -> bool:
    """A notification about this alert (a webhook also gets visit reminders, which name none)."""
    return (body.get("alert") or {}).get("id") == alert_id


def events(hooks: WebhookReceiver, who: str, alert_id: int) -> list[str]:
    return [body["event"] for body in hooks.to(who) if about(body, alert_id)]


def test_an_incapacitated_elder_is_found_escalated_acknowledged_and_resolved(
    incapacitated: Community,
) -> None:
    c = incapacitated
    health = c.api.get("/health").json()  # the roles of this process are the API's to report
    assert (health["status"], health["problems"]) == ("ok", [])
    assert sorted(r.role for r in c.system.roles) == ["detector", "dispatch", "gateway"]
    alert = wait_for(c.inactivity_alert, what="an inactivity alert to be stored")
    wait_for(lambda: events(c.hooks, "member", alert.id), what="the grid member's webhook")
    wait_for(lambda: events(c.hooks, "caseworker", alert.id), what="the caseworker's webhook")
    # Each call to go carries its recipient's one-time link; opening it shows the alert, no more.
    link = next(b for b in c.hooks.to("member") if about(b, alert.id))["ack_link"]
    page = httpx.get(link, timeout=10)
    assert page.status_code == 200 and "王秀英" in page.text and "我来处理" in page.text
    assert c.system.state.alerts.get(alert.id).state is AlertState.OPEN
    wait_for(lambda: events(c.hooks, "head", alert.id) == ["escalated"],
             what="escalation to the grid head after 5 minutes unacknowledged")

    caseworker = {"Authorization": f"Bearer {c.tokens['caseworker']}"}
    acked = c.api.post(f"/alerts/{alert.id}/acknowledge", headers=caseworker)
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"
    assert acked.json()["next_escalation_at"] is None

    leader_due = alert.opened_at + 125 * 60
    wait_for(lambda: c.system.clock.now() > leader_due + 10 * 60, what="the leader's rung to pass")
    assert events(c.hooks, "leader", alert.id) == [], "escalation went on after acknowledgement"
    wait_for(lambda: "acknowledged" in events(c.hooks, "member", alert.id),
             what="the grid member to be told someone is on it")

    resolved = c.api.post(f"/alerts/{alert.id}/resolve", headers=caseworker,
                          json={"outcome": "hospitalised", "note": "found on the floor"})
    assert resolved.status_code == 200, resolved.text
    detail = c.api.get(f"/alerts/{alert.id}", headers=caseworker).json()
    assert (detail["state"], detail["outcome"]) == ("resolved", "hospitalised")
    steps = [(h["action"], h["actor"]) for h in detail["history"] if h["action"] != "delivered"]
    assert steps == [("opened", "detector"), ("routed", "dispatch"), ("escalated", "dispatch"),
                     ("routed", "dispatch"), ("acknowledged", "caseworker"),
                     ("resolved", "caseworker")]
    assert {d["staff_id"] for d in detail["deliveries"] if d["event"] == "opened"} == {
        c.system.state.registry.staff_by_username(n).id for n in ("member", "caseworker")}

    resolved_at = c.system.clock.now()
    wait_for(lambda: c.system.clock.now() > resolved_at + 3600, what="an hour after resolving")
    reopened = [a for a in c.system.state.alerts.list() if a.kind is AlertKind.INACTIVITY and a.id != alert.id]
    assert reopened == [], "the silence staff just checked was raised again at once"


def test_life_resuming_before_anyone_acknowledges_resolves_the_alert_itself(
    recovers: Community,
) -> None:
    c = recovers
    alert = wait_for(c.inactivity_alert, what="an inactivity alert")
    cleared = wait_for(lambda: (a := c.system.state.alerts.get(alert.id)).is_resolved and a,
                       timeout_s=40, what="the alert to clear itself once life resumes")
    assert cleared.outcome is not None and cleared.outcome.value == "cleared_itself"
    assert cleared.note is not None and cleared.note.startswith("life resumed at")
    wait_for(lambda: "cleared" in events(c.hooks, "member", alert.id),
             what="the grid member to be told it cleared")
    assert cleared.acknowledged_by is None
