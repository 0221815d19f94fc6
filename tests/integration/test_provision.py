"""`shouwang hubs provision`: a hub's password printed once, Mosquitto's files written for it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli import mosquitto
from cli.main import main
from shouwang.domain.model import Grid, Household, Hub, Tier
from shouwang.storage.state import StateStore


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOUWANG_STORAGE__DATA_DIR", str(tmp_path / "data"))
    state = StateStore.open(f"sqlite:///{tmp_path / 'data' / 'state.db'}")
    state.registry.add_grid(Grid("g-1", "一网格"))
    for n in (1, 2):
        state.registry.add_household(Household(f"hh-{n}", Tier.GREEN, "g-1"), now=time.time())
        state.registry.add_hub(Hub(f"h-{n}", f"hh-{n}"), now=time.time())
    state.close()
    return tmp_path / "mosquitto"


def test_a_hub_gets_a_password_once_and_its_own_acl_block(
    community: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["hubs", "provision", "h-1", "--mosquitto-dir", str(community)]) == 0
    [password] = [line.split(",")[1] for line in capsys.readouterr().out.splitlines() if line.startswith("h-1,")]
    passwd = mosquitto.read_passwd(community / mosquitto.PASSWD_FILE)
    assert set(passwd) == {"h-1"} and mosquitto.verify(password, passwd["h-1"])
    acl = (community / mosquitto.ACL_FILE).read_text()
    assert "user h-1\ntopic write shouwang/v1/hubs/h-1/#" in acl and "user h-2" not in acl

    assert main(["hubs", "provision", "--all", "--mosquitto-dir", str(community)]) == 0
    out = capsys.readouterr().out
    assert "h-1," not in out and "h-2," in out, "h-1 keeps its password; h-2 gets one"
    for role in ("GATEWAY", "DETECTOR", "DISPATCH", "SIMULATOR"):
        assert f"SHOUWANG_MQTT__{role}__PASSWORD=" in out
    passwd = mosquitto.read_passwd(community / mosquitto.PASSWD_FILE)
    assert mosquitto.verify(password, passwd["h-1"])
    assert set(passwd) == {"h-1", "h-2", "shouwang-gateway", "shouwang-detector", "shouwang-dispatch",
                           "shouwang-simulator"}


def test_an_unregistered_hub_is_refused_with_how_to_register_it(
    community: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["hubs", "provision", "h-9", "--mosquitto-dir", str(community)]) == 2
    assert "shouwang hubs add h-9 --household" in capsys.readouterr().err
    assert not (community / mosquitto.PASSWD_FILE).exists()
