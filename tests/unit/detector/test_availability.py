"""A bridge's devices going unreachable is a device fault, not a silent home."""

from __future__ import annotations

from dataclasses import replace

import pytest

from detector.availability import BACK_AFTER_S, Availability, DeviceDown, HomeDevices
from detector.context import Context
from detector.rules import FixedRules
from detector.signs import HomeState
from shouwang.domain.alerts import AlertKind, Severity
from shouwang.domain.devices import DeviceMap
from shouwang.domain.model import SensorKind, Tier
from shouwang.settings import DetectorSettings
from tests.unit.detector.helpers import TZ, at, household
from tests.unit.detector.test_learned import DAYS, assess, first_alert, learned, morning_until

HUB = "hub-h-1"
MAP = {HUB: [DeviceMap("entrance", SensorKind.DOOR, bridge="z2m"),
             DeviceMap("hall pir", SensorKind.MOTION),
             DeviceMap("33225544", SensorKind.WATER, bridge="wmbus")]}


def z2m_down(t: float = 100.0) -> Availability:
    seen = Availability()
    seen.heard(HUB, "z2m", "hall pir")
    seen.note(HUB, "z2m", "bridge", online=False, at=t)
    return seen


def test_a_bridge_going_offline_takes_its_mapped_devices_with_it() -> None:
    home = z2m_down().home([HUB], MAP)
    assert [(d.device, d.bridge, d.since) for d in home.down] == [("entrance", "z2m", 100.0),
                                                                   ("hall pir", "z2m", 100.0)]
    assert home.hubs_down == frozenset()  # the water meter still gives signs
    assert home.back_at is None


def test_a_hub_all_of_whose_devices_are_offline_gives_no_sign() -> None:
    seen = z2m_down()
    seen.note(HUB, "z2m", "bridge", online=True, at=90.0)  # older than what is held: ignored
    assert seen.home([HUB], {HUB: MAP[HUB][:2]}).hubs_down == {HUB}


def test_a_device_back_online_says_when_and_a_repeated_online_does_not_move_it() -> None:
    seen = Availability()
    assert not seen.note(HUB, "tasmota", "plug", online=True, at=50.0)  # nothing was down
    assert seen.note(HUB, "tasmota", "plug", online=False, at=100.0)
    back = 100.0 + BACK_AFTER_S + 100.0
    assert seen.note(HUB, "tasmota", "plug", online=True, at=back)
    assert not seen.note(HUB, "tasmota", "plug", online=True, at=back + 100.0)
    home = seen.home([HUB], {HUB: [DeviceMap("plug", SensorKind.ELECTRICITY)]})
    assert home.down == () and home.back_at == back


def test_a_device_away_for_a_minute_does_not_restart_the_silence() -> None:
    # found by a tester: a plug whose Wi-Fi dropped for 45 s every hour restarted the elder's
    # silence every hour, and her collapse was never alerted on, not even at the ceiling
    seen = Availability()
    for hour in range(12):
        assert seen.note(HUB, "tasmota", "plug", online=False, at=hour * 3600.0)
        assert seen.note(HUB, "tasmota", "plug", online=True, at=hour * 3600.0 + 45.0)
    assert seen.home([HUB], {HUB: [DeviceMap("plug", SensorKind.ELECTRICITY)]}).back_at is None


def with_devices(ctx: Context, *devices: str, hub_down: bool = False,
                 back_at: float | None = None) -> Context:
    down = tuple(DeviceDown(HUB, "z2m", d, at(DAYS, 9.5)) for d in devices)
    return replace(ctx, devices=HomeDevices(down, frozenset({HUB} if hub_down else ()), back_at))


def test_with_some_devices_offline_the_silence_waits_for_the_ceiling_and_staff_are_told_which() -> None:
    ctx = with_devices(household(), "entrance", "hall pir")
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    alert = first_alert(detector, ctx, at(DAYS, 9.0), 11)
    assert alert is None  # the learned rhythm would have alerted within 5 hours
    found = assess(detector, at(DAYS, 12.0), ctx)
    assert [f.kind for f in found] == [AlertKind.HUB_OFFLINE]
    assert found[0].severity is Severity.WARNING
    assert found[0].details["devices"][0]["device"] == "entrance"
    assert "entrance (z2m), hall pir (z2m)" in found[0].explanation
    assert "still report" in found[0].explanation and found[0].explanation_zh
    ceiling = first_alert(detector, ctx, at(DAYS, 20.0), 2)
    assert ceiling is not None and ceiling[1].details["limit"] == "safety_limit"


@pytest.mark.parametrize(("tier", "severity", "words"), [
    (Tier.RED, Severity.URGENT, "we cannot see this home: please check on the elder"),
    (Tier.GREEN, Severity.WARNING, "no device of this home can give a sign; arrange a repair"),
])
def test_a_home_whose_every_device_is_offline_is_blind(tier: Tier, severity: Severity, words: str) -> None:
    ctx = with_devices(household(tier=tier), "entrance", hub_down=True)
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    found = assess(detector, at(DAYS, 23.0), ctx)  # the hub itself is heard (a retained status)
    assert [f.kind for f in found] == [AlertKind.HUB_OFFLINE]
    assert found[0].severity is severity and words in found[0].explanation


def test_after_the_devices_come_back_the_silence_counts_from_then() -> None:
    ctx = household()
    detector = learned(ctx)
    morning_until(detector, "h-1", 9.0)
    back = with_devices(ctx, back_at=at(DAYS, 13.0))
    alert = first_alert(detector, back, at(DAYS, 13.0), 6)
    assert alert is not None and alert[1].since == at(DAYS, 13.0)
    assert alert[1].details["counted_from"] == "resumed"


def test_the_fixed_rule_is_blind_too_when_every_device_is_offline() -> None:
    rules = FixedRules(DetectorSettings(), TZ)
    ctx = with_devices(household(tier=Tier.RED), "entrance", hub_down=True)
    home = HomeState("h-1")
    home.hub_seen_at[HUB] = at(DAYS, 23.9)
    found = rules.assess_one(at(DAYS, 24.0), home, ctx)
    assert [(f.kind, f.severity) for f in found] == [(AlertKind.HUB_OFFLINE, Severity.URGENT)]
    assert "entrance (z2m)" in found[0].explanation
