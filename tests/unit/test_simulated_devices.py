"""A simulated home equipped from a shop's shelf: its bridges' messages, read back by the gateway's
own translators with the map an installer would register, say what the hub would have said."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from gateway.bridges.devices import device_map as by_name
from gateway.bridges.route import BridgeReader, bridge_topic
from shouwang.domain.model import FINE_PRESS, HELP_PRESS
from simulator.devices import BridgeRenderer, device_map
from simulator.home import SimulatedHome
from simulator.incidents import Incident, IncidentKind
from simulator.routine import Profile

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 3, 4, tzinfo=TZ).timestamp()
HUB = "h-sim-0001"


def home(*incidents: Incident) -> SimulatedHome:
    return SimulatedHome("sim-0001", HUB, Profile.draw(np.random.default_rng(3)), 11, TZ, START,
                         list(incidents), fine_press_h=9.25, bridged=True)


def test_the_fine_button_is_pressed_every_morning_and_help_only_when_scripted() -> None:
    help_at = START + 86400 + 15 * 3600 + 30
    reports = home(Incident("sim-0001", IncidentKind.HELP_PRESS, help_at)).advance(START + 3 * 86400)
    fine = [r.ts for r in reports if r.sensor == "button.fine"]
    help_ = [(r.ts, r.payload["value"]) for r in reports if r.sensor == "button"]
    assert help_ == [(help_at, HELP_PRESS)]
    assert 2 <= len(fine) <= 3  # every day at 09:15, unless she is out then
    assert all(datetime.fromtimestamp(ts, TZ).strftime("%H:%M") == "09:15" for ts in fine)
    down = home(Incident("sim-0001", IncidentKind.INCAPACITATION, START)).advance(START + 2 * 86400)
    assert [r for r in down if r.sensor == "button.fine"] == []  # a fallen elder presses nothing


def test_the_bridges_messages_read_back_as_the_hubs_readings() -> None:
    simulated = home(Incident("sim-0001", IncidentKind.HELP_PRESS, START + 12 * 3600 + 7))
    reports = simulated.advance(START + 86400)
    renderer = BridgeRenderer(HUB, TZ)
    reader = BridgeReader(TZ)
    reader.set_maps({HUB: by_name(device_map(HUB)).values()})
    read: dict[str, list[tuple[float, float]]] = {}
    for tail, payload in renderer.render(reports, simulated.now):
        topic = bridge_topic(f"shouwang/v1/hubs/{HUB}/{tail}", "shouwang/v1")
        assert topic is not None
        readings, translation = reader.read(topic, payload, now=0.0, last_value=lambda h, s: None)
        assert translation.rejections == [], translation.rejections
        for r in readings:
            read.setdefault(r.sensor, []).append((r.ts, r.value))
    hub_said = {sensor: [(r.ts, float(r.payload["value"])) for r in reports if r.sensor == sensor]  # type: ignore[arg-type]
                for sensor in ("door", "button", "button.fine")}
    for sensor, said in hub_said.items():
        assert [(round(ts, 2), v) for ts, v in read.get(sensor, [])] == [(round(ts, 2), v) for ts, v in said], sensor
    water = [float(r.payload["value"]) for r in reports if r.sensor == "water"]  # type: ignore[arg-type]
    assert [v for _, v in read["water"]] == [round(v, 3) for v in water]
    assert [v for _, v in read["button"]] == [HELP_PRESS] and {v for _, v in read["button.fine"]} == {FINE_PRESS}
    moved = [ts for ts, v in read["motion"] if v == 1.0]
    assert len(moved) >= 5 and len(read["electricity"]) > 20
    assert "gas" not in read


def test_an_equipped_homes_past_comes_as_the_contracts_backlog_with_its_movement() -> None:
    reports = home().advance(START + 86400)
    history = BridgeRenderer(HUB, TZ).history(reports)
    sensors = {r.sensor for r in history}
    assert "gas" not in sensors and {"door", "water", "electricity", "motion", "button.fine"} <= sensors
    moved = [r for r in history if r.sensor == "motion"]
    assert len(moved) >= 10 and [r.payload["value"] for r in moved[:2]] == [1.0, 0.0]
    assert moved[1].ts - moved[0].ts == 90.0
    assert [r for r in history if r.sensor != "motion"] == sorted(
        (r for r in reports if r.sensor != "gas"), key=lambda r: r.ts)


def test_a_fallen_elders_door_heartbeats_are_no_movement() -> None:
    down = home(Incident("sim-0001", IncidentKind.INCAPACITATION, START))
    renderer = BridgeRenderer(HUB, TZ)
    messages = renderer.render(down.advance(START + 86400), down.now)
    assert any(tail == "z2m/entrance" for tail, _ in messages)  # the contact sensor still checks in
    assert [tail for tail, _ in messages if tail == "z2m/hall pir"] == []
