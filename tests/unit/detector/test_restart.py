"""What a restarted detector takes from the stores, and what may close an alert (pure parts)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import pytest

from detector import alerting
from detector.context import Context
from detector.restart import (
    CATCH_UP_MARGIN_S,
    CATCH_UP_MAX_S,
    catch_up_start,
    may_clear,
    records,
    remember,
)
from detector.rules import FixedRules
from detector.signs import HomeState, SignKind, SignOfLife
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Finding, Severity
from shouwang.domain.model import Household, Hub, SensorKind, Tier
from shouwang.settings import DetectorSettings
from shouwang.storage.memory import HouseholdMemory
from shouwang.storage.status import HouseholdStatus

H = 3600.0
T0 = 1_750_000_000.0


def context(household_id: str = "hh", **changes: object) -> Context:
    household = Household(household_id, Tier.RED, "g", **changes)  # type: ignore[arg-type]
    return Context(household, (Hub(f"h-{household_id}", household_id),),
                   watching_since=T0 - 48 * H)


def alert(kind: AlertKind = AlertKind.INACTIVITY, since: float = T0, **details: object) -> Alert:
    return Alert(1, "hh", kind, AlertState.OPEN, Severity.URGENT, opened_at=since + 12 * H,
                 since=since, explanation="", details=dict(details))


def home(*, sign_at: float | None = None, heard_at: float | None = None,
         water_at: float | None = None) -> HomeState:
    h = HomeState("hh")
    if sign_at is not None:
        h.note_sign(SignOfLife("hh", sign_at, SignKind.ELECTRICITY, "electricity"))
    if water_at is not None:
        h.note_sign(SignOfLife("hh", water_at, SignKind.WATER, "water"))
    if heard_at is not None:
        h.hub_seen_at["h-hh"] = heard_at
    return h


def test_an_inactivity_alert_clears_only_on_a_sign_newer_than_its_silence() -> None:
    now = T0 + 16 * H
    assert not may_clear(alert(), {}, context(), now)  # nothing heard since the restart
    assert not may_clear(alert(), {"hh": home(heard_at=now)}, context(), now)  # hub only
    assert not may_clear(alert(), {"hh": home(sign_at=T0 - H, heard_at=now)}, context(), now)
    assert not may_clear(alert(), {"hh": home(sign_at=T0)}, context(), now)
    assert may_clear(alert(), {"hh": home(sign_at=T0 + 60)}, context(), now)


def test_staff_stopping_the_watching_lets_an_alert_clear_without_a_sign() -> None:
    now = T0 + 16 * H
    assert may_clear(alert(), {}, None, now)  # consent withdrawn, hubs removed
    assert may_clear(alert(), {}, context(away_until=now + H), now)
    assert may_clear(alert(), {}, context(retired_at=now - H), now)


def test_other_kinds_clear_only_on_their_own_evidence() -> None:
    now = T0 + 16 * H
    no_water = alert(AlertKind.NO_WATER)
    assert not may_clear(no_water, {"hh": home(sign_at=now - H)}, context(), now)
    assert may_clear(no_water, {"hh": home(water_at=now - H)}, context(), now)
    offline = alert(AlertKind.HUB_OFFLINE)
    assert not may_clear(offline, {"hh": home(heard_at=T0 - H)}, context(), now)
    assert may_clear(offline, {"hh": home(heard_at=T0 + H)}, context(), now)
    building = alert(AlertKind.HUB_OFFLINE, households=["hh", "hh-2"])
    neighbour = dataclasses.replace(home(heard_at=T0 + H), household_id="hh-2")
    assert may_clear(building, {"hh": home(), "hh-2": neighbour}, context(), now)


def test_what_the_stores_remember_fills_in_what_recent_readings_do_not_show() -> None:
    rebuilt = home(heard_at=T0)  # a window of heartbeats: no sign in it
    rebuilt.first_seen_at = T0 - 15 * H
    status = HouseholdStatus("hh", T0 - 16 * H, "door", T0 - 16 * H, T0 - H, T0 - H)
    memory = HouseholdMemory("hh", T0 - 72 * H, first_heard_at=T0 - 70 * H,
                             last_water_at=T0 - 20 * H, updated_at=T0 - H)
    remember(rebuilt, status, memory)
    assert (rebuilt.last_sign_at, rebuilt.last_sign_kind) == (T0 - 16 * H, SignKind.DOOR)
    assert (rebuilt.last_door_at, rebuilt.last_water_at) == (T0 - 16 * H, T0 - 20 * H)
    assert rebuilt.first_seen_at == T0 - 70 * H


def test_a_newer_sign_in_the_readings_wins_over_the_remembered_one() -> None:
    rebuilt = home(sign_at=T0)
    remember(rebuilt, HouseholdStatus("hh", T0 - H, "water", None, None, T0 - H), None)
    assert (rebuilt.last_sign_at, rebuilt.last_sign_kind) == (T0, SignKind.ELECTRICITY)


def test_the_catch_up_reaches_back_to_the_last_save_when_down_longer_than_the_window() -> None:
    assert catch_up_start(T0, 15 * H, None) == T0 - 15 * H
    assert catch_up_start(T0, 15 * H, T0 - H) == T0 - 15 * H
    assert catch_up_start(T0, 15 * H, T0 - 40 * H) == T0 - 40 * H - CATCH_UP_MARGIN_S


def test_a_household_failing_in_the_fixed_rules_is_logged_and_the_others_are_judged(
        caplog: pytest.LogCaptureFixture) -> None:
    rules = FixedRules(DetectorSettings(), ZoneInfo("Asia/Shanghai"))
    now = T0 + 13 * H
    homes = {}
    for household_id in ("hh-a", "hh-bad", "hh-b"):
        h = HomeState(household_id, first_seen_at=T0 - 48 * H)
        h.note_sign(SignOfLife(household_id, T0, SignKind.WATER, "water"))
        h.hub_seen_at[f"h-{household_id}"] = now
        homes[household_id] = h
    homes["hh-bad"].runs[SensorKind.WATER] = ()  # type: ignore[assignment]  # corrupt state
    contexts = {household_id: context(household_id) for household_id in homes}
    with caplog.at_level(logging.WARNING, logger="detector.service"):
        findings, unjudged = alerting.assess(rules, now, homes, contexts)
    assert {(f.household_id, f.kind) for f in findings} == {
        ("hh-a", AlertKind.INACTIVITY), ("hh-b", AlertKind.INACTIVITY)}
    assert unjudged == {"hh-bad"}
    assert [r.getMessage() for r in caplog.records][-1].startswith(
        "detector.household_failed household=hh-bad error=ValueError(")


def test_what_to_remember_is_written_when_it_changed_or_was_never_stored() -> None:
    new = HouseholdMemory("hh-new", T0)  # watched from now on, nothing stored yet
    same = HouseholdMemory("hh", T0 - 72 * H, first_heard_at=T0 - 70 * H, updated_at=T0 - H)
    heard = home(sign_at=T0, heard_at=T0)
    heard.first_seen_at = T0 - 70 * H
    statuses, memories = records(["hh", "hh-new"], {"hh": heard}, {"hh": same, "hh-new": new},
                                 lambda _: 3, T0)
    assert [(s.household_id, s.last_sign_at, s.learned_days) for s in statuses] == [("hh", T0, 3)]
    assert memories == [HouseholdMemory("hh-new", T0, updated_at=T0)]
    heard.note_sign(SignOfLife("hh", T0 + 60, SignKind.WATER, "water"))
    _, memories = records(["hh"], {"hh": heard}, {"hh": same}, lambda _: 3, T0 + 60)
    assert memories == [HouseholdMemory("hh", T0 - 72 * H, T0 - 70 * H, T0 + 60, T0 + 60)]


def test_a_detector_down_for_months_re_reads_at_most_four_weeks() -> None:
    assert catch_up_start(T0, 15 * H, T0 - 200 * 24 * H) == T0 - CATCH_UP_MAX_S
    assert catch_up_start(T0, 40 * 24 * H, T0 - 200 * 24 * H) == T0 - 40 * 24 * H


def test_a_hub_heard_until_the_detector_went_down_gets_its_usual_time_after_the_restart() -> None:
    rules = FixedRules(DetectorSettings(), ZoneInfo("Asia/Shanghai"))
    down_at, back_at = T0, T0 + 3 * H
    ctx = dataclasses.replace(context(), down=(down_at, back_at))
    heard_until_down = home(sign_at=T0 - H, heard_at=down_at - 600)
    silent_before = home(sign_at=T0 - H, heard_at=down_at - 2 * H)

    def offline(h: HomeState, now: float) -> list[float]:
        return [f.since for f in rules.assess_one(now, h, ctx) if f.kind is AlertKind.HUB_OFFLINE]

    assert offline(heard_until_down, back_at + 60) == []
    assert offline(heard_until_down, back_at + H) == [back_at]  # not heard since the restart
    assert offline(silent_before, back_at + 60) == [down_at - 2 * H]


class Broken(FixedRules):
    """A detector whose judging fails whatever the households (or for one of them)."""

    def __init__(self, bad: str | None = None) -> None:
        super().__init__(DetectorSettings(), ZoneInfo("Asia/Shanghai"))
        self.bad, self.calls = bad, 0

    def assess(self, now: float, homes: Mapping[str, HomeState],
               contexts: Mapping[str, Context]) -> list[Finding]:
        self.calls += 1
        if self.bad is None or self.bad in contexts:
            raise MemoryError("no room")
        return [Finding(h, AlertKind.INACTIVITY, Severity.URGENT, T0, "quiet") for h in contexts]


def test_judging_in_halves_finds_the_failing_household_and_judges_the_rest() -> None:
    detector = Broken("hh-13")
    contexts = {f"hh-{k}": context(f"hh-{k}") for k in range(32)}
    findings, unjudged = alerting.assess(detector, T0, {}, contexts)
    assert {f.household_id for f in findings} == set(contexts) - {"hh-13"}
    assert unjudged == {"hh-13"}
    assert detector.calls <= 2 + 2 * 5  # the whole, the probe, two halves per level


def test_a_failure_that_is_no_households_is_not_searched_household_by_household(
        caplog: pytest.LogCaptureFixture) -> None:
    detector = Broken()
    contexts = {f"hh-{k}": context(f"hh-{k}") for k in range(64)}
    with caplog.at_level(logging.WARNING, logger="detector.service"):
        assert alerting.assess(detector, T0, {}, contexts) == ([], set(contexts))
    assert detector.calls == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "detector.assess_failed households=64 error=MemoryError('no room'); no findings this tick"]
