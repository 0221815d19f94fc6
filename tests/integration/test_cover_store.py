"""The roster, leave, family, maintenance and reminder tables on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from shouwang.domain.alerts import AlertKind, Finding, Outcome, Severity
from shouwang.domain.cover import DutySlot, FamilyContact, Leave
from shouwang.domain.delivery import Channel, DeliveryEvent
from shouwang.domain.errors import Conflict, InvalidInput, NotFound
from shouwang.domain.model import Grid, Household, Role, Staff, Tier
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.state import StateStore

NOW = 1_796_004_000.0  # Monday 2026-11-30 10:00 Asia/Shanghai
ADMIN = Actor("test")


@pytest.fixture
def state(any_state_url: str) -> Iterator[StateStore]:
    store = StateStore.open(any_state_url)
    store.registry.add_grid(Grid("g-a", "A"))
    store.registry.add_household(Household("hh-1", Tier.RED, "g-a"), now=NOW)
    yield store
    store.close()


def person(state: StateStore, username: str, role: Role = Role.GRID_MEMBER) -> Staff:
    return state.registry.add_staff(username=username, name=username, role=role, grid_ids=["g-a"], now=NOW)


def test_the_roster_and_leave_make_the_cover_of_the_moment(state: StateStore) -> None:
    wang, li, sun = person(state, "wang"), person(state, "li"), person(state, "sun", Role.DUTY_LEADER)
    night = state.cover.add_slot(DutySlot(sun.id, 0, 18, 8), actor=ADMIN, now=NOW)
    with pytest.raises(InvalidInput):
        state.cover.add_slot(DutySlot(sun.id, 7, 8, 18), actor=ADMIN, now=NOW)
    with pytest.raises(InvalidInput, match="wang is a grid_member, not a duty leader"):
        state.cover.add_slot(DutySlot(wang.id, 0, 8, 18), actor=ADMIN, now=NOW)  # found by a newcomer
    leave = state.cover.add_leave(Leave(wang.id, NOW, NOW + 86400, li.id, "年假"), actor=ADMIN, now=NOW)
    with pytest.raises(InvalidInput):
        state.cover.add_leave(Leave(wang.id, NOW, NOW - 1), actor=ADMIN, now=NOW)
    cover = state.cover.cover(ZoneInfo("Asia/Shanghai"), now=NOW)
    assert cover.on_duty(NOW + 9 * 3600) == {sun.id}  # Monday 19:00
    assert cover.on_duty(NOW) == frozenset()
    assert cover.leave(wang.id, NOW + 3600) == leave
    state.cover.cancel_leave(leave.id or 0, actor=ADMIN, now=NOW)
    state.cover.remove_slot(night.id or 0, actor=ADMIN, now=NOW)
    assert state.cover.cover(ZoneInfo("UTC"), now=NOW) == state.cover.cover(ZoneInfo("UTC"), now=NOW + 1)
    assert state.cover.leaves(ending_after=NOW) == [] and state.cover.slots() == []
    with pytest.raises(NotFound):
        state.cover.cancel_leave(leave.id or 0, actor=ADMIN, now=NOW)


def test_a_deputy_can_act_on_alerts_and_one_leave_at_a_time_stands(state: StateStore) -> None:
    """Found by a tester: a volunteer made deputy was the only one told of a help press and could
    not open the alert; a second leave over the same days was accepted and ignored."""
    wang, li, vol = person(state, "wang"), person(state, "li"), person(state, "vol", Role.VOLUNTEER)
    with pytest.raises(InvalidInput, match="vol is a volunteer, who sees no alerts"):
        state.cover.add_leave(Leave(wang.id, NOW, NOW + 86400, vol.id), actor=ADMIN, now=NOW)
    state.cover.add_leave(Leave(wang.id, NOW, NOW + 4 * 86400, li.id), actor=ADMIN, now=NOW)
    with pytest.raises(InvalidInput, match="overlaps leave"):
        state.cover.add_leave(Leave(wang.id, NOW + 86400, NOW + 2 * 86400), actor=ADMIN, now=NOW)
    assert state.cover.add_leave(Leave(wang.id, NOW + 4 * 86400, NOW + 5 * 86400), actor=ADMIN, now=NOW).id


def test_family_contacts_need_consent_and_leave_the_ladder_when_removed(state: StateStore) -> None:
    with pytest.raises(InvalidInput):
        state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", "https://e.org/h", " ", NOW),
                         actor=ADMIN, now=NOW)
    daughter = state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", "https://e.org/h",
                                              "王小红", NOW, step=1), actor=ADMIN, now=NOW)
    assert state.family.of("hh-1") == [daughter] and daughter.step == 1 and daughter.active
    with pytest.raises(Conflict, match=f"already has family contact {daughter.id}"):  # texted twice
        state.family.add(FamilyContact(0, "hh-1", "小红", "女儿", "webhook", "https://e.org/h", "王小红", NOW),
                         actor=ADMIN, now=NOW)
    state.family.remove(daughter.id, actor=ADMIN, now=NOW)
    assert state.family.of("hh-1") == []
    actions = [e.action for e in state.audit.for_entity("household", "hh-1")]
    assert actions[-2:] == ["family_contact_added", "family_contact_removed"]


def test_maintenance_windows_are_live_until_they_end(state: StateStore) -> None:
    window = state.maintenance.add(hub_id=None, grid_id="g-a", until=NOW + 3600, reason="网络改造",
                                   actor=ADMIN, now=NOW)
    assert [w.id for w in state.maintenance.live(NOW + 60)] == [window.id]
    assert state.maintenance.live(NOW + 3600) == []
    state.maintenance.end(window.id, actor=ADMIN, now=NOW + 60)
    assert state.maintenance.live(NOW + 120) == []
    with pytest.raises(InvalidInput):
        state.maintenance.add(hub_id="h", grid_id="g-a", until=NOW + 60, reason="x", actor=ADMIN, now=NOW)
    # Found by a tester: 2027 typed for 2026 silenced a red home's only hub for a year, unsaid.
    with pytest.raises(InvalidInput, match=r"at most 7 days \(this one 365: is the date right\?\)"):
        state.maintenance.add(hub_id=None, grid_id="g-a", until=NOW + 365 * 86400, reason="更换电表",
                              actor=ADMIN, now=NOW)
    assert state.maintenance.add(hub_id=None, grid_id="g-a", until=NOW + 7 * 86400, reason="楼栋改造",
                                 actor=ADMIN, now=NOW).until == NOW + 7 * 86400


def test_a_reminder_is_sent_once_however_many_dispatchers_try(state: StateStore) -> None:
    member = person(state, "wang")
    alert = state.alerts.open(Finding("hh-1", AlertKind.HELP, Severity.URGENT, NOW, "help"), now=NOW)
    assert alert is not None
    state.alerts.route(alert, recipients={0: [(member.id, Channel.MQTT)]}, first_escalation_at=None, now=NOW)
    [waiting] = state.reminders.waiting()
    assert (waiting.alert_id, waiting.level, waiting.reminder) == (alert.id, 0, None)
    state.reminders.arm(alert.id, level=0, next_at=NOW + 60)
    [waiting] = state.reminders.waiting()
    assert waiting.reminder is not None
    first = state.reminders.send(waiting.reminder, recipients=[(member.id, Channel.MQTT)], next_at=NOW + 120,
                                 now=NOW + 60)
    again = state.reminders.send(waiting.reminder, recipients=[(member.id, Channel.MQTT)], next_at=NOW + 120,
                                 now=NOW + 60)
    assert (first, again) == (True, False)
    events = [d.event for d in state.alerts.deliveries(alert.id)]
    assert events == [DeliveryEvent.OPENED, DeliveryEvent.REMINDER]
    state.alerts.resolve(alert.id, staff=member, outcome=Outcome.ELDER_FINE, note=None, now=NOW + 90)
    assert state.reminders.drop_answered() == 1 and state.reminders.all() == {}


def test_a_family_member_reached_again_by_a_step_falling_through_is_called_once(state: StateStore) -> None:
    daughter = state.family.add(FamilyContact(0, "hh-1", "王小红", "女儿", "webhook", "https://e.org/h",
                                              "王小红", NOW), actor=ADMIN, now=NOW)
    alert = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, NOW, "quiet"), now=NOW)
    assert alert is not None
    for _ in range(2):
        with writing(state.engine) as db:
            state.family.queue(db, alert.id, [daughter], NOW)
    assert [d.contact_id for d in state.family.deliveries(alert.id)] == [daughter.id]
