"""docker-compose.yml, checked without Docker: its services, health checks, and that every secret
comes from .env and every setting it gives is one Shouwang reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shouwang.settings_doc import rows

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"gateway-1": "gateway", "gateway-2": "gateway", "detector": "detector", "dispatch": "dispatch",
         "api": "api"}
ONE_SHOTS = {"migrate": ["db", "upgrade"], "influx-setup": ["db", "influx-setup"]}
REQUIRED = re.compile(r"^\$\{(\w+):\?[^}]+\}$")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_it_runs_the_broker_the_databases_two_gateways_a_detector_dispatch_and_the_api(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {"mosquitto", "postgres", "influxdb", *ROLES, *ONE_SHOTS}
    for name, role in ROLES.items():
        assert services[name]["command"][0] == role
        assert services[name]["build"] == "." and services[name]["restart"] == "unless-stopped"
    gateways = [services[n]["environment"] for n in ("gateway-1", "gateway-2")]
    assert {g["SHOUWANG_MQTT__SHARED_GROUP"] for g in gateways} == {"gateways"}
    assert all(g["SHOUWANG_MQTT__PROTOCOL"] == "5" for g in gateways), "shared subscriptions need MQTT 5"
    assert len({g["SHOUWANG_MQTT__GATEWAY__CLIENT_ID"] for g in gateways}) == 2, "one session each"


def test_every_service_has_a_health_check_and_the_roles_wait_for_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        if name not in ONE_SHOTS:
            assert service["healthcheck"]["test"], name
    for name in ROLES:
        depends = compose["services"][name]["depends_on"]
        assert {n: d["condition"] for n, d in depends.items()} == {
            "mosquitto": "service_healthy", "postgres": "service_healthy", "influxdb": "service_healthy",
            "migrate": "service_completed_successfully", "influx-setup": "service_completed_successfully",
        }, name


def test_the_store_is_upgraded_and_influx_set_up_once_before_any_role_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, command in ONE_SHOTS.items():
        assert services[name]["command"] == command
        assert services[name]["restart"] == "no", f"{name} runs once; restarting it would loop"
        assert services[name]["image"] == services["detector"]["image"], "the roles' own code"
        shared = {n: v for n, v in services["detector"]["environment"].items() if "__DETECTOR__" not in n}
        assert services[name]["environment"] == shared, "the same store and settings as the roles"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["influx-setup"]["depends_on"] == {"influxdb": {"condition": "service_healthy"}}


def test_no_secret_has_a_default_and_each_is_in_env_example(compose: dict[str, Any]) -> None:
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    text = (ROOT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{(\w+)[:?}-]", text))
    assert referenced <= set(example), referenced - set(example)
    assert not any(value for name, value in example.items() if SECRET_NAME.search(name)), \
        ".env.example leaves every secret empty"
    for name, service in compose["services"].items():
        for variable, value in service.get("environment", {}).items():
            if SECRET_NAME.search(variable) and "USERNAME" not in variable:
                assert REQUIRED.match(str(value)), f"{name}: {variable} must be ${{VAR:?...}}, not {value!r}"
            for embedded in re.findall(r"//\w+:([^@]+)@", str(value)):
                assert REQUIRED.match(embedded), f"{name}: {variable} holds a literal password"


def test_every_shouwang_variable_it_sets_is_a_setting(compose: dict[str, Any]) -> None:
    known = {variable for variable, _, _ in rows()}
    given = {variable for service in compose["services"].values()
             for variable in service.get("environment", {}) if variable.startswith("SHOUWANG_")}
    assert given - known == set()


def test_mosquitto_gets_the_files_deploy_mosquitto_conf_names(compose: dict[str, Any]) -> None:
    conf = (ROOT / "deploy" / "mosquitto.conf").read_text()
    named = set(re.findall(r"^(?:password_file|acl_file) (\S+)$", conf, re.M))
    mounted = {volume.split(":")[1] for volume in compose["services"]["mosquitto"]["volumes"]}
    assert named <= mounted
    persistence = re.search(r"^persistence_location (\S+?)/?$", conf, re.M)
    assert persistence is not None and persistence.group(1) in mounted


def test_the_image_runs_the_shouwang_command_as_a_user_of_its_own() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["shouwang"]' in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "[postgres,influx]" in dockerfile
