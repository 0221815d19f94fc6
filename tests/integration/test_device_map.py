"""A hub's device map from the command line, and what the bridges said of each device, in SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from shouwang.domain.devices import EVERY_ACTION, DeviceMap, DeviceSighting
from shouwang.domain.model import SensorKind
from shouwang.storage import devices as device_storage
from shouwang.storage.audit import Actor
from shouwang.storage.state import StateStore


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_installer_maps_a_homes_devices_and_sees_what_waits_unmapped(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "homes.csv"
    csv.write_text("id,colour,grid,grid_name,hub\nhh-1,红,g-01,东园,h-1\n", encoding="utf-8")
    assert run(capsys, "households", "import", str(csv))[0] == 0
    assert run(capsys, "hubs", "devices", "h-1", "add", "entrance", "door", "--by", "li.si")[0] == 0
    assert run(capsys, "hubs", "devices", "h-1", "add", "平安键", "button", "--fine")[0] == 0
    code, out, _ = run(capsys, "hubs", "devices", "h-1", "add", "sos", "button", "--sensor", "button.sos",
                       "--fine-action", "double", "--bridge", "z2m")
    assert code == 0 and "double: I am fine; any other press: help" in out
    code, _, err = run(capsys, "hubs", "devices", "h-1", "add", "back", "door")
    assert code != 0 and "already device 'entrance'" in err  # two devices cannot be one sensor
    code, _, err = run(capsys, "hubs", "devices", "h-9", "add", "x", "door")
    assert code != 0 and "hub h-9 is not registered" in err
    state = StateStore.open(f"sqlite:///{data_dir / 'state.db'}")
    try:
        state.devices.heard([DeviceSighting("h-1", "z2m", "entrance", 100.0, 200.0, 3, 0.87),
                             DeviceSighting("h-1", "z2m", "0x00158d0001a2b3c4", 150.0, 160.0, 2)])
        state.devices.heard([DeviceSighting("h-1", "z2m", "entrance", 300.0, 400.0, 1)])
        entrance = next(s for s in state.devices.sightings(["h-1"]) if s.device == "entrance")
        assert (entrance.first_seen_at, entrance.last_seen_at, entrance.messages, entrance.battery) == (
            100.0, 400.0, 4, 0.87)  # a message without a battery keeps the last one known
        assert [e.details["device"] for e in state.audit.for_entity("hub", "h-1")] == ["entrance", "平安键", "sos"]
        assert state.audit.for_entity("hub", "h-1")[0].actor == "li.si"
    finally:
        state.close()
    code, out, _ = run(capsys, "hubs", "devices", "h-1")
    assert code == 0
    assert "battery 87%" in out and "(every press: I am fine)" in out and "1 unmapped devices waiting" in out
    code, out, _ = run(capsys, "hubs", "devices", "h-1", "--unmapped")
    assert "'0x00158d0001a2b3c4': 2 messages" in out and "entrance" not in out
    code, out, _ = run(capsys, "hubs", "devices", "h-1", "remove", "entrance")
    assert code == 0 and "no longer mapped (it was door)" in out
    assert "entrance" in run(capsys, "hubs", "devices", "h-1", "--unmapped")[1]
    assert run(capsys, "hubs", "devices", "h-1", "remove", "entrance")[0] != 0


def test_a_hub_inventing_device_names_cannot_grow_the_sightings_without_bound(sqlite_url: str) -> None:
    state = StateStore.open(sqlite_url)
    try:
        from shouwang.domain.model import Grid, Household, Hub, Tier
        state.registry.add_grid(Grid("g-01", "east"))
        state.registry.add_household(Household("hh-1", Tier.RED, "g-01"), now=0.0)
        state.registry.add_hub(Hub("h-1", "hh-1"), now=0.0)
        most = device_storage.MOST_SIGHTINGS_PER_HUB
        state.devices.heard([DeviceSighting("h-1", "z2m", f"d{i}", 1.0, 1.0, 1) for i in range(most + 50)])
        state.devices.heard([DeviceSighting("h-1", "z2m", "d0", 2.0, 2.0, 1),
                             DeviceSighting("h-1", "z2m", "new", 2.0, 2.0, 1)])
        seen = state.devices.sightings(["h-1"])
        assert len(seen) == most and "new" not in {s.device for s in seen}
        assert next(s for s in seen if s.device == "d0").messages == 2
        state.devices.add("h-1", DeviceMap("help", SensorKind.BUTTON, "", frozenset({EVERY_ACTION})),
                          actor=Actor("t"), now=1.0)
        assert state.devices.maps()["h-1"][0].fine_actions == {EVERY_ACTION}
    finally:
        state.close()
