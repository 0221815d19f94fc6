"""The composition root: build every part from Settings, and start and stop them in order."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import make_url

from cli import mosquitto
from detector.base import Detector
from detector.learned import LearnedDetector
from detector.rules import FixedRules
from detector.service import DetectorService
from dispatch.care import CareRounds
from dispatch.channels import MqttSender, Sender, WebhookSender
from dispatch.senders import close as close_senders
from dispatch.senders import http_senders
from dispatch.service import Dispatcher
from gateway.service import Gateway
from shouwang.broker import EmbeddedBroker, choose_port
from shouwang.clock import Clock, SystemClock
from shouwang.domain.delivery import Channel
from shouwang.domain.errors import ShouwangError
from shouwang.domain.shards import Shard
from shouwang.health import Health
from shouwang.metrics import Metrics
from shouwang.mqtt import MqttClient
from shouwang.settings import Settings
from shouwang.storage.database import private_file
from shouwang.storage.ports import ReadingStore
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore

if TYPE_CHECKING:  # the API (FastAPI, uvicorn) is imported only where one is built: a role alone
    from fastapi import FastAPI  # starts about a second sooner without it

log = logging.getLogger(__name__)


def ensure_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept beside the data (mode 0600). Roles
    started together on a fresh folder agree on one: the first to hold the folder's lock makes it
    (found by a tester: with an empty file, two roles could each make and use a different one)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.storage.data_dir / "secret_key"
    private_file(path.with_name(".secret_key.lock"))  # 0600, in a 0700 folder when new
    with open(path.with_name(".secret_key.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = path.read_text().strip() if path.exists() else ""
        if kept:
            if len(kept) < 16:
                raise ShouwangError(f"{path} holds a secret shorter than 16 characters; put a long random "
                                    "one there (python -c 'import secrets; print(secrets.token_urlsafe(32))')")
            return kept
        if path.exists():
            # Found by a tester: a disk full at the first start left the file created and empty,
            # and the next start signed every acknowledgement link and webhook with the empty key
            # (anyone could then resolve any alert). It is written whole now; an empty one is made
            # again.
            log.warning("secret_key.empty path=%s: a new secret is made (links sent before no longer work)",
                        path)
        tmp = path.with_name(f"secret_key.{os.getpid()}.tmp")
        private_file(tmp)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, secrets.token_urlsafe(32).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_text().strip()


def open_readings(settings: Settings) -> ReadingStore:
    storage = settings.storage
    if storage.readings == "influx":
        from shouwang.storage.readings_influx import InfluxReadingStore

        if not storage.influx_url or storage.influx_token is None:
            raise ShouwangError("readings=influx needs SHOUWANG_STORAGE__INFLUX_URL and _TOKEN")
        return InfluxReadingStore(url=storage.influx_url,
                                  token=storage.influx_token.get_secret_value(),
                                  org=storage.influx_org, bucket=storage.influx_bucket)
    return SqliteReadingStore(storage.readings_file())


def make_detector(settings: Settings) -> Detector:
    """The learned detector by default; the fixed 12-hour rules when configured."""
    tz = ZoneInfo(settings.timezone)
    if settings.detector.algorithm == "fixed":
        return FixedRules(settings.detector, tz)
    return LearnedDetector(settings.detector, tz)


@dataclass
class System:
    settings: Settings
    clock: Clock
    metrics: Metrics
    state: StateStore
    readings: ReadingStore
    app: FastAPI | None
    """The API over the same stores; None in a role process that serves no API."""
    broker: EmbeddedBroker | None = None
    gateway: Gateway | None = None
    detector: DetectorService | None = None
    dispatcher: Dispatcher | None = None
    dispatch_client: MqttClient | None = None
    webhooks: WebhookSender | None = None
    secret: str | None = None
    """The community's secret: signs webhook notifications (see dispatch.channels.sign)."""
    _stoppers: list = field(default_factory=list)  # type: ignore[type-arg]
    roles: list[Health] = field(default_factory=list)
    """The health of each role started here, which the API's `GET /health` reports."""

    def start_broker(self, *, pick_free_port: bool = False) -> None:
        m = self.settings.mqtt
        if not m.embedded:
            return
        port = choose_port(m.embedded_host, m.embedded_port, what="MQTT broker",
                           setting="SHOUWANG_MQTT__EMBEDDED_PORT", pick_free=pick_free_port)
        self.settings.mqtt.embedded_port = port
        roles = {user: role for role, user in mosquitto.service_usernames(self.settings).items()}
        self.broker = EmbeddedBroker(m.embedded_host, port, password_file=m.embedded_password_file,
                                     prefix=m.topic_prefix, services=roles)
        self.broker.start()
        self._stoppers.append(self.broker.stop)

    def start_services(self) -> None:
        """Gateway, detector and dispatch, each with its own broker connection."""
        self.start_gateway()
        self.start_dispatch()
        self.start_detector()

    def start_gateway(self, health: Health | None = None) -> Gateway:
        s = self.settings
        self.gateway = Gateway(mqtt=s.mqtt, settings=s.gateway, readings=self.readings,
                               state=self.state, clock=self.clock, metrics=self.metrics, health=health,
                               tz=ZoneInfo(s.timezone))
        self.gateway.start()
        self._stoppers.append(self.gateway.stop)
        self.roles.append(self.gateway.health)
        return self.gateway

    def start_dispatch(self, health: Health | None = None) -> Dispatcher:
        """Webhooks and the staff's MQTT topics; a notification counts as delivered only once the
        receiver answered 2xx or the broker acknowledged it."""
        s = self.settings
        health = health or Health("dispatch", self.metrics)
        self.roles.append(health)
        self.dispatch_client = MqttClient(s.mqtt, role="dispatch", health=health)
        self.dispatch_client.start()
        self._stoppers.append(self.dispatch_client.stop)
        if not s.mqtt.embedded and s.mqtt.protocol != "5":
            log.warning("dispatch.mqtt_311 on MQTT 3.1.1 a broker cannot say it refused a "
                        "notification (Mosquitto acknowledges a publish its ACL denies): set "
                        "SHOUWANG_MQTT__PROTOCOL=5 so a refusal is a failed delivery")
        senders: dict[Channel, Sender] = http_senders(s.dispatch, secret=self.secret)
        self._stoppers.append(lambda: close_senders(senders))
        self.webhooks = cast(WebhookSender, senders[Channel.WEBHOOK])
        senders[Channel.MQTT] = MqttSender(self.dispatch_client, prefix=s.mqtt.topic_prefix)
        self.dispatcher = Dispatcher(settings=s.dispatch, state=self.state, clock=self.clock,
                                     metrics=self.metrics, senders=senders,
                                     api_url=s.api.public_url, link_secret=self.secret,
                                     tz=ZoneInfo(s.timezone), health=health)
        self.dispatcher.start()
        self._stoppers.append(self.dispatcher.stop)
        care = CareRounds(settings=s.care, dispatch=s.dispatch, state=self.state, clock=self.clock,
                          senders=senders, tz=ZoneInfo(s.timezone), api_url=s.api.public_url)
        care.start()
        self._stoppers.append(care.stop)
        return self.dispatcher

    def start_detector(self, health: Health | None = None, shard: Shard | None = None) -> DetectorService:
        s = self.settings
        self.detector = DetectorService(
            mqtt=s.mqtt, settings=s.detector, gateway=s.gateway, detector=make_detector(s),
            readings=self.readings, state=self.state, clock=self.clock, metrics=self.metrics,
            tz=ZoneInfo(s.timezone), on_alert=self.dispatcher.wake if self.dispatcher else None,
            snapshot_dir=s.storage.data_dir, shard=shard, health=health,
        )
        self.detector.start()
        self._stoppers.append(self.detector.stop)
        self.roles.append(self.detector.health)
        return self.detector

    def add_stopper(self, stop: object) -> None:
        self._stoppers.append(stop)

    def stop(self) -> None:
        """Stop in reverse order of starting; a failure to stop one part does not stop the rest."""
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception:
                log.exception("system.stop_failed part=%r", stopper)
        self.readings.close()
        self.state.close()


def build(settings: Settings, *, clock: Clock | None = None, with_api: bool = True) -> System:
    """Everything, built but not started (`shouwang run`); `with_api=False` for one role alone
    (`shouwang gateway`, `detector`, `dispatch`), which starts only its own part."""
    secret = ensure_secret(settings)
    clock = clock or SystemClock()
    metrics = Metrics()
    state = open_community_state(settings)
    readings = open_readings(settings)
    roles: list[Health] = []
    app = _api(settings, state, readings, clock, metrics, secret, roles) if with_api else None
    return System(settings=settings, clock=clock, metrics=metrics, state=state,
                  readings=readings, app=app, secret=secret, roles=roles)


def open_community_state(settings: Settings) -> StateStore:
    """The state store, refused when it is empty (or missing) beside the traces of a community:
    found by a tester, a state.db deleted, or left empty by a disk fault or a failed restore, was
    made afresh in silence; every open alert, household, consent and staff member was gone, the
    system said it was running, and every hub's readings from then on became `unknown_hub` dead
    letters. A SQLite store is judged before it is opened, so a refusal leaves no empty file."""
    url = settings.storage.state_database_url()
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file() or path.stat().st_size == 0:
            _refuse_beside_traces(settings)
    state = StateStore.open(url)
    if state.registry.is_empty():
        try:
            _refuse_beside_traces(settings)
        except ShouwangError:
            state.close()
            raise
    return state


def _refuse_beside_traces(settings: Settings) -> None:
    folder = settings.storage.data_dir
    traces = [str(p) for p in sorted(folder.glob("detector-model*.npz"))]
    readings = settings.storage.readings_file()
    if settings.storage.readings == "sqlite" and readings.is_file() and readings.stat().st_size:
        try:
            with contextlib.closing(sqlite3.connect(f"file:{readings}?mode=ro", uri=True, timeout=5)) as db:
                if db.execute("SELECT 1 FROM readings LIMIT 1").fetchone():
                    traces.append(f"{readings} (readings)")
        except sqlite3.Error:
            traces.append(f"{readings}")
    if traces:
        raise ShouwangError(
            f"the state store ({make_url(settings.storage.state_database_url()).render_as_string()}) is "
            f"empty, but this community's data is here: {', '.join(traces)}. Restore the state store "
            f"from its backup (for SQLite, {folder}/state.db), or point SHOUWANG_STORAGE__STATE_URL at "
            f"it; to start afresh on purpose, move {folder} away first")


def _api(settings: Settings, state: StateStore, readings: ReadingStore, clock: Clock, metrics: Metrics,
         secret: str, roles: list[Health] | None = None) -> FastAPI:
    from api.app import create_app
    from api.context import ApiContext

    return create_app(ApiContext(settings=settings, state=state, readings=readings, clock=clock,
                                 metrics=metrics, secret=secret, roles=roles if roles is not None else []))


def build_api(settings: Settings) -> FastAPI:
    """The API alone over the configured stores, on the system clock (`shouwang api`)."""
    return _api(settings, open_community_state(settings), open_readings(settings),
                SystemClock(), Metrics(), ensure_secret(settings))


def proxy_options(trusted_proxies: Sequence[str]) -> dict[str, Any]:
    """uvicorn's X-Forwarded-For handling: believed only from the configured proxies.

    uvicorn's own default believes it from 127.0.0.1, so any local process (or a reverse proxy
    that passes the header through) could pick the client address the sign-in limiter sees.
    """
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted_proxies)}


class ApiServer:
    """uvicorn on a thread, for `run` (beside the other services) and for end-to-end tests."""

    def __init__(self, app: FastAPI, host: str, port: int, *,
                 trusted_proxies: Sequence[str] = ()) -> None:
        self.host, self.port = host, port
        # Open live feeds (server-sent events) never finish by themselves: on stop, wait a
        # moment for them, then close them, rather than leave their connections open.
        import uvicorn

        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     lifespan="off", timeout_graceful_shutdown=2,
                                                     **proxy_options(trusted_proxies)))
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> None:
        self._thread.start()
        waited = threading.Event()
        for _ in range(int(timeout_s / 0.05)):
            if self._server.started:
                return
            waited.wait(0.05)
        raise ShouwangError(f"the API did not start on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        if self._thread.is_alive():
            log.warning("api.stop_slow: connections still open after 10 s; closing them")
            self._server.force_exit = True
            self._thread.join(5)
