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


def test_the_compose_first_step_writes_the_roles_logins_without_a_store_and_keeps_the_hubs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/deploy.md's first step runs on the host, `.env` loaded, before any store exists. Found
    by an attacker: refused ("no community here"), no file written, and no role could log in."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOUWANG_STORAGE__DATA_DIR", raising=False)
    for role in ("GATEWAY", "DETECTOR", "DISPATCH"):
        monkeypatch.setenv(f"SHOUWANG_MQTT__{role}__PASSWORD", f"{role.lower()}-password-1234")
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    (folder / mosquitto.PASSWD_FILE).write_text("h-7:" + mosquitto.password_hash("hub seven") + "\n")
    assert main(["hubs", "provision", "--all", "--mosquitto-dir", "mosquitto"]) == 0
    assert "the roles' logins are written and the hubs' kept as they were" in capsys.readouterr().err
    logins = mosquitto.read_passwd(folder / mosquitto.PASSWD_FILE)
    assert {"shouwang-gateway", "shouwang-detector", "shouwang-dispatch", "h-7"} <= set(logins)
    assert mosquitto.verify("gateway-password-1234", logins["shouwang-gateway"])
    assert "topic write shouwang/v1/hubs/h-7/#" in (folder / mosquitto.ACL_FILE).read_text()
    assert not (tmp_path / "shouwang-data").exists()
    # one hub by name still needs the store that registers it
    assert main(["hubs", "provision", "h-8", "--mosquitto-dir", "mosquitto"]) == 2


def test_a_hub_registered_before_staff_logins_were_reserved_is_refused_at_provision(
        community: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Found by a regression tester: a hub named staff-2 from before the rule passed `provision
    --all`, and the ACL let it read staff member 2's alerts."""
    from sqlalchemy import insert

    from shouwang.storage.database import writing
    from shouwang.storage.schema import hubs

    state = StateStore.open(f"sqlite:///{tmp_path / 'data' / 'state.db'}")
    with writing(state.engine) as db:  # as an older version let it in
        db.execute(insert(hubs).values(id="staff-2", household_id="hh-1", report_interval_s=900.0,
                                       created_at=time.time()))
    state.close()
    assert main(["hubs", "provision", "--all", "--mosquitto-dir", str(community)]) == 2
    assert "hub staff-2 has an id that is now a staff member's app login" in capsys.readouterr().err
    assert not (community / mosquitto.ACL_FILE).exists()
