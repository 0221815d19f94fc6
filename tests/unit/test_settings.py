from pathlib import Path

import pytest

from shouwang.domain.errors import UnsafeSettings
from shouwang.domain.model import Tier
from shouwang.settings import Settings


def test_defaults_are_safe_and_use_the_embedded_broker() -> None:
    settings = Settings()
    assert settings.mqtt.embedded
    assert settings.mqtt.endpoint()[:2] == ("127.0.0.1", 1883)
    assert settings.storage.state_database_url().startswith("sqlite:///")


def test_environment_variables_fill_nested_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOUWANG_MQTT__URL", "mqtt://user:pw@10.0.0.5:1884")
    monkeypatch.setenv("SHOUWANG_DETECTOR__INACTIVITY_H", "8")
    settings = Settings()
    assert settings.mqtt.endpoint() == ("10.0.0.5", 1884, "user", "pw", False)
    assert settings.detector.inactivity_h == 8


def test_a_login_in_the_broker_url_is_percent_decoded() -> None:
    """A password with @, : or / in it is written percent-encoded in a URL (found by a tester: %20
    went to the broker as written, and the login was refused)."""
    settings = Settings(mqtt={"url": "mqtt://hub%2D1:p%40ss%3Aw%2Fd%20x@10.0.0.5:1884"})  # type: ignore[arg-type]
    assert settings.mqtt.endpoint() == ("10.0.0.5", 1884, "hub-1", "p@ss:w/d x", False)


def test_a_settings_file_is_read_and_the_environment_wins(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "shouwang.toml"
    path.write_text('community = "东园社区"\n[api]\nport = 9000\n[dispatch.ladders_min]\nred = [2, 4]\n')
    monkeypatch.setenv("SHOUWANG_API__PORT", "9100")
    settings = Settings.load(path)
    assert settings.community == "东园社区"
    assert settings.api.port == 9100
    assert settings.dispatch.waits_s(Tier.RED) == (120.0, 240.0)
    assert settings.dispatch.waits_s(Tier.GREEN) == (1800.0, 5400.0)


def test_an_anonymous_broker_on_a_public_interface_is_refused() -> None:
    with pytest.raises(UnsafeSettings, match="anonymous"):
        Settings(mqtt={"embedded_host": "0.0.0.0"})


def test_a_default_secret_is_refused() -> None:
    with pytest.raises(UnsafeSettings, match="SECRET_KEY"):
        Settings(secret_key="changeme")


def test_the_demo_may_run_with_unsafe_settings() -> None:
    assert Settings(demo=True, mqtt={"embedded_host": "0.0.0.0"}).demo


def test_a_missing_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafeSettings, match="does not exist"):
        Settings.load(tmp_path / "nope.toml")


def test_a_ladder_for_an_unknown_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="purple"):
        Settings(dispatch={"ladders_min": {"purple": [1]}})


def test_a_misspelt_setting_is_refused_not_ignored(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("SHOUWANG_DETECTOR__INACTIVTY_H", "6")
    with pytest.raises(ValidationError, match=r"detector\.inactivty_h"):
        Settings()
    monkeypatch.delenv("SHOUWANG_DETECTOR__INACTIVTY_H")
    file = tmp_path / "shouwang.toml"
    file.write_text('[dispatch]\nretry_intial_s = 2\n')
    with pytest.raises(ValidationError, match=r"dispatch\.retry_intial_s"):
        Settings.load(file)


def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOUWANG_API__TRUSTED_PROXIES", '["10.0.0.5", "10.1.0.0/16"]')
    assert Settings().api.trusted_proxies == ["10.0.0.5", "10.1.0.0/16"]
    with pytest.raises(ValueError, match="is not an IP address or network"):
        Settings(api={"trusted_proxies": ["proxy.example"]})


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(UnsafeSettings, match="SHOUWANG_API__METRICS_TOKEN"):
        Settings(api={"metrics_token": "short"})
    assert Settings(api={"metrics_token": "x" * 16}).api.metrics_token is not None


def test_each_role_logs_in_with_its_own_account_and_client_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOUWANG_MQTT__URL", "mqtts://shared:pw@broker.example.org")
    monkeypatch.setenv("SHOUWANG_MQTT__TLS_CA_FILE", "/etc/ssl/community-ca.pem")
    monkeypatch.setenv("SHOUWANG_MQTT__GATEWAY__USERNAME", "gw")
    monkeypatch.setenv("SHOUWANG_MQTT__GATEWAY__PASSWORD", "gw-pass")
    monkeypatch.setenv("SHOUWANG_MQTT__GATEWAY__CLIENT_ID", "gateway-2")
    monkeypatch.setenv("SHOUWANG_MQTT__DISPATCH__PASSWORD", "dp-pass")
    mqtt = Settings().mqtt
    gateway = mqtt.connection("gateway")
    assert (gateway.username, gateway.password, gateway.client_id) == ("gw", "gw-pass", "gateway-2")
    assert (gateway.host, gateway.port, gateway.tls) == ("broker.example.org", 8883, True)
    assert str(gateway.ca_file) == "/etc/ssl/community-ca.pem"
    dispatch = mqtt.connection("dispatch")
    assert (dispatch.username, dispatch.password, dispatch.client_id) == (
        "shouwang-dispatch", "dp-pass", "shouwang-dispatch")
    detector = mqtt.connection("detector")  # nothing of its own: the url's login
    assert (detector.username, detector.password) == ("shared", "pw")


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValueError, match="tls_key_file"):
        Settings(mqtt={"url": "mqtts://b", "gateway": {"tls_cert_file": "/c.pem"}})
