"""The embedded MQTT broker (amqtt), run on its own thread and event loop.

It is the one-machine default, not the scale path: amqtt speaks MQTT 3.1.1 only and has no
shared subscriptions. Its listener is bound explicitly, never amqtt's 0.0.0.0 default. With a
password file it also keeps the rights `shouwang hubs provision` gives Mosquitto (`TopicRights`):
a hub publishes only under its own id, each of our roles does only what it needs. Like the
shipped Mosquitto (`max_packet_size` in deploy/mosquitto.conf) it disconnects a client that sends a
packet over `MAX_PACKET_BYTES`, before reading it: amqtt alone held any packet whole.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import AMQTTError
from amqtt.plugins.authentication import DeprecatedSHA512CryptHasher, FileAuthPlugin
from amqtt.plugins.base import BaseTopicPlugin
from amqtt.session import Session
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from shouwang.contract import topics
from shouwang.contract.passwords import MosquittoHasher
from shouwang.domain.errors import ShouwangError

log = logging.getLogger(__name__)

MAX_PACKET_BYTES = 1024 * 1024
"""The largest packet a client may send: Mosquitto's `max_packet_size` in deploy/mosquitto.conf,
four times what the gateway keeps (`gateway.max_payload_bytes`), which dead-letters the rest."""


class PortInUse(ShouwangError):
    pass


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def choose_port(host: str, wanted: int, *, what: str, setting: str, pick_free: bool) -> int:
    """`wanted` if free; otherwise a free port (saying so) or a clear error."""
    if wanted == 0:
        return free_port(host)
    if port_is_free(host, wanted):
        return wanted
    if not pick_free:
        raise PortInUse(
            f"port {wanted} on {host} is taken (is another {what} running?); "
            f"choose another with {setting}=PORT, or 0 for any free port"
        )
    port = free_port(host)
    log.warning("port.taken what=%s wanted=%s using=%s setting=%s", what, wanted, port, setting)
    return port


def matches(topic: str, topic_filter: str) -> bool:
    """Whether `topic` (or a subscription's filter, level by level) falls within `topic_filter`."""
    wanted, allowed = topic.split("/"), topic_filter.split("/")
    for k, level in enumerate(allowed):
        if level == "#":
            return True
        if k >= len(wanted) or level not in ("+", wanted[k]):
            return False
    return len(wanted) == len(allowed)


class TopicRights(BaseTopicPlugin):  # type: ignore[misc]
    """Each login's rights, as the ACL of `shouwang hubs provision` gives them to Mosquitto
    (`topics.role_rights`, `topics.login_rights`): publishing needs a "write" right, subscribing
    a "read" one. A refused publish is dropped (MQTT 3.1.1 has no way to say so) and logged."""

    @dataclass
    class Config:
        prefix: str = "shouwang/v1"
        services: dict[str, str] = field(default_factory=dict)
        """Username → the role it logs in as (gateway, detector, dispatch, simulator)."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._roles = topics.role_rights(self.config.prefix)  # once, not on every message

    async def topic_filtering(self, *, session: Session | None = None, topic: str | None = None,
                              action: Action | None = None) -> bool | None:
        if action is Action.RECEIVE:
            return True  # what a login may subscribe to was judged when it subscribed
        username = session.username if session is not None else None
        if not topic or not username:
            return False
        role = self.config.services.get(username)
        rights = self._roles[role] if role is not None else topics.login_rights(self.config.prefix, username)
        access = "write" if action is Action.PUBLISH else "read"
        allowed = any(a == access and matches(topic, f) for a, f in rights)
        if not allowed:
            log.warning("broker.refused user=%.64s action=%s topic=%.200s", username, access, topic)
        return allowed


class PasswordFile(FileAuthPlugin):  # type: ignore[misc]
    """amqtt's password file, which also takes Mosquitto's `$7$` hashes: found by a tester, the
    file `shouwang hubs provision` writes was refused by the embedded broker (every connection
    logged a traceback), and no command wrote one it accepts."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.pwd_hasher = PasswordHash((MosquittoHasher(), Argon2Hasher(), DeprecatedSHA512CryptHasher()))


class PacketTooLarge(AMQTTError):  # type: ignore[misc]
    """A client announced a packet over the limit; amqtt ends its connection."""


class _BoundedReader(StreamReaderAdapter):  # type: ignore[misc]
    """amqtt reads a packet's body in one `read(n)` of the length its fixed header announced."""

    def __init__(self, reader: asyncio.StreamReader, peer: object) -> None:
        super().__init__(reader)
        self._peer = peer

    async def read(self, n: int = -1) -> bytes:
        if n > MAX_PACKET_BYTES:
            log.warning("broker.packet_too_large peer=%s bytes=%d limit=%d: disconnected",
                        self._peer, n, MAX_PACKET_BYTES)
            raise PacketTooLarge(f"a packet of {n} bytes is over the broker's {MAX_PACKET_BYTES}")
        data: bytes = await super().read(n)
        return data


class _Broker(Broker):  # type: ignore[misc]
    async def stream_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                               listener_name: str) -> None:
        await self.external_connected(_BoundedReader(reader, writer.get_extra_info("peername")),
                                      StreamWriterAdapter(writer), listener_name)

    async def _publish_session_retained_messages(self, session: Session) -> None:
        """The messages queued for a persistent session while it was away, sent with the retain
        flag off, as MQTT 3.1.1 §3.3.1.3 asks of a message sent because of an existing
        subscription (amqtt 0.12 sets it): found by a tester, a help press queued for the gateway
        while it restarted was taken for a bridge's retained state and dropped."""
        handler = self._get_handler(session)
        if handler is None:
            return
        sending = []
        while not session.retained_messages.empty():
            queued = await session.retained_messages.get()
            sending.append(asyncio.ensure_future(
                handler.mqtt_publish(queued.topic, queued.data, queued.qos, retain=False)))
        if sending:
            await asyncio.wait(sending)


class EmbeddedBroker:
    """amqtt on 127.0.0.1 (or a chosen interface), inside this process."""

    def __init__(self, host: str, port: int, *, password_file: Path | None = None,
                 prefix: str = "shouwang/v1", services: Mapping[str, str] | None = None) -> None:
        """`services` maps each of our roles' usernames to its role (with a password file)."""
        self.host = host
        self.port = port
        self._password_file = password_file
        self._prefix = prefix
        self._services = dict(services or {})
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="mqtt-broker", daemon=True)

    def _config(self) -> dict[str, Any]:
        auth: dict[str, Any]
        if self._password_file is None:
            auth = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
        else:
            auth = {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False},
                f"{PasswordFile.__module__}.PasswordFile": {"password_file": str(self._password_file)},
                f"{TopicRights.__module__}.TopicRights": {
                    "prefix": self._prefix, "services": self._services},
            }
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": auth,
        }

    def start(self, timeout_s: float = 15.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise ShouwangError(f"embedded MQTT broker did not start within {timeout_s}s")
        if self._error is not None:
            raise ShouwangError(
                f"embedded MQTT broker could not listen on {self.host}:{self.port}: {self._error}"
            ) from self._error
        log.info("broker.started host=%s port=%s", self.host, self.port)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
            # amqtt leaves client handlers running after shutdown; end them before the loop closes
            # so no connection is left to be collected on a closed loop.
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            # amqtt also leaves the transport of a client that vanished without DISCONNECT open;
            # the selector loop keeps a registry of its transports, so close what is left.
            for transport in list(getattr(loop, "_transports", {}).values()):
                if transport is not None and not transport.is_closing():
                    transport.close()
            loop.run_until_complete(asyncio.sleep(0.05))  # let closed transports finish closing
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        broker = _Broker(self._config())
        try:
            await broker.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await broker.shutdown()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout_s)
        log.info("broker.stopped host=%s port=%s", self.host, self.port)
