"""All of Shouwang's settings: one class, nested groups, `SHOUWANG_` environment variables.

Precedence: explicit arguments, then environment (`SHOUWANG_MQTT__URL=...`), then the optional
TOML settings file, then the defaults below. Build it once in `main()` and pass it down.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shouwang.domain.alerts import AlertKind
from shouwang.domain.errors import UnsafeSettings
from shouwang.domain.model import Tier

DEMO_COMMUNITY = "示范社区"
"""The demo's name ("demo community"), and so no real community's."""

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


ROLES = ("gateway", "detector", "dispatch", "simulator")
"""Shouwang's own MQTT clients, each with a login and client id of its own."""


class MqttRole(Group):
    """One of Shouwang's own MQTT clients: its login, client id and client certificate."""

    username: str | None = Field(
        default=None, description="its broker login; unset: shouwang-ROLE (e.g. shouwang-gateway) when "
        "a password is set, else the login in the url")
    password: SecretStr | None = Field(default=None, description="its broker password")
    client_id: str | None = Field(
        default=None, description="unset: CLIENT_ID_PREFIX-ROLE, e.g. shouwang-gateway; each gateway "
        "of a shared subscription needs its own")
    tls_cert_file: Path | None = Field(
        default=None, description="its own client certificate (PEM), where the broker asks for one; "
        "unset: tls_cert_file of the mqtt group")
    tls_key_file: Path | None = Field(default=None, description="the key of its client certificate (PEM)")

    @model_validator(mode="after")
    def _complete(self) -> MqttRole:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("a role's client certificate needs both tls_cert_file and tls_key_file")
        return self


@dataclass(frozen=True)
class Connection:
    """Where and as whom one client connects (see `MqttSettings.connection`)."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class MqttSettings(Group):
    url: str | None = Field(
        default=None,
        description="External broker, e.g. mqtt://user:pass@10.0.0.5:1883 (mqtts:// for TLS). "
        "Unset: start the embedded broker.",
    )
    embedded_host: str = Field(
        default="127.0.0.1", description="where the embedded broker listens; another interface "
        "needs embedded_password_file"
    )
    embedded_port: int = Field(default=1883, ge=0, le=65535, description="the embedded broker's port")
    embedded_password_file: Path | None = Field(
        default=None, description="password file (the one `shouwang hubs provision` writes, or amqtt's "
        "argon2 format); without it the embedded broker is anonymous. With "
        "it, the broker also keeps the rights `shouwang hubs provision` writes for Mosquitto: a hub (its "
        "username is its hub id) publishes only under its own id, a staff member's app (staff-<staff id>) "
        "reads only their alerts, each role only what it needs"
    )
    topic_prefix: str = Field(default="shouwang/v1", description="what hubs publish under")
    client_id_prefix: str = Field(
        default="shouwang", description="Shouwang's own MQTT client ids start with this"
    )
    protocol: Literal["3.1.1", "5"] = Field(
        default="3.1.1", description="MQTT version Shouwang speaks; 5 for shared subscriptions"
    )
    shared_group: str | None = Field(
        default=None, description="MQTT 5 shared-subscription group so several gateways split the load"
    )
    keepalive_s: int = Field(default=30, ge=5, description="MQTT keep-alive in seconds")
    max_inflight: int = Field(
        default=1000, ge=1, le=65535, description="QoS 1 messages a publisher has unacknowledged at most"
    )
    tls_ca_file: Path | None = Field(
        default=None, description="CA certificate(s) (PEM) that signed the broker's, for mqtts://; "
        "unset: the system's trusted CAs")
    tls_cert_file: Path | None = Field(
        default=None, description="client certificate (PEM) every role presents, where the broker "
        "asks for one (a role's own tls_cert_file wins)")
    tls_key_file: Path | None = Field(default=None, description="the key of tls_cert_file (PEM)")
    gateway: MqttRole = MqttRole()
    detector: MqttRole = MqttRole()
    dispatch: MqttRole = MqttRole()
    simulator: MqttRole = MqttRole()

    @property
    def embedded(self) -> bool:
        return self.url is None

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, url: str | None) -> str | None:
        if url is not None and urlsplit(url).scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError("mqtt url must look like mqtt://host:1883 or mqtts://host:8883")
        return url

    @model_validator(mode="after")
    def _tls_complete(self) -> MqttSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("a client certificate needs both mqtt.tls_cert_file and mqtt.tls_key_file")
        files = [name for name in ("tls_ca_file", "tls_cert_file", "tls_key_file") if getattr(self, name)]
        files += [f"{role}.tls_cert_file" for role in ROLES if getattr(self, role).tls_cert_file]
        if files and (self.url is None or urlsplit(self.url).scheme != "mqtts"):
            # found by a tester: the files were dropped and every role spoke in plain text,
            # passwords included, to whatever listened on 8883
            plain = ("mqtt.url is unset: the embedded broker speaks plain MQTT" if self.url is None else
                     f"the url {urlsplit(self.url).scheme}://… is plain MQTT")
            raise ValueError(f"mqtt.{', mqtt.'.join(files)} {'is' if len(files) == 1 else 'are'} set but "
                             f"{plain}: write mqtts://host:8883 to use TLS (or unset the files)")
        return self

    def role(self, name: str) -> MqttRole:
        if name not in ROLES:
            raise ValueError(f"no MQTT role {name!r}; one of {', '.join(ROLES)}")
        role: MqttRole = getattr(self, name)
        return role

    def connection(self, role: str | None = None, *, client_id: str | None = None) -> Connection:
        """How `role` (or an ad hoc client, with its `client_id`) connects: the role's own login
        and certificate where set, else the url's login and the group's certificate."""
        host, port, username, password, tls = self.endpoint()
        own = self.role(role) if role is not None else MqttRole()
        if own.username or own.password is not None:
            username = own.username or f"shouwang-{role}"
            password = own.password.get_secret_value() if own.password is not None else None
        cert, key = (own.tls_cert_file, own.tls_key_file) if own.tls_cert_file else (
            self.tls_cert_file, self.tls_key_file)
        name = client_id or own.client_id or f"{self.client_id_prefix}-{role or 'client'}"
        return Connection(host=host, port=port, client_id=name, username=username, password=password,
                          tls=tls, ca_file=self.tls_ca_file if tls else None,
                          cert_file=cert if tls else None, key_file=key if tls else None)

    def endpoint(self) -> tuple[str, int, str | None, str | None, bool]:
        """Host, port, username, password and TLS for the broker the services connect to."""
        if self.url is None:
            host = "127.0.0.1" if self.embedded_host in ("0.0.0.0", "::") else self.embedded_host
            return host, self.embedded_port, None, None, False
        parts = urlsplit(self.url)
        tls = parts.scheme == "mqtts"
        port = parts.port or (8883 if tls else 1883)
        # percent-decoded, as a URL carries a password with @, : or / in it (found by a tester:
        # %20 went to the broker as it was written, and the login was refused)
        username = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        return parts.hostname or "127.0.0.1", port, username, password, tls


class StorageSettings(Group):
    data_dir: Path = Field(
        default=Path("shouwang-data"), description="SQLite files for readings and state, and the secret key"
    )
    state_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the state store; default sqlite in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    readings: Literal["sqlite", "influx"] = Field(
        default="sqlite", description="where every reading is kept; influx needs the influx_* settings"
    )
    readings_path: Path | None = Field(default=None, description="unset: readings.db in data_dir")
    influx_url: str | None = Field(default=None, description="InfluxDB 2, e.g. http://10.0.0.6:8086")
    influx_token: SecretStr | None = Field(default=None, description="an InfluxDB 2 token that may write the bucket")
    influx_org: str = Field(default="shouwang", description="the InfluxDB 2 organisation")
    influx_bucket: str = Field(default="readings", description="the InfluxDB 2 bucket for readings")
    influx_raw_retention_days: float = Field(
        default=180.0, ge=0, description="how long InfluxDB keeps raw readings (0: for ever); at least the "
        "detector's four weeks. Applied by `shouwang db influx-setup`")
    influx_hourly_bucket: str = Field(
        default="readings_hourly", description="the InfluxDB 2 bucket for hourly signs of life (downsampled)")
    influx_hourly_retention_days: float = Field(
        default=0.0, ge=0, description="how long InfluxDB keeps hourly signs of life (0: for ever)")

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
    queue_size: int = Field(
        default=5000, ge=1, description="messages held in memory before the store; beyond it the "
        "broker keeps the backlog (they are acknowledged only once committed)")
    idle_flush_s: float = Field(
        default=0.001, gt=0, description="a batch is written once no message has come for this long "
        "(a broker stops sending while max_inflight_messages wait unacknowledged: Mosquitto's 20 by default)")
    max_payload_bytes: int = Field(default=262_144, ge=1024, description="larger messages are refused unread")
    max_nesting: int = Field(default=8, ge=2, description="deeper nested JSON is refused unread")
    max_water_m3_per_h: float = Field(default=10.0, gt=0, description="a faster rising water register is implausible")
    max_gas_m3_per_h: float = Field(default=16.0, gt=0, description="a faster rising gas register is implausible")
    max_electricity_kw: float = Field(
        default=60.0, gt=0, description="a faster rising kWh register, or more power_w, is implausible")
    max_register: float = Field(default=1e7, gt=0, description="a larger register value is implausible")
    dead_letters_per_hub: int = Field(default=1000, ge=1, description="oldest dropped beyond this, per hub")
    dead_letters_total: int = Field(default=100_000, ge=1, description="oldest dropped beyond this, in all")
    rejection_log_interval_s: float = Field(
        default=60.0, ge=0, description="at most one log line per hub and reason this often")
    quiet_alarm_s: float = Field(
        default=1800.0, gt=0, description="nothing heard from any hub for this long while hubs are "
        "registered is a problem on the gateway's health endpoint (hubs report every 15 minutes; "
        "Mosquitto's ACL file grants a subscription it will deliver nothing to)")


class LearnedSettings(Group):
    """The learned detector (see docs/detector.md for what each number does and why)."""

    false_alerts_per_month: float = Field(
        default=0.5, gt=0, le=30,
        description="the community's alert budget: false inactivity alerts per household-month "
        "it can bear; each household's limits are calibrated to spend it",
    )
    min_silence_min: float = Field(
        default=60.0, gt=0, description="absolute floor: no inactivity alert before this silence"
    )
    min_history_days: int = Field(
        default=3, ge=1, description="days of history before a home's own limits are used"
    )
    dense_motion_per_h: float = Field(
        default=1.0, gt=0,
        description="motion signs per hour of a home's median day that make it dense: its "
        "silences at home also alert past its own longest quiet spells (docs/detector.md)",
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
    tail: Literal["predictive", "tail", "gumbel"] = Field(
        default="predictive",
        description="how daily maxima are extrapolated to the budget: predictive (an exponential "
        "tail whose scale is uncertain: few days of history, higher limits), tail (the same, "
        "its scale taken as known), gumbel",
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
    quiet_share: float = Field(
        default=0.25, gt=0, lt=1,
        description="share of the night's budget spent on the safety limit (the rest: wake limit)",
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
    lit_w: float = Field(
        default=20.0, ge=0,
        description="an evening silence whose power stays this far above the household's night "
        "past its late bedtime limit alerts (lights left on; 0: never)",
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
    max_outing_h: float = Field(
        default=24.0, gt=0,
        description="in a home whose motion sensors see the elder come back in: after a door "
        "and silence, the outing limit is never longer (elsewhere the inactivity ceiling is)",
    )
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
    status_flush_s: float = Field(
        default=2.0, gt=0, description="wall seconds at most between a sign of life arriving and the "
        "household's last sign of life being saved (what cards and `households list` show)")
    registry_refresh_s: float = Field(
        default=60.0, gt=0,
        description="clock seconds between re-reading households and hubs (away, tier, hubs); "
        "raise it for very large registries (each re-read costs ~20 ms per 1,000 households)",
    )
    shard_check_s: float = Field(
        default=30.0, gt=0,
        description="wall seconds between a detector saying it runs its shard and checking that the "
        "detectors running now watch every household once (judged once every one had 3.5 times this "
        "to say so)",
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


LADDER_ROLES = ("grid_member", "caseworker", "grid_head", "duty_leader", "family")
"""Who a ladder step may name, besides a named staff member (`staff:USERNAME`)."""


class LadderStep(Group):
    """One step of a ladder: who is told, after how long unacknowledged."""

    after_min: float = Field(default=0.0, ge=0, description="minutes after the previous step")
    who: list[str] = Field(min_length=1, description="roles, `staff:USERNAME` or `family`")

    @field_validator("who")
    @classmethod
    def _known_roles(cls, who: list[str]) -> list[str]:
        for name in who:
            if name in LADDER_ROLES or (name.startswith("staff:") and len(name) > len("staff:")):
                continue
            raise ValueError(f"unknown recipient {name!r}; use one of {', '.join(LADDER_ROLES)} "
                             "or staff:USERNAME")
        return who


class LadderSettings(Group):
    """A whole ladder: its steps in order, and how often the current step is reminded."""

    steps: list[LadderStep] = Field(min_length=1)
    remind_every_min: float | None = Field(default=None, gt=0)

    @field_validator("steps")
    @classmethod
    def _first_at_once(cls, steps: list[LadderStep]) -> list[LadderStep]:
        if steps[0].after_min != 0:
            raise ValueError("the first step is told at once: leave out its after_min (or set 0)")
        return steps


def ladder_key(key: str) -> tuple[Tier | None, AlertKind | None]:
    """A ladder's key: a colour ("red"), an alert kind ("help"), or both ("red.help")."""
    colour, _, kind = key.partition(".")
    kinds = {k.value for k in AlertKind}
    if not kind and colour in kinds:
        return None, AlertKind(colour)
    try:
        tier = Tier.parse(colour)
    except ValueError:
        raise ValueError(f"ladder {key!r}: {colour!r} is neither a colour ("
                         f"{', '.join(t.colour for t in Tier)}) nor an alert kind ({', '.join(sorted(kinds))})"
                         ) from None
    if kind and kind not in kinds:
        raise ValueError(f"ladder {key!r}: unknown alert kind {kind!r}; use one of {', '.join(sorted(kinds))}")
    return tier, AlertKind(kind) if kind else None


class DispatchSettings(Group):
    ladders_min: dict[str, list[float]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_LADDERS_MIN.items()},
        description="per colour: minutes unacknowledged before the grid head, then the duty leader",
    )
    ladders: dict[str, LadderSettings] = Field(
        default_factory=dict,
        description="ladders as data, replacing the default for a colour (`red`), an alert kind "
        "(`help`) or both (`red.help`); see README, Ladders, rosters and family",
    )
    poll_s: float = Field(default=0.5, gt=0, description="wall seconds between delivery rounds")
    min_round_gap_s: float = Field(
        default=0.05, ge=0, le=5, description="wall seconds at least between the starts of two delivery "
        "rounds, however often finished sends and new alerts wake dispatch")
    webhook_timeout_s: float = Field(
        default=5.0, gt=0, description="seconds a webhook may take to answer (read/write timeout)"
    )
    webhook_connect_timeout_s: float = Field(
        default=3.0, gt=0, description="seconds to connect to a webhook receiver"
    )
    delivery_workers: int = Field(
        default=32, ge=1, le=1024, description="notifications sent at once (a bounded pool)"
    )
    in_flight_per_receiver: int = Field(
        default=4, ge=1, description="at most this many at once to one webhook host:port (or the "
        "MQTT broker), so a hanging receiver holds a few workers, never the pool",
    )
    retry_initial_s: float = Field(default=2.0, gt=0)
    retry_max_s: float = Field(default=300.0, gt=0)
    give_up_after_h: float = Field(default=24.0, gt=0)
    ack_link_ttl_h: float = Field(
        default=24.0, gt=0, le=168,
        description="how long the one-time acknowledgement link in a notification works")
    move_on_after_attempts: int = Field(
        default=3, ge=1, le=100,
        description="failed attempts after which a notification counts as not getting through: when "
        "every one of a rung's has failed this often (or for good), the ladder climbs at once "
        "instead of waiting out the rung (the failed ones are still retried)")
    sms_gateway_url: str | None = Field(
        default=None, description="the SMS or voice gateway the community contracts, reached by a "
        "signed JSON POST (like the webhook) for every `sms:` channel; unset, sms channels fail")
    sms_template: dict[str, Any] = Field(
        default_factory=lambda: {"to": "{phone}", "text": "{text}"},
        description="the JSON the gateway expects; in its strings {phone}, {text}, {name} and "
        "{alert_id} are replaced")
    sms_answer_code_field: str | None = Field(
        default=None, description="a field of the gateway's JSON answer that says whether it took "
        "the message (e.g. code); unset, any HTTP 2xx is taken")
    sms_answer_ok: str = Field(default="0", description="that field's value when the message was taken")

    @field_validator("ladders_min")
    @classmethod
    def _every_colour(cls, ladders: dict[str, list[float]]) -> dict[str, list[float]]:
        merged = {k: list(v) for k, v in DEFAULT_LADDERS_MIN.items()} | ladders
        for colour, waits in merged.items():
            Tier.parse(colour)
            if any(w <= 0 for w in waits):
                raise ValueError(f"ladder waits for {colour} must be positive minutes")
        return merged

    @field_validator("ladders")
    @classmethod
    def _ladder_keys(cls, ladders: dict[str, LadderSettings]) -> dict[str, LadderSettings]:
        for key in ladders:
            ladder_key(key)
        return ladders

    def waits_s(self, tier: Tier) -> tuple[float, ...]:
        return tuple(60.0 * w for w in self.ladders_min[tier.colour])


DEFAULT_VISIT_EVERY_DAYS: dict[str, float] = {
    "red": 1, "orange": 7, "yellow": 15, "blue": 30, "green": 91,
}


class CareSettings(Group):
    """The five visits (五色五访), colour suggestions and the 369 response limits."""

    visit_every_days: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_VISIT_EVERY_DAYS),
        description="五色五访: per colour, days between visits by the person who claimed the "
        "household (red daily, orange weekly, yellow twice a month, blue monthly, green quarterly)",
    )
    check_every_s: float = Field(
        default=60.0, gt=0, description="wall seconds between looks for overdue visits and colour "
        "suggestions (each overdue period is reminded once)")
    suggest_after_alerts: int = Field(
        default=3, ge=1, description="genuine alerts (not a false alarm, device fault or away) "
        "within suggest_window_days before dispatch suggests a hotter colour to the caseworker")
    suggest_window_days: float = Field(default=30.0, gt=0, description="see suggest_after_alerts")
    respond_within_h: float = Field(
        default=3.0, gt=0, description="369: an alert acknowledged within this many hours counts "
        "as responded in time")
    handle_within_h: float = Field(
        default=6.0, gt=0, description="369: a visit (or the resolution) within this many hours "
        "of the alert counts as handled in time")
    settle_within_h: float = Field(
        default=9.0, gt=0, description="369: resolved within this many hours counts as settled in time")

    @field_validator("visit_every_days")
    @classmethod
    def _every_colour_visited(cls, days: dict[str, float]) -> dict[str, float]:
        merged = dict(DEFAULT_VISIT_EVERY_DAYS) | {Tier.parse(c).colour: d for c, d in days.items()}
        for colour, every in merged.items():
            if every <= 0:
                raise ValueError(f"visits for {colour} must be a positive number of days apart")
        return merged

    def visit_every_s(self, tier: Tier) -> float:
        return 86400.0 * self.visit_every_days[tier.colour]


class ApiSettings(Group):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = None
    session_ttl_h: float = Field(
        default=12.0, gt=0, description="how long a password sign-in lasts (a working day)"
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="failed sign-ins for one username from one address (and 4x "
        "that from one address for any usernames) before each further try must wait"
    )
    login_window_s: float = Field(
        default=3600.0, gt=0, description="failures are forgotten after this long without another "
        "try (wall seconds)"
    )
    login_delay_s: float = Field(
        default=1.0, gt=0, description="the first wait after the free failures; it doubles with "
        "each further failure"
    )
    login_max_delay_s: float = Field(
        default=900.0, gt=0, description="the longest wait between sign-in tries"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed (default none: the connecting address is the client)"
    )
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="largest request body; larger ones answer 413"
    )
    max_import_bytes: int = Field(
        default=16 << 20, ge=1024, description="largest body for the CSV imports (/imports/...)"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="the bearer token /metrics requires; unset: /metrics is off"
    )
    live_poll_s: float = Field(default=1.0, gt=0, description="how often the live feed looks")
    auth_cache_s: float = Field(
        default=10.0, ge=0, description="how long the API remembers who holds a token (0: never); "
        "a grid change made outside this process is seen within this (revocation, retirement "
        "and role changes count at once)"
    )
    live_max_s: float = Field(
        default=300.0, gt=0, description="a live-feed stream ends after this; the page reconnects"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"trusted proxy {proxy!r} is not an IP address or network "
                                 "(e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return value


class HealthSettings(Group):
    """The small health endpoint of `shouwang gateway`, `detector` and `dispatch` (the API has its own)."""

    host: str = Field(default="127.0.0.1", description="where a role's health endpoint listens "
                      "(GET /health: 200 or 503 with its problems; GET /metrics: Prometheus)")
    port: int = Field(default=8081, ge=0, le=65535,
                      description="its port (0: any free one, printed at start); one per process on a host")


NOT_SETTINGS = ("SHOUWANG_TEST_", "SHOUWANG_BENCH_", "SHOUWANG_API_SETTINGS_FILE", "SHOUWANG_SCREENSHOTS")
"""Variables of ours that are no setting: the tests', the benchmarks', and the API's workers'."""


def unknown_environment(fields: set[str]) -> list[str]:
    """SHOUWANG_ variables that name no top-level setting (nested ones pydantic refuses itself)."""
    return sorted(name for name in os.environ
                  if name.startswith("SHOUWANG_") and not name.startswith(NOT_SETTINGS)
                  and name.removeprefix("SHOUWANG_").split("__")[0].lower() not in fields)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOUWANG_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    demo: bool = Field(default=False, description="set by `shouwang run --demo`; never in a real community")
    community: str = Field(default=DEMO_COMMUNITY, description="the community's name, in the page's header; "
                           "`shouwang run` outside the demo refuses to start without one")
    timezone: str = Field(default="Asia/Shanghai", description="how times are written in explanations and on the page")
    secret_key: SecretStr | None = Field(
        default=None, description="unset: generated once and kept in data_dir/secret_key"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_json: bool = Field(default=False, description="one JSON object a log line, for a log collector")
    mqtt: MqttSettings = MqttSettings()
    storage: StorageSettings = StorageSettings()
    gateway: GatewaySettings = GatewaySettings()
    detector: DetectorSettings = DetectorSettings()
    dispatch: DispatchSettings = DispatchSettings()
    care: CareSettings = CareSettings()
    api: ApiSettings = ApiSettings()
    health: HealthSettings = HealthSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}; use a name like Asia/Shanghai") from None
        return name

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

        try:
            settings: Settings = FromFile(**overrides)
        except tomllib.TOMLDecodeError as exc:
            raise UnsafeSettings(f"settings file {file} is not valid TOML: {exc}") from None
        # The data lives in the community's folder, wherever the command is run from (found by a
        # tester: `--settings /srv/community/shouwang.toml` from another folder made a new, empty
        # community in the current folder, and "staff member not found").
        folder, storage = file.resolve().parent, settings.storage
        moved = {name: folder / path for name, path in (("data_dir", storage.data_dir),
                                                       ("readings_path", storage.readings_path))
                 if path is not None and not path.is_absolute()}
        return settings.model_copy(update={"storage": storage.model_copy(update=moved)}) if moved else settings

    @model_validator(mode="after")
    def _refuse_unknown_environment(self) -> Settings:
        """A misspelt top-level variable (SHOUWANG_COMMUNTY) was silently ignored, where a nested
        one is refused (found by a tester): each SHOUWANG_ variable must name a setting."""
        unknown = unknown_environment(set(type(self).model_fields))
        if unknown:
            raise ValueError(f"{', '.join(unknown)} in the environment "
                             f"{'is not a setting' if len(unknown) == 1 else 'are not settings'}: check "
                             "the spelling against README.md's table (nested ones take two underscores, "
                             "SHOUWANG_API__PORT)")
        return self

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
        token = self.api.metrics_token
        if token is not None and len(token.get_secret_value()) < 16:
            problems.append("SHOUWANG_API__METRICS_TOKEN is shorter than 16 characters; generate one "
                            "with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return problems
