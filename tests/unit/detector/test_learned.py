"""The learned detector's behaviour, one situation at a time, on a hand-made regular elder."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from detector import snapshot
from detector.context import Context
from detector.learned import LearnedDetector
from detector.signs import HomeState, SignKind, SignOfLife
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import SensorKind, Tier
from shouwang.settings import DetectorSettings, LearnedSettings
from tests.unit.detector.helpers import TZ, at, household, routine

DAYS = 21  # learned; day 21 (a Monday) is the day under test


def learned(*contexts: Context, days: int = DAYS, budget: float | None = None) -> LearnedDetector:
    settings = DetectorSettings()
    if budget is not None:
        settings = DetectorSettings(learned=LearnedSettings(false_alerts_per_month=budget))
    detector = LearnedDetector(settings, TZ)
    for n, ctx in enumerate(contexts):
        detector.learn(routine(ctx.household.id, days, seed=n))
    return detector


def sign(household_id: str, ts: float, kind: SignKind = SignKind.WATER) -> SignOfLife:
    return SignOfLife(household_id, ts, kind, kind.value)


def assess(detector: LearnedDetector, now: float, *contexts: Context,
           hubs_heard: bool = True) -> list[Finding]:
    if hubs_heard:
        for ctx in contexts:
            detector.observe(HomeState(ctx.household.id), hub_id=ctx.hubs[0].id, at=now)
    return detector.assess(now, {}, {c.household.id: c for c in contexts})


def first_alert(detector: LearnedDetector, ctx: Context, start: float, hours: float,
                kind: AlertKind = AlertKind.INACTIVITY) -> tuple[float, Finding] | None:
    for now in np.arange(start, start + hours * 3600 + 1, 600.0):
        found = [f for f in assess(detector, float(now), ctx) if f.kind is kind]
        if found:
            return float(now), found[0]
    return None


def morning_until(detector: LearnedDetector, household_id: str, hour: float,
                  last: SignKind = SignKind.WATER) -> None:
    for h in (6.5, 6.6, 6.8, 7.5, 8.2):
        if h < hour:
            detector.learn_one(sign(household_id, at(DAYS, h), SignKind.ELECTRICITY))
    detector.learn_one(sign(household_id, at(DAYS, hour), last))


def test_a_morning_silence_alerts_within_hours_long_before_the_12_hour_rule() -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    alert = first_alert(detector, ctx, at(DAYS, 9.0), 12)
    assert alert is not None
    assert at(DAYS, 10.0) <= alert[0] <= at(DAYS, 14.0)


def test_the_explanation_says_what_is_missing_and_what_is_usual() -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    alert = first_alert(detector, ctx, at(DAYS, 9.0), 12)
    assert alert is not None
    words = alert[1].explanation
    assert words.startswith("no water or power since 09:00 (")
    assert "on a usual Monday this home shows about" in words
    assert alert[1].since == at(DAYS, 9.0)
    assert alert[1].details["expected_signs"] >= alert[1].details["threshold"]


def test_a_night_of_sleep_does_not_alert_but_not_getting_up_does() -> None:
    ctx = household()
    detector = learned(ctx)
    detector.learn_one(sign("h-1", at(DAYS - 1, 21.4)))
    quiet_night = first_alert(detector, ctx, at(DAYS - 1, 21.5), 9.0)  # until 06:30
    assert quiet_night is None
    alert = first_alert(detector, ctx, at(DAYS, 6.5), 5)
    assert alert is not None and alert[0] <= at(DAYS, 10.0)
    assert alert[1].explanation.startswith("not up yet: no water or power since ")
    assert "this home is usually up by 06:" in alert[1].explanation


def test_a_door_then_silence_is_probably_out_and_alerts_later_than_a_silence_at_home() -> None:
    ctx = household()
    # at the default budget of 0.5 a silence at home here waits as long as a new home's outings
    # (4 h, the default before any outing is seen); a budget of 1 tells the two apart
    detector = learned(ctx, budget=1.0)
    morning_until(detector, "h-1", 9.0)
    home, out = detector, copy.deepcopy(detector)
    out.learn_one(sign("h-1", at(DAYS, 9.05), SignKind.DOOR))
    out.learn_one(sign("h-1", at(DAYS, 9.06), SignKind.DOOR))
    at_home = first_alert(home, ctx, at(DAYS, 9.0), 13)
    gone = first_alert(out, ctx, at(DAYS, 9.0), 13)
    assert at_home is not None and gone is not None
    assert gone[0] > at_home[0]
    assert gone[1].explanation.startswith("probably went out: the door was used at 09:03")


def test_a_visit_is_a_sign_of_life() -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    alert = first_alert(copy.deepcopy(detector), ctx, at(DAYS, 9.0), 12)
    assert alert is not None
    detector.learn_one(sign("h-1", alert[0] - 600, SignKind.VISIT))
    assert [f for f in assess(detector, alert[0], ctx) if f.kind is AlertKind.INACTIVITY] == []


def test_an_announced_absence_silences_inactivity_alerts() -> None:
    away = household(away_until=at(DAYS + 2, 12.0))
    detector = learned(away)
    morning_until(detector, "h-1", 9.0)
    assert first_alert(detector, away, at(DAYS, 9.0), 30) is None


@pytest.mark.parametrize(("tier", "severity", "words"), [
    (Tier.RED, Severity.URGENT, "we cannot see this home: please check on the elder"),
    (Tier.GREEN, Severity.WARNING, "a device fault or power cut; arrange a repair"),
])
def test_a_silent_hub_is_a_device_problem_not_a_silent_home(tier: Tier, severity: Severity,
                                                             words: str) -> None:
    ctx = household(tier=tier)
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    detector.observe(HomeState("h-1"), hub_id="hub-h-1", at=at(DAYS, 9.0))
    found = assess(detector, at(DAYS, 15.0), ctx, hubs_heard=False)
    assert [f.kind for f in found] == [AlertKind.HUB_OFFLINE]
    assert found[0].severity is severity
    assert words in found[0].explanation


def test_a_building_power_cut_is_one_event_not_one_per_home() -> None:
    homes = [household(f"h-{n}", tier=Tier.RED if n == 3 else Tier.BLUE, building="3号楼")
             for n in range(6)]
    detector = learned(*homes, days=4)
    for n, ctx in enumerate(homes):
        detector.observe(HomeState(ctx.household.id), hub_id=ctx.hubs[0].id,
                         at=at(4, 10.0) + 60 * n)
    found = assess(detector, at(4, 11.5), *homes, hubs_heard=False)
    assert len(found) == 1
    assert found[0].household_id == "h-3"
    assert found[0].details["households"] == [f"h-{n}" for n in range(6)]
    assert found[0].explanation.startswith("6 homes in 3号楼 went silent together")


def test_a_new_household_starts_from_the_population_prior() -> None:
    ctx = household()
    detector = LearnedDetector(DetectorSettings(), TZ)
    detector.learn_one(sign("h-1", at(0, 9.0)))
    alert = first_alert(detector, ctx, at(0, 9.0), 12)
    assert alert is not None
    default = DetectorSettings().learned.default_threshold
    assert alert[1].details["threshold"] == pytest.approx(default)
    assert "still learning this home: 0 days of history" in alert[1].explanation


def test_water_running_longer_than_the_homes_longest_normal_use_alerts_early() -> None:
    ctx = household()
    detector = learned(ctx)
    home = HomeState("h-1")
    for day in range(DAYS - 5, DAYS):  # a ten-minute shower each evening
        home.runs[SensorKind.WATER] = (at(day, 20.0), at(day, 20.0) + 600)
        detector.observe(home, hub_id="hub-h-1", at=at(day, 20.2))
        home.runs.clear()
        detector.observe(home, hub_id="hub-h-1", at=at(day, 20.3))
    home.runs[SensorKind.WATER] = (at(DAYS, 10.0), at(DAYS, 10.0) + 25 * 60)
    detector.observe(home, hub_id="hub-h-1", at=at(DAYS, 10.45))
    found = [f for f in detector.assess(at(DAYS, 10.45), {}, {"h-1": ctx})
             if f.kind is AlertKind.WATER_RUNNING]
    assert len(found) == 1
    assert found[0].details["limit_s"] < DetectorSettings().water_run_max_min * 60
    assert "this home's longest normal use lasts 10 m" in found[0].explanation


def test_a_day_unlike_the_usual_days_leaves_a_note_not_an_emergency() -> None:
    ctx = household()
    detector = learned(ctx)
    for hour in (11.0, 11.1, 15.0):  # a strange, nearly silent day
        detector.learn_one(sign("h-1", at(DAYS, hour)))
    detector.learn_one(sign("h-1", at(DAYS + 1, 6.5)))  # the next day folds it
    notes = [f for f in assess(detector, at(DAYS + 1, 6.6), ctx)
             if f.kind is AlertKind.UNUSUAL_DAY]
    assert len(notes) == 1
    assert notes[0].severity is Severity.NOTE
    assert notes[0].explanation.startswith("Monday looked unlike this home's usual days")


def test_the_model_survives_a_restart_through_its_snapshot(tmp_path: Path) -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    path = tmp_path / "model.npz"
    snapshot.save(detector, path, now=at(DAYS, 9.0), visit_cursor=7)
    restored = LearnedDetector(DetectorSettings(), TZ)
    header = snapshot.load(restored, path)
    assert header is not None and header["visit_cursor"] == 7
    assert first_alert(restored, ctx, at(DAYS, 9.0), 12) == first_alert(detector, ctx,
                                                                        at(DAYS, 9.0), 12)


def test_a_snapshot_of_another_layout_is_not_loaded_so_the_model_is_learned_again(
        tmp_path: Path) -> None:
    detector = LearnedDetector(DetectorSettings(), TZ)
    detector.row("h-1")
    path = tmp_path / "model.npz"
    snapshot.save(detector, path, now=at(DAYS, 9.0), visit_cursor=7)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["header"]))
    arrays["header"] = np.array(json.dumps(header | {"version": 1}))  # float32 columns, say
    np.savez(path, **arrays)
    assert snapshot.load(LearnedDetector(DetectorSettings(), TZ), path) is None
    assert snapshot.load(detector, tmp_path / "none.npz") is None


def test_an_alerting_silence_goes_on_alerting_until_a_sign_of_life() -> None:
    ctx = household()
    detector = learned(ctx, budget=1.0)  # so that the afternoon silence alerts before 21:00
    morning_until(detector, "h-1", 9.0)
    detector.learn_one(sign("h-1", at(DAYS, 16.0)))
    alert = first_alert(detector, ctx, at(DAYS, 16.0), 8)
    assert alert is not None and alert[0] < at(DAYS, 21.0)
    for now in np.arange(alert[0], at(DAYS + 1, 9.0), 1800.0):
        assert [f.kind for f in assess(detector, float(now), ctx)] == [AlertKind.INACTIVITY]
    detector.learn_one(sign("h-1", at(DAYS + 1, 9.0)))
    after = assess(detector, at(DAYS + 1, 9.1), ctx)
    assert [f for f in after if f.kind is AlertKind.INACTIVITY] == []


def test_a_building_outage_stays_one_event_while_its_homes_come_back_one_by_one() -> None:
    homes = [household(f"h-{n}", tier=Tier.RED if n == 0 else Tier.BLUE, building="3号楼")
             for n in range(4)]
    detector = learned(*homes, days=4)
    for ctx in homes:
        detector.observe(HomeState(ctx.household.id), hub_id=ctx.hubs[0].id, at=at(4, 10.0))
    leads = {f.household_id for f in assess(detector, at(4, 12.0), *homes, hubs_heard=False)}
    assert leads == {"h-0"}
    for n, ctx in enumerate(homes):  # power returns; the hubs speak again one at a time
        now = at(4, 13.0) + 600 * n
        detector.observe(HomeState(ctx.household.id), hub_id=ctx.hubs[0].id, at=now)
        found = [f for f in assess(detector, now, *homes, hubs_heard=False)
                 if f.kind is AlertKind.HUB_OFFLINE]
        leads |= {f.household_id for f in found}
        assert len(found) <= 1
    assert leads == {"h-0"}


def test_the_population_prior_is_the_households_rhythm_pooled() -> None:
    homes = [household(f"h-{n}") for n in range(4)]
    detector = learned(*homes, days=8)
    assess(detector, at(8, 12.0), *homes)
    prior = detector.population.day_prior
    own = np.diff(detector.table.cum_of(0)).reshape(7, 24).mean(axis=0)
    assert detector.population.households == 4
    assert prior[10] == pytest.approx(own[10], rel=0.35)  # about 1.4 uses an hour by day
    assert prior[3] < 0.2 < prior[10]


def test_history_arriving_all_at_once_makes_the_population_the_same_day() -> None:
    # A system that starts empty and then receives a week of history in one go (a first
    # import, a restart without a snapshot, the demo) must not keep the default limits all day.
    homes = [household(f"h-{n}") for n in range(4)]
    detector = LearnedDetector(DetectorSettings(), TZ)
    assess(detector, at(8, 12.0), *homes)  # nothing learned yet: no population to make
    assert detector.population.households == 0
    for n, ctx in enumerate(homes):
        detector.learn(routine(ctx.household.id, 8, seed=n))
    assess(detector, at(8, 12.1), *homes)  # the same local day
    assert detector.population.households == 4
    assert np.isfinite(detector.population.threshold).any()


def test_a_silence_counts_from_when_staff_last_closed_its_alert() -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    alert = first_alert(copy.deepcopy(detector), ctx, at(DAYS, 9.0), 12)
    assert alert is not None
    checked = Context(ctx.household, ctx.hubs, ctx.watching_since,
                      {AlertKind.INACTIVITY: alert[0]})  # staff went, found her fine, closed it
    later = first_alert(detector, checked, alert[0], 12)
    assert later is not None and later[0] - alert[0] >= 3600
    assert later[1].since == alert[0]
    # The words still say when she was last heard from (09:00), and that staff checked since.
    check = datetime.fromtimestamp(alert[0], TZ).strftime("%H:%M")
    assert "since 09:00" in later[1].explanation, later[1].explanation
    assert f"staff checked at {check}" in later[1].explanation, later[1].explanation
    assert "自09:00起" in (later[1].explanation_zh or "")
    assert f"工作人员{check}已查看" in (later[1].explanation_zh or "")
    assert later[1].details["counted_from"] == "checked"


def test_every_alert_is_explained_in_chinese_too() -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    alert = first_alert(detector, ctx, at(DAYS, 9.0), 12)
    assert alert is not None
    finding = alert[1]
    assert finding.explanation_zh and "自09:00起" in finding.explanation_zh
    assert not any("a" <= c.lower() <= "z" for c in finding.explanation_zh), finding.explanation_zh
    assert finding.stored_details()["explanation_zh"] == finding.explanation_zh


def test_time_spent_out_is_not_time_at_home_without_water() -> None:
    ctx = household()
    stayed = learned(ctx)
    morning_until(stayed, "h-1", 8.0)
    stayed.learn_one(sign("h-1", at(DAYS, 9.0), SignKind.ELECTRICITY))
    went_out = copy.deepcopy(stayed)
    for detector in (stayed, went_out):
        detector.learn_one(sign("h-1", at(DAYS, 9.5), SignKind.DOOR))
    stayed.learn_one(sign("h-1", at(DAYS, 9.6), SignKind.ELECTRICITY))  # only the newspaper
    went_out.learn_one(sign("h-1", at(DAYS, 18.0), SignKind.DOOR))  # back from the day out
    for detector in (stayed, went_out):
        for hour in (18.5, 19.5, 20.0):
            detector.learn_one(sign("h-1", at(DAYS, hour), SignKind.ELECTRICITY))

    def no_water(detector: LearnedDetector, hour: float) -> list[Finding]:
        found = assess(copy.deepcopy(detector), at(DAYS, hour), ctx)  # hub heard until then
        return [f for f in found if f.kind is AlertKind.NO_WATER]

    assert no_water(stayed, 20.5)  # 12 h at home without water
    assert not no_water(went_out, 20.5)  # 12 h since water, but 8 h 30 m of them out
    assert not no_water(went_out, 28.6)  # 20 h 36 m since water: 8 h 30 m out, 7 h asleep
    later = no_water(went_out, 37.7)  # 12 h awake at home since water
    assert later and "08:00 (1 d 5 h, 8 h 30 m of it out, " in later[0].explanation, (
        later[0].explanation)
    assert "in her usual night), though" in later[0].explanation, later[0].explanation
    assert "（其中外出8小时30分，在平常睡觉的时间" in (later[0].explanation_zh or ""), (
        later[0].explanation_zh)


def test_no_water_is_not_judged_while_the_elder_is_probably_out() -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 8.0)
    detector.learn_one(sign("h-1", at(DAYS, 9.0), SignKind.ELECTRICITY))
    detector.learn_one(sign("h-1", at(DAYS, 9.5), SignKind.DOOR))  # left after breakfast
    found = [f.kind for f in assess(detector, at(DAYS, 20.5), ctx)]
    assert AlertKind.NO_WATER not in found
    assert AlertKind.INACTIVITY in found  # her outing is judged instead


def test_a_silence_after_getting_up_early_is_judged_by_the_day_not_the_wake_limit() -> None:
    ctx = household()
    detector = learned(ctx)
    detector.learn_one(sign("h-1", at(DAYS - 1, 21.4)))
    for hour in (5.0, 5.2, 5.4):  # up an hour and a half earlier than usual, then nothing
        detector.learn_one(sign("h-1", at(DAYS, hour), SignKind.ELECTRICITY))
    alert = first_alert(detector, ctx, at(DAYS, 5.4), 12)
    assert alert is not None
    assert not alert[1].explanation.startswith("not up yet"), alert[1].explanation
    assert alert[1].details["why"] == "day"
