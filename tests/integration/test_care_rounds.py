"""Dispatch's care rounds over real HTTP and a real store: overdue visits remind whoever claimed
them, once per overdue period; genuine alerts piling up suggest a hotter colour to the caseworker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatch.care import CareRounds
from dispatch.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify
from shouwang.clock import FastClock
from shouwang.domain.alerts import AlertKind, Finding, Outcome, Severity
from shouwang.domain.delivery import Channel, DeliveryStatus
from shouwang.domain.model import Grid, Household, Role, Tier, Visit
from shouwang.domain.notices import NoticeKind
from shouwang.domain.tier_advice import TierSuggestion
from shouwang.settings import CareSettings, DispatchSettings
from shouwang.storage.audit import Actor
from shouwang.storage.state import StateStore
from tests.support import Silent, WebhookReceiver, wait_for

START = 1_790_000_000.0
HOUR, DAY = 3600.0, 86400.0
SECRET = "community-secret-for-tests"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(fail_first=1)
    yield server
    server.close()


@pytest.fixture
def state(tmp_path: Path, receiver: WebhookReceiver) -> Iterator[StateStore]:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    store.registry.add_grid(Grid("g-a", "东园网格"))
    for username, role in (("member", Role.GRID_MEMBER), ("caseworker", Role.CASEWORKER)):
        store.registry.add_staff(username=username, name=username, role=role,
                                 grid_ids=["g-a"] if role is Role.GRID_MEMBER else [],
                                 webhook_url=receiver.url(username), notify_mqtt=False, now=START - 30 * DAY)
    caseworker = store.registry.staff_by_username("caseworker")
    store.registry.add_household(Household("red-1", Tier.RED, "g-a", caseworker_id=caseworker.id,
                                           alias="王秀英", monitoring_since=START - 30 * DAY), now=START - 30 * DAY)
    store.registry.add_household(Household("yellow-1", Tier.YELLOW, "g-a", alias="李大爷",
                                           monitoring_since=START - 30 * DAY), now=START - 30 * DAY)
    # Both visited: red 26 hours ago (a day's cadence: overdue by 2 h), yellow yesterday (not due).
    store.visits.add(Visit("red-1", START - 26 * HOUR, caseworker.id), actor=Actor("caseworker"), now=START)
    store.visits.add(Visit("yellow-1", START - DAY, caseworker.id), actor=Actor("caseworker"), now=START)
    yield store
    store.close()


def rounds(state: StateStore, clock: FastClock, sender: WebhookSender) -> CareRounds:
    return CareRounds(settings=CareSettings(check_every_s=0.1),
                      dispatch=DispatchSettings(poll_s=0.05, retry_initial_s=0.05, retry_max_s=0.2),
                      state=state, clock=clock, senders={Channel.WEBHOOK: sender},
                      tz=ZoneInfo("Asia/Shanghai"), api_url="http://127.0.0.1:8000")


def test_an_overdue_red_visit_reminds_its_caseworker_once_per_overdue_period(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    clock = FastClock(START, 1.0)
    sender = WebhookSender(timeout_s=2, secret=SECRET)
    care = rounds(state, clock, sender)
    care.start()
    try:
        got = wait_for(lambda: receiver.to("caseworker"), what="the caseworker's reminder")
        wait_for(lambda: all(n.status is DeliveryStatus.DELIVERED for n in state.care.notices()),
                 what="the reminder marked delivered")
    finally:
        care.stop()
        sender.close()
    body = got[0]
    assert body["event"] == "visit_overdue" and body["household"]["id"] == "red-1"
    assert body["text_zh"].startswith("【走访提醒】王秀英（红色，每天走访）已逾期 2 小时")
    assert body["link"] == "http://127.0.0.1:8000/#/household/red-1"
    headers, raw = receiver.raw[0]
    assert verify(SECRET, headers[TIMESTAMP_HEADER], raw, headers[SIGNATURE_HEADER], now=float(
        headers[TIMESTAMP_HEADER]))
    assert receiver.attempts == 2  # the first attempt failed (503) and was retried
    assert receiver.to("member") == []  # red visits are the caseworker's, not the grid member's
    [notice] = state.care.notices()
    assert (notice.kind, notice.attempts) == (NoticeKind.VISIT_OVERDUE, 2)

    # Later rounds in the same overdue period, and a restarted dispatch, owe nothing more.
    again = rounds(state, clock, sender)
    assert again.look(clock.now()) == 0 and again.look(clock.now() + 20 * HOUR) == 0
    # A whole further day without a visit is a new period: reminded again.
    assert again.look(clock.now() + 23 * HOUR) == 1
    # Visited: nothing is owed, however late the clock.
    caseworker = state.registry.staff_by_username("caseworker")
    state.visits.add(Visit("red-1", clock.now(), caseworker.id), actor=Actor("caseworker"), now=clock.now())
    assert again.look(clock.now() + 2 * HOUR) == 0


def test_three_genuine_alerts_suggest_a_hotter_colour_to_the_caseworker_and_a_person_decides(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    receiver.fail_first = 0
    caseworker = state.registry.staff_by_username("caseworker")
    state.registry.update_household("yellow-1", caseworker_id=caseworker.id)
    for day, outcome in ((9, Outcome.NEEDED_HELP), (5, Outcome.FALSE_ALARM), (3, Outcome.ELDER_FINE),
                         (1, Outcome.HOSPITALISED)):
        opened = START - day * DAY
        alert = state.alerts.open(Finding("yellow-1", AlertKind.INACTIVITY, Severity.URGENT, opened - HOUR,
                                          "quiet"), now=opened)
        assert alert is not None
        state.alerts.resolve(alert.id, staff=caseworker, outcome=outcome, note=None, now=opened + HOUR)
    clock = FastClock(START, 1.0)
    sender = WebhookSender(timeout_s=2)
    care = rounds(state, clock, sender)
    try:
        care.look(START)
        care.send_due()
        assert care.look(START + HOUR) == 0  # an open suggestion is not made twice
    finally:
        sender.close()
    suggestions = [b for b in receiver.to("caseworker") if b["event"] == "tier_suggested"]
    assert len(suggestions) == 1
    assert suggestions[0]["suggestion"]["from"] == "yellow" and suggestions[0]["suggestion"]["to"] == "orange"
    assert "建议由黄色调为橙色" in suggestions[0]["text_zh"]
    waiting = state.care.open_suggestions()["yellow-1"]
    assert len(waiting.alert_ids) == 3  # the false alarm did not count

    # The colour changes only by a person's decision, kept with who and why.
    household = state.registry.household("yellow-1")
    answered = state.care.change_tier(household, Tier.ORANGE, reason="两次送医，需要每周走访",
                                      actor=Actor(caseworker.username, caseworker.id), now=START + HOUR)
    assert answered == [waiting.id]
    assert state.registry.household("yellow-1").tier is Tier.ORANGE
    assert state.care.suggestion(waiting.id).state == "accepted"
    changed = [e for e in state.audit.for_entity("household", "yellow-1") if e.action == "tier_changed"]
    assert changed[0].actor_staff_id == caseworker.id
    assert changed[0].details == {"from": "yellow", "to": "orange", "reason": "两次送医，需要每周走访",
                                  "suggestions": [waiting.id]}


def test_a_reminder_owed_before_a_crash_is_sent_once_by_the_next_dispatch(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    receiver.fail_first = 0
    clock = FastClock(START, 1.0)
    sender = WebhookSender(timeout_s=2)
    try:
        assert rounds(state, clock, sender).look(START) == 1  # stored, then the process died
        assert receiver.to("caseworker") == []
        after = rounds(state, clock, sender)  # a fresh dispatch over the same store
        assert after.look(clock.now()) == 0
        assert after.send_due() == 1 and after.send_due() == 0
    finally:
        sender.close()
    assert len(receiver.to("caseworker")) == 1


def test_a_reminder_to_a_receiver_that_is_not_there_is_retried_and_then_given_up(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    caseworker = state.registry.staff_by_username("caseworker")
    state.registry.update_staff(caseworker.id, webhook_url="http://127.0.0.1:9/closed")
    clock = FastClock(START, 1.0)
    sender = WebhookSender(timeout_s=1, connect_timeout_s=0.5)
    care = CareRounds(settings=CareSettings(), dispatch=DispatchSettings(retry_initial_s=0.05, give_up_after_h=0.0001),
                      state=state, clock=clock, senders={Channel.WEBHOOK: sender}, tz=ZoneInfo("Asia/Shanghai"))
    try:
        care.look(START)
        assert care.send_due() == 0
        [notice] = state.care.notices()
        assert notice.status is DeliveryStatus.PENDING and notice.attempts == 1 and notice.last_error
        wait_for(lambda: care.send_due() == 0 and state.care.notices()[0].status is DeliveryStatus.FAILED,
                 timeout_s=10, what="the reminder given up after give_up_after_h")
    finally:
        sender.close()


def test_a_suggestion_overtaken_by_a_leaders_edit_is_closed_so_the_next_can_be_made(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    suggestion = state.care.suggest(TierSuggestion("yellow-1", Tier.YELLOW, Tier.ORANGE, (1, 2, 3)), [],
                                    now=START - HOUR)
    state.registry.update_household("yellow-1", tier=Tier.RED)  # a leader's edit, not the suggestion
    caseworker = state.registry.staff_by_username("caseworker")
    opened = START - DAY
    alert = state.alerts.open(Finding("yellow-1", AlertKind.INACTIVITY, Severity.URGENT, opened - HOUR, "quiet"),
                              now=opened)
    assert alert is not None
    state.alerts.resolve(alert.id, staff=caseworker, outcome=Outcome.NEEDED_HELP, note=None, now=opened + HOUR)
    sender = WebhookSender(timeout_s=2)
    try:
        rounds(state, FastClock(START, 1.0), sender).look(START)
    finally:
        sender.close()
    assert state.care.suggestion(suggestion.id).state == "accepted"
    assert state.care.open_suggestions() == {}


def test_a_hanging_receiver_holds_back_nobody_elses_reminders(
    state: StateStore, receiver: WebhookReceiver,
) -> None:
    """Found by a channels tester: reminders went one after another, so one receiver that never
    answered spaced everyone else's by its timeout (37 reminders over three minutes)."""
    receiver.fail_first = 0
    silent = Silent()
    away = state.registry.add_staff(username="away", name="away", role=Role.CASEWORKER, grid_ids=[],
                                    webhook_url=f"http://127.0.0.1:{silent.port}/h", notify_mqtt=False,
                                    now=START - 30 * DAY)
    caseworker = state.registry.staff_by_username("caseworker")
    for n in range(8):  # interleaved: the silent receiver's homes first in every pair
        for who, prefix in ((away, "a"), (caseworker, "c")):
            home = f"red-{prefix}{n}"
            state.registry.add_household(Household(home, Tier.RED, "g-a", caseworker_id=who.id,
                                                   monitoring_since=START - 30 * DAY), now=START - 30 * DAY)
            state.visits.add(Visit(home, START - 26 * HOUR, who.id), actor=Actor("x"), now=START)
    clock = FastClock(START, 1.0)
    sender = WebhookSender(timeout_s=2)
    care = rounds(state, clock, sender)
    try:
        assert care.look(START) == 17
        began = time.monotonic()
        sent = care.send_due()
        took_s = time.monotonic() - began
    finally:
        sender.close()
        silent.close()
    assert sent == 9 and len(receiver.to("caseworker")) == 9
    assert took_s < 9.0, f"{took_s:.1f} s: the working receiver waited behind the silent one"  # 16 s before
    failed = [n for n in state.care.notices() if n.staff_id == away.id and n.attempts]
    assert len(failed) == 1, "the silent receiver's other reminders wait for the next round"
