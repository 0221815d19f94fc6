"""All of Shouwang's settings: one class, nested groups, `SHOUWANG_` environment variables.

Precedence: explicit arguments, then environment (`SHOUWANG_MQTT__URL=...`), then the optional
TOML settings file, then the defaults below. Build it once in `main()` and pass it down.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shouwang.domain.errors import UnsafeSettings
from shouwang.domain.model import Tier

WEAK_SECRETS = frozenset({"", "secret", "changeme", "change-me", "shouwang", "password", "demo"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Group(BaseModel):
    """A nested group of settings: a misspelt key is an error, not a silently ignored line."""

    model_config = ConfigDict(extra="forbid")


class MqttSettings(Group):
    url: str | None = Field(
        default=None,
        description="External broker, e.g. mqtt://user:pass@10.0.0.5:1883 (mqtts:// for TLS). "
        "Unset: start the embedded broker.",
    )
    embedded_host: str = "127.0.0.1"
    embedded_port: int = Field(default=1883, ge=0, le=65535)
    embedded_password_file: Path | None = Field(
        default=None, description="amqtt password file; without it the embedded broker is anonymous"
    )
    topic_prefix: str = "shouwang/v1"
    client_id_prefix: str = "shouwang"
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    shared_group: str | None = Field(
        default=None, description="MQTT 5 shared-subscription group so several gateways split the load"
    )
    keepalive_s: int = Field(default=30, ge=5)
    max_inflight: int = Field(default=1000, ge=1, le=65535)

    @property
    def embedded(self) -> bool:
        return self.url is None

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, url: str | None) -> str | None:
        if url is not None and urlsplit(url).scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError("mqtt url must look like mqtt://host:1883 or mqtts://host:8883")
        return url

    def endpoint(self) -> tuple[str, int, str | None, str | None, bool]:
        """Host, port, username, password and TLS for the broker the services connect to."""
        if self.url is None:
            host = "127.0.0.1" if self.embedded_host in ("0.0.0.0", "::") else self.embedded_host
            return host, self.embedded_port, None, None, False
        parts = urlsplit(self.url)
        tls = parts.scheme == "mqtts"
        port = parts.port or (8883 if tls else 1883)
        return parts.hostname or "127.0.0.1", port, parts.username, parts.password, tls


class StorageSettings(Group):
    data_dir: Path = Path("shouwang-data")
    state_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the state store; default sqlite in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    readings: Literal["sqlite", "influx"] = "sqlite"
    readings_path: Path | None = None
    influx_url: str | None = None
    influx_token: SecretStr | None = None
    influx_org: str = "shouwang"
    influx_bucket: str = "readings"

    def state_database_url(self) -> str:
        return self.state_url or f"sqlite:///{self.data_dir / 'state.db'}"

    def readings_file(self) -> Path:
        return self.readings_path or self.data_dir / "readings.db"


class GatewaySettings(Group):
    batch_size: int = Field(default=1000, ge=1)
    flush_interval_s: float = Field(default=0.25, gt=0)
    max_age_days: float = Field(default=31.0, gt=0, description="older readings are refused")
    max_future_s: float = Field(default=300.0, ge=0, description="clock skew tolerated ahead")
    registry_refresh_s: float = Field(default=30.0, gt=0)


class LearnedSettings(Group):
    """The learned detector (see docs/detector.md for what each number does and why)."""

    false_alerts_per_month: float = Field(
        default=1.0, gt=0, le=30,
        description="target false inactivity alerts per household-month the thresholds aim for",
    )
    min_silence_min: float = Field(
        default=60.0, gt=0, description="absolute floor: no inactivity alert before this silence"
    )
    min_history_days: int = Field(
        default=3, ge=1, description="days of history before a home's own limits are used"
    )
    history_half_life_days: float = Field(
        default=28.0, gt=0, description="older days count half as much after this many days"
    )
    episode_gap_min: float = Field(
        default=5.0, gt=0, description="signs of life closer than this are one use (an episode)"
    )
    day_prior_days: float = Field(default=3.0, gt=0, description="strength of the population prior")
    week_prior_days: float = Field(
        default=3.0, gt=0, description="strength of the home's own hour-of-day rate for weekdays"
    )
    jitter_min: float = Field(
        default=30.0, ge=0, description="how much a home's timings wander from day to day"
    )
    day_parts_from_h: list[float] = Field(
        default=[13.0], max_length=3,
        description="clock hours where a new part of the day begins; silences starting in "
        "each part are calibrated apart (none: one threshold for the whole day)",
    )
    tail: Literal["tail", "gumbel"] = Field(
        default="tail", description="how daily maxima are extrapolated to the target rate"
    )
    threshold_prior_days: float = Field(
        default=4.0, gt=0, description="days of history worth as much as the population threshold"
    )
    default_threshold: float = Field(
        default=8.0, gt=0, description="expected uses missed before alerting, before any history"
    )
    min_threshold: float = Field(default=2.5, gt=0)
    max_threshold: float = Field(default=60.0, gt=0)
    out_share: float = Field(
        default=0.3, ge=0, le=1, description="share of the false-alert budget spent on outings"
    )
    night_share: float = Field(
        default=0.35, ge=0, le=1, description="share of the rest spent on the wake-up limit"
    )
    default_wake_limit_h: float = Field(
        default=9.0, gt=4, le=12, description="not up by this clock hour alerts, before history"
    )
    min_lie_in_min: float = Field(
        default=45.0, ge=0, description="the wake limit is at least this long after usual waking"
    )
    default_outing_h: float = Field(
        default=4.0, gt=0, description="after a door and silence: hours before alerting, new homes"
    )
    quiet_margin_h: float = Field(
        default=1.0, ge=0,
        description="safety limit: a silence at home may run this much longer than the "
        "household's longest nights (last evening sign to first morning sign)",
    )
    min_quiet_h: float = Field(
        default=12.0, gt=0, description="the safety limit on any silence is never shorter"
    )
    max_quiet_h: float = Field(
        default=16.0, gt=0, description="the safety limit on any silence is never longer"
    )
    latest_wake_h: float = Field(
        default=12.0, gt=4, le=16,
        description="nobody seen by this clock hour after a night alerts, whatever the "
        "household's habits (its own wake limit is never later)",
    )
    min_outing_h: float = Field(default=1.5, gt=0)
    dispersion: float = Field(default=2.0, gt=0, description="burstiness k of the surprise score")
    run_margin: float = Field(
        default=1.5, ge=1,
        description="water or gas may run this much longer than its longest normal run",
    )
    water_run_min_min: float = Field(default=20.0, gt=0)
    gas_run_min_min: float = Field(default=45.0, gt=0)
    building_outage_min_homes: int = Field(
        default=3, ge=2,
        description="this many homes of a building going blind together are one event",
    )
    building_outage_window_min: float = Field(default=20.0, gt=0)
    reorder_hold_s: float = Field(
        default=300.0, ge=0,
        description="signs are learned for the rhythm in time order once this much clock time "
        "has passed since they arrived (a backlog flushed sensor by sensor is sorted first)",
    )
    unusual_day_min_days: int = Field(
        default=14, ge=5, description="days of history before the daily unusual-day note"
    )
    unusual_day_per_tick: int = Field(
        default=500, ge=1, description="unusual-day checks done per tick at most (they queue)"
    )
    snapshot_every_s: float = Field(
        default=3600.0, gt=0, description="clock seconds between saving the learned model"
    )
    seed: int = 0


class DetectorSettings(Group):
    algorithm: Literal["learned", "fixed"] = Field(
        default="learned",
        description="learned: each household's own rhythm (the default); fixed: the 12-hour rules",
    )
    tick_s: float = Field(default=60.0, gt=0, description="clock seconds between assessments")
    registry_refresh_s: float = Field(
        default=60.0, gt=0,
        description="clock seconds between re-reading households and hubs (away, tier, hubs); "
        "raise it for very large registries (each re-read costs ~20 ms per 1,000 households)",
    )
    inactivity_h: float = Field(
        default=12.0, gt=0, description="the fixed rule; also the ceiling no silence runs past"
    )
    no_water_h: float = Field(default=12.0, gt=0)
    hub_offline_after_s: float = Field(
        default=2700.0, gt=0, description="hub silent this long (3 missed 15-minute reports)"
    )
    water_run_max_min: float = Field(
        default=60.0, gt=0, description="the fixed limit; the learned limit never exceeds it"
    )
    gas_run_max_min: float = Field(
        default=120.0, gt=0, description="the fixed limit; the learned limit never exceeds it"
    )
    standby_w: float = Field(
        default=150.0, ge=0,
        description="power above this is a person (fridge and router are not), until the home's "
        "own machines are learned",
    )
    switch_step_w: float = Field(
        default=100.0, gt=0,
        description="a jump in power this large is an appliance switched by hand (until the "
        "home's own machines are learned)",
    )
    min_flow_m3_per_h: float = Field(
        default=0.012, gt=0, description="register rising at least this fast counts as running"
    )
    learned: LearnedSettings = LearnedSettings()


DEFAULT_LADDERS_MIN: dict[str, list[float]] = {
    "red": [5, 15],
    "orange": [10, 30],
    "yellow": [15, 45],
    "blue": [30, 90],
    "green": [30, 90],
}


class DispatchSettings(Group):
    ladders_min: dict[str, list[float]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_LADDERS_MIN.items()},
        description="per colour: minutes unacknowledged before the grid head, then the duty leader",
    )
    poll_s: float = Field(default=0.5, gt=0, description="wall seconds between delivery rounds")
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    retry_initial_s: float = Field(default=2.0, gt=0)
    retry_max_s: float = Field(default=300.0, gt=0)
    give_up_after_h: float = Field(default=24.0, gt=0)

    @field_validator("ladders_min")
    @classmethod
    def _every_colour(cls, ladders: dict[str, list[float]]) -> dict[str, list[float]]:
        merged = {k: list(v) for k, v in DEFAULT_LADDERS_MIN.items()} | ladders
        for colour, waits in merged.items():
            Tier.parse(colour)
            if any(w <= 0 for w in waits):
                raise ValueError(f"ladder waits for {colour} must be positive minutes")
        return merged

    def waits_s(self, tier: Tier) -> tuple[float, ...]:
        return tuple(60.0 * w for w in self.ladders_min[tier.colour])


class ApiSettings(Group):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = None
    session_ttl_h: float = Field(
        default=12.0, gt=0, description="how long a password sign-in lasts (a working day)"
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="failed sign-ins per username (and 4x that per address)"
    )
    login_window_s: float = Field(
        default=300.0, gt=0, description="the window failed sign-ins are counted over (wall seconds)"
    )
    live_poll_s: float = Field(default=1.0, gt=0, description="how often the live feed looks")
    auth_cache_s: float = Field(
        default=10.0, ge=0, description="how long the API remembers a checked token (0: never); "
        "a revocation made outside this API process takes effect within this"
    )
    live_max_s: float = Field(
        default=300.0, gt=0, description="a live-feed stream ends after this; the page reconnects"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOUWANG_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    demo: bool = False
    community: str = "示范社区"
    timezone: str = "Asia/Shanghai"
    secret_key: SecretStr | None = Field(
        default=None, description="unset: generated once and kept in data_dir/secret_key"
    )
    log_level: str = "INFO"
    log_json: bool = False
    mqtt: MqttSettings = MqttSettings()
    storage: StorageSettings = StorageSettings()
    gateway: GatewaySettings = GatewaySettings()
    detector: DetectorSettings = DetectorSettings()
    dispatch: DispatchSettings = DispatchSettings()
    api: ApiSettings = ApiSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @classmethod
    def load(cls, file: Path | None = None, **overrides: Any) -> Settings:
        """Settings from the environment, an optional TOML file and explicit overrides."""
        if file is None:
            return cls(**overrides)
        if not file.is_file():
            raise UnsafeSettings(f"settings file {file} does not exist")

        class FromFile(cls):  # type: ignore[valid-type,misc]
            model_config = SettingsConfigDict(toml_file=file)

        return FromFile(**overrides)

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        problems = self.unsafe_reasons()
        if problems and not self.demo:
            raise UnsafeSettings(
                "refusing unsafe settings (use --demo only for a local trial):\n  - "
                + "\n  - ".join(problems)
            )
        return self

    def unsafe_reasons(self) -> list[str]:
        problems = []
        m = self.mqtt
        if m.embedded and not is_loopback(m.embedded_host) and m.embedded_password_file is None:
            problems.append(
                f"the embedded MQTT broker would accept anonymous clients on {m.embedded_host}; "
                "set SHOUWANG_MQTT__EMBEDDED_PASSWORD_FILE or bind it to 127.0.0.1"
            )
        if self.secret_key is not None:
            secret = self.secret_key.get_secret_value()
            if secret.lower() in WEAK_SECRETS or len(secret) < 16:
                problems.append(
                    "SHOUWANG_SECRET_KEY is a default or shorter than 16 characters; "
                    "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
        return problems
