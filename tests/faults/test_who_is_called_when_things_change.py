"""Who is called when people and the world change while an alert is open (found by a tester):
a household moved, raised to red or retired; leave recorded while a notification was retrying;
a rung climbed as someone acknowledged; every phone on the ladder broken; a rung whose only
person has no channel; a member retired while holding an alert. Real SQLite store, the real
`Dispatcher`, a manual clock; a recording sender stands for the staff's MQTT topics."""
from __future__ import annotations

from typing import Any

import pytest

from dispatch.channels import DeliveryFailed
from dispatch.service import Dispatcher
from shouwang.domain.alerts import AlertKind, Finding, Outcome, Severity
from shouwang.domain.cover import Leave
from shouwang.domain.delivery import Channel
from shouwang.domain.errors import Conflict
from shouwang.domain.model import Grid, Household, Role, Staff, Tier
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.audit import Actor
from shouwang.storage.state import StateStore


class Clock:
    speed = 1.0

    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


class Recorder:
    """Stands for the staff's MQTT topics: records who was told what; `failing` usernames fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []
        self.failing: set[str] = set()

    def send(self, staff: Staff, body: dict[str, Any]) -> str:
        if staff.username in self.failing:
            raise DeliveryFailed(f"{staff.username}'s phone is off")
        self.sent.append((staff.username, body.get("event"), body.get("alert_id") or body.get("alert", {}).get("id")))
        return "ok"

    def who(self, event: str | None = None) -> list[str]:
        return [u for u, e, _ in self.sent if event is None or e == event]


NOW = 1_795_000_000.0


def community(url: str) -> tuple[StateStore, dict[str, Staff]]:
    state = StateStore.open(url)
    state.registry.add_grid(Grid("g-1", "一网格"))
    state.registry.add_grid(Grid("g-2", "二网格"))
    staff = {}
    for username, role, grids in (("m1", Role.GRID_MEMBER, ["g-1"]), ("m2", Role.GRID_MEMBER, ["g-2"]),
                                  ("head1", Role.GRID_HEAD, ["g-1"]), ("head2", Role.GRID_HEAD, ["g-2"]),
                                  ("leader", Role.DUTY_LEADER, []), ("cw", Role.CASEWORKER, []),
                                  ("cw2", Role.CASEWORKER, []), ("admin", Role.ADMIN, [])):
        staff[username] = state.registry.add_staff(username=username, name=username, role=role, grid_ids=grids,
                                                   notify_mqtt=True, now=NOW - 86400)
    state.registry.add_household(Household("hh-red", Tier.RED, "g-1", staff["cw"].id), now=NOW - 86400)
    state.registry.add_household(Household("hh-green", Tier.GREEN, "g-1"), now=NOW - 86400)
    return state, staff


def make(state: StateStore, clock: Clock, rec: Recorder, **kw: Any) -> Dispatcher:
    settings = DispatchSettings(poll_s=0.05, ladders_min={"red": [5, 15], "orange": [10, 30], "yellow": [15, 45],
                                                          "blue": [30, 90], "green": [30, 90]}, **kw)
    return Dispatcher(settings=settings, state=state, clock=clock, metrics=Metrics(),
                      senders={Channel.MQTT: rec})


def rounds(d: Dispatcher, n: int = 3) -> None:
    for _ in range(n):
        d.run_once()
        d.wait_idle(10)


def open_alert(state: StateStore, hh: str, kind: AlertKind = AlertKind.INACTIVITY, at: float = NOW):
    return state.alerts.open(Finding(hh, kind, Severity.URGENT, at - 7200, "quiet"), now=at)


def asks(rec: Recorder) -> list[str]:
    return [u for u, e, _ in rec.sent if e in ("opened", "escalated", "reminder")]


def test_a_household_moved_to_another_grid_mid_alert_is_told_to_its_new_grid_member(sqlite_url: str) -> None:
    state, _staff = community(sqlite_url)
    clock, rec = Clock(NOW), Recorder()
    d = make(state, clock, rec)
    try:
        a = open_alert(state, "hh-green")
        rounds(d)                                           # m1 (g-1) told
        state.registry.update_household("hh-green", grid_id="g-2")  # a leader moves it to g-2
        for _ in range(4):                                  # two hours: the whole ladder
            clock.t += 1800
            rounds(d)
        level = state.alerts.get(a.id).escalation_level
    finally:
        d.stop()
        state.close()
    # observed: m1 (who may no longer open it), then head2, then the leader; m2, the one who goes, never
    assert "m2" in asks(rec), f"asked to go: {asks(rec)} (level {level}); g-2's grid member m2 never heard of it"


def test_a_household_raised_to_red_mid_alert_tells_its_caseworker_and_climbs_on_reds_ladder(
        sqlite_url: str) -> None:
    state, staff = community(sqlite_url)
    clock, rec = Clock(NOW), Recorder()
    d = make(state, clock, rec)
    try:
        a = open_alert(state, "hh-green")
        rounds(d)
        state.registry.update_household("hh-green", tier=Tier.RED, caseworker_id=staff["cw"].id)
        clock.t += 6 * 60                                   # red's grid head is due 5 minutes in
        rounds(d)
        alert = state.alerts.get(a.id)
    finally:
        d.stop()
        state.close()
    assert "cw" in asks(rec) and alert.escalation_level >= 1, (
        f"6 min after a now-red alert opened: asked {asks(rec)}, level {alert.escalation_level}, next rung "
        f"{(alert.next_escalation_at - NOW) / 60:.0f} min in (green's 30)")


def test_nobody_on_leave_is_called_by_a_notification_still_retrying_when_the_leave_began(sqlite_url: str) -> None:
    state, staff = community(sqlite_url)
    clock, rec = Clock(NOW), Recorder()
    rec.failing.add("m1")                                   # her phone is off: she is ill
    d = make(state, clock, rec)
    try:
        open_alert(state, "hh-green")
        rounds(d, 1)                                        # first attempt fails, retried
        state.cover.add_leave(Leave(staff["m1"].id, NOW + 1, NOW + 86400, staff["m2"].id, "病假"),
                              actor=Actor("leader"), now=NOW + 1)
        rec.failing.clear()                                 # the phone comes back on at home
        for _ in range(5):
            clock.t += 30
            rounds(d, 1)
    finally:
        d.stop()
        state.close()
    # observed: m1, on sick leave, is asked to go; her deputy m2 is never told
    assert "m1" not in asks(rec) and "m2" in asks(rec), f"asked to go: {asks(rec)}"


def test_a_rung_reached_while_the_alert_was_being_acknowledged_does_not_send_someone_running(
        sqlite_url: str) -> None:
    state, staff = community(sqlite_url)
    clock, rec = Clock(NOW), Recorder()
    d = make(state, clock, rec)
    try:
        a = open_alert(state, "hh-red")
        rounds(d)
        clock.t += 6 * 60
        # dispatch's round climbed to the grid head and was killed (or the API answered) before it routed
        state.alerts.escalate(state.alerts.get(a.id), waits_s=(300.0, 900.0), now=clock.t)
        state.alerts.acknowledge(a.id, staff=staff["m1"], now=clock.t + 5)   # m1 is on it
        clock.t += 20
        rounds(d)                                           # dispatch back
    finally:
        d.stop()
        state.close()
    head = [(u, e) for u, e, _ in rec.sent if u == "head1"]
    # observed: [('head1', 'escalated')]: an urgent "please go" with a link, after m1 acknowledged,
    # and head1 is never told that m1 is on it
    assert ("head1", "escalated") not in head, f"head1 received {head}"


def test_when_nobody_on_the_ladder_can_be_reached_the_admins_are_told(sqlite_url: str) -> None:
    state, _staff = community(sqlite_url)
    clock, rec = Clock(NOW), Recorder()
    rec.failing.update({"m1", "head1", "leader"})           # every phone on the ladder broken
    d = make(state, clock, rec)
    try:
        a = open_alert(state, "hh-green")
        for _ in range(240):                                # two hours
            clock.t += 30
            rounds(d, 1)
        alert = state.alerts.get(a.id)
    finally:
        d.stop()
        state.close()
    # observed: the ladder climbs (30 s, 2 min, 3.5 min) and stops at the duty leader: nobody told, ever
    assert "admin" in asks(rec), f"after 2 h at level {alert.escalation_level}: delivered {rec.sent}"


def test_a_member_holding_an_acknowledged_alert_is_not_retired_until_it_is_resolved(sqlite_url: str) -> None:
    # Before, she was retired and the alert stayed "someone is on it" for ever, with nobody told
    # and nobody able to see it.
    state, staff = community(sqlite_url)
    try:
        a = open_alert(state, "hh-green")
        state.alerts.acknowledge(a.id, staff=staff["m1"], now=NOW + 60)
        with pytest.raises(Conflict, match=r"m1 holds alert #1 \(inactivity\), acknowledged and not resolved"):
            state.registry.retire_staff(staff["m1"].id, now=NOW + 120)
        assert state.registry.staff(staff["m1"].id).active
        state.alerts.resolve(a.id, staff=staff["head1"], outcome=Outcome.FALSE_ALARM, note=None, now=NOW + 180)
        assert not state.registry.retire_staff(staff["m1"].id, now=NOW + 240).active
    finally:
        state.close()


def test_a_household_with_an_unresolved_alert_is_not_retired_until_it_is_resolved(sqlite_url: str) -> None:
    # Before, it was retired and its alert went on climbing to the grid head and the duty leader
    # for a home nobody watched any more, and never cleared.
    state, staff = community(sqlite_url)
    try:
        a = open_alert(state, "hh-green")
        with pytest.raises(Conflict, match=r"household hh-green has alert #1 \(inactivity\) not yet resolved"):
            state.registry.retire_household("hh-green", now=NOW + 60)
        assert state.registry.household("hh-green").retired_at is None
        state.alerts.resolve(a.id, staff=staff["m1"], outcome=Outcome.FALSE_ALARM, note="moved away", now=NOW + 120)
        assert state.registry.retire_household("hh-green", now=NOW + 180).retired_at is not None
    finally:
        state.close()


def test_a_rung_whose_only_person_has_no_channel_falls_through_at_once(sqlite_url: str) -> None:
    state, staff = community(sqlite_url)
    state.registry.update_staff(staff["m1"].id, channels=())        # her phone's channel removed
    clock, rec = Clock(NOW), Recorder()
    d = make(state, clock, rec)
    try:
        a = open_alert(state, "hh-red")
        state.registry.update_household("hh-red", caseworker_id=None)
        rounds(d)
        clock.t += 120
        rounds(d)
        level = state.alerts.get(a.id).escalation_level
    finally:
        d.stop()
        state.close()
    # observed: two minutes, nobody told, still rung 0 (waits out the rung: 5 min red, 30 min green)
    assert asks(rec), f"level {level}, nobody told"
