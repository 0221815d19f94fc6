"""The demo's scripted fall: at home, with something other than the front door as the red
elder's last sign, whatever day the demo starts on (four weeks of them)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shouwang.domain.model import Tier
from simulator.incidents import IncidentKind
from simulator.population import DEMO_TZ, build_homes, demo_clock_start, demo_equipped, demo_incidents, population

START = datetime(2026, 11, 30, 9, 0, tzinfo=DEMO_TZ)  # a Monday; 28 days on, weekdays and weekends


@pytest.mark.parametrize("day", range(28))
def test_the_red_elder_falls_at_home_after_a_use_not_just_after_a_door(day: int) -> None:
    homes = demo_equipped(population(12, seed=7))
    now = demo_clock_start((START + timedelta(days=day)).timestamp(), DEMO_TZ)
    fall = next(i for i in demo_incidents(homes, now=now, tz=DEMO_TZ)
                if i.kind is IncidentKind.INCAPACITATION)
    red = next(h for h in homes if h.tier is Tier.RED)
    assert fall.home_id == red.home_id
    home = build_homes([red], start=fall.start - 6 * 3600, tz=DEMO_TZ, incidents=[fall])[0]
    assert not home.is_out(fall.start), "she fell while her routine had her out"
    opened, used, last = [], [], {}
    for report in home.advance(fall.start + 3600):
        value = report.payload.get("value")
        if report.sensor == "door" and value == 1.0:
            opened.append(report.ts)
        elif report.sensor in ("water", "gas") and value != last.get(report.sensor):
            used.append(report.ts)
        last[report.sensor] = value
    when = datetime.fromtimestamp(fall.start, DEMO_TZ).strftime("%a %H:%M")
    assert used and used[-1] <= fall.start + 60, f"no use before her fall at {when}"
    assert not [at for at in opened if at > used[-1]], (
        f"a door ({[datetime.fromtimestamp(at, DEMO_TZ).strftime('%H:%M') for at in opened[-2:]]}) "
        f"came after her last use before her fall at {when}: the silence would be judged an outing")
