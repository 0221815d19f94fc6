from zoneinfo import ZoneInfo

from detector.context import Context
from detector.explain import clock_time
from detector.rules import FixedRules
from detector.signs import HomeState, SignKind, SignOfLife
from shouwang.domain.alerts import AlertKind
from shouwang.domain.model import Household, Hub, SensorKind, Tier
from shouwang.settings import DetectorSettings

H = 3600.0
T0 = 1_750_000_000.0
RULES = FixedRules(DetectorSettings(), ZoneInfo("Asia/Shanghai"))


def home_with_sign(at: float, kind: SignKind = SignKind.WATER) -> HomeState:
    home = HomeState("hh", first_seen_at=T0 - 48 * H)
    home.note_sign(SignOfLife("hh", at, kind, kind.value))
    home.hub_seen_at["h"] = T0 + 30 * H  # the hub keeps reporting throughout
    return home


def context(**changes: object) -> Context:
    household = Household("hh", Tier.RED, "g", **changes)  # type: ignore[arg-type]
    return Context(household, (Hub("h", "hh"),), watching_since=T0 - 48 * H)


def kinds(findings: list) -> set[AlertKind]:  # type: ignore[type-arg]
    return {f.kind for f in findings}


def test_twelve_silent_hours_raise_inactivity_and_eleven_do_not() -> None:
    home = home_with_sign(T0)
    assert AlertKind.INACTIVITY not in kinds(RULES.assess_one(T0 + 11 * H, home, context()))
    found = RULES.assess_one(T0 + 12 * H, home, context())
    assert AlertKind.INACTIVITY in kinds(found)


def test_after_staff_closed_an_alert_the_silence_counts_from_their_check() -> None:
    home = home_with_sign(T0)
    checked = Context(context().household, context().hubs, T0 - 48 * H,
                      {AlertKind.INACTIVITY: T0 + 13 * H})
    assert AlertKind.INACTIVITY not in kinds(RULES.assess_one(T0 + 14 * H, home, checked))
    found = [f for f in RULES.assess_one(T0 + 25 * H, home, checked)
             if f.kind is AlertKind.INACTIVITY]
    assert len(found) == 1
    # It says when the elder was last heard from, not only when staff looked in.
    now, tz = T0 + 25 * H, ZoneInfo("Asia/Shanghai")
    last, check = (clock_time(t, tz, now=now) for t in (T0, T0 + 13 * H))
    assert f"since {last}" in found[0].explanation, found[0].explanation
    assert f"staff checked at {check}, nothing since (12 h 00 m)" in found[0].explanation
    assert found[0].explanation_zh and f"工作人员{check}已查看" in found[0].explanation_zh


def test_an_elder_marked_away_raises_no_inactivity() -> None:
    home = home_with_sign(T0)
    away = context(away_until=T0 + 48 * H)
    assert kinds(RULES.assess_one(T0 + 20 * H, home, away)) == set()


def test_a_silent_hub_is_a_device_problem_not_a_silent_home() -> None:
    home = home_with_sign(T0)
    home.hub_seen_at["h"] = T0
    found = kinds(RULES.assess_one(T0 + 13 * H, home, context()))
    assert found == {AlertKind.HUB_OFFLINE}


def test_no_water_needs_other_life_to_go_on_after_the_water_stopped() -> None:
    home = home_with_sign(T0)
    home.note_sign(SignOfLife("hh", T0 + 5 * H, SignKind.ELECTRICITY, "electricity"))
    assert kinds(RULES.assess_one(T0 + 12.5 * H, home, context())) == {AlertKind.NO_WATER}


def test_a_tap_still_running_after_staff_closed_its_alert_says_how_long_it_has_run() -> None:
    home = home_with_sign(T0)
    home.runs[SensorKind.WATER] = (T0, T0 + 3 * H)  # running since T0, unbroken
    checked = Context(context().household, context().hubs, T0 - 48 * H,
                      {AlertKind.WATER_RUNNING: T0 + 1.5 * H})
    found = [f for f in RULES.assess_one(T0 + 3 * H, home, checked)
             if f.kind is AlertKind.WATER_RUNNING]
    assert len(found) == 1 and found[0].since == T0 + 1.5 * H
    now, tz = T0 + 3 * H, ZoneInfo("Asia/Shanghai")
    began, closed = (clock_time(t, tz, now=now) for t in (T0, T0 + 1.5 * H))
    assert found[0].explanation.startswith(
        f"water has been running without a break since {began} (3 h 00 m); staff closed the "
        f"earlier alert at {closed} and it has run 1 h 30 m since"), found[0].explanation
    assert found[0].explanation_zh and f"工作人员{closed}关闭了上一次警报" in found[0].explanation_zh


def test_a_silence_after_a_staff_visit_says_the_elder_was_seen_then() -> None:
    home = home_with_sign(T0, SignKind.VISIT)
    found = [f for f in RULES.assess_one(T0 + 12 * H, home, context())
             if f.kind is AlertKind.INACTIVITY]
    seen = clock_time(T0, ZoneInfo("Asia/Shanghai"), now=T0 + 12 * H)
    assert len(found) == 1
    assert f"when staff visited and saw the elder at {seen}" in found[0].explanation
    assert "last: a visit" not in found[0].explanation
    assert found[0].explanation_zh and f"{seen}工作人员上门时见到老人" in found[0].explanation_zh
