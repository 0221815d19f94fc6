"""The one way Shouwang talks MQTT: paho-mqtt (v2 callbacks) behind a small adapter.

Callbacks do almost nothing: they turn a paho message into our `Message` and hand it on.
Publishing keeps a bounded window of unacknowledged QoS 1 messages and checks every return
code, because paho refuses (and a careless caller loses) messages past 65,535 in flight.

With `manual_ack`, a received QoS 1 message is acknowledged to the broker only when the receiver
calls `ack(message)` (after committing it), not on return from the handler: a crash before then
leaves it with the broker, which delivers it again.

A broker that refuses us is a problem reported to the role's `Health` (its health endpoint, log
and metrics), never a silent success: a refused connection (CONNACK), subscription (a SUBACK
failure code) or publish (an MQTT 5 PUBACK reason code; `publish_confirmed` raises it to the
caller). MQTT 3.1.1 cannot say a publish was refused (Mosquitto answers a denied one with an
ordinary PUBACK), so a role that must know speaks MQTT 5 (`SHOUWANG_MQTT__PROTOCOL=5`).
"""

from __future__ import annotations

import itertools
import logging
import math
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from shouwang.domain.errors import InvalidInput, ShouwangError
from shouwang.health import Health
from shouwang.settings import MqttSettings

log = logging.getLogger(__name__)


class BrokerUnavailable(ShouwangError):
    pass


class PublishFailed(ShouwangError):
    pass


class PublishRefused(PublishFailed):
    """The broker answered the publish with a failure reason code (MQTT 5): it was not delivered."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int = 0
    """The broker's packet id, what `MqttClient.ack` acknowledges (QoS 1 and 2)."""
    connection: int = 0
    """Which of the client's connections brought it: an ack is only valid on that one."""
    received_at: float | None = None
    """Clock time it arrived, when the receiver stamps it: the time of a bridged device's message
    that carries none."""


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


MessageHandler = Callable[[Message], None]
_PUBACK = struct.Struct("!BBH")  # fixed header, remaining length 2, packet id: as paho packs it
_CONNECTIONS = itertools.count(1)
"""Numbers each connection of every client in the process."""
CLASH_WINDOW_S = 10.0
"""A drop this soon after connecting, three times within six such windows, is a client id clash."""
CLASH_CLEAR_S = 120.0
"""The clash is taken for over when no such drop came for this long."""


class _ReadAheadClient(paho.Client):
    """paho reading its socket in chunks: it asks for one byte (the packet type), one byte per
    length byte, then the rest, each a `recv` of its own, and returns to `select` after every
    packet, so a busy gateway made four system calls per message it received. Here one `recv`
    takes whatever the socket holds (up to `CHUNK`), the packets in it are handed out from memory
    and `loop_read` goes on while whole ones are buffered. The bytes and their order are the
    same; at most one `recv` per `loop_read`, so writing (our acks) is never starved."""

    CHUNK = 1 << 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_sock: object = None
        self._read_buffer = b""
        self._read_pos = 0
        self._recvs_left = 1
        self._filtered = False

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._sock is not self._read_sock:  # a new connection: nothing of the old one is kept
            self._read_sock, self._read_buffer, self._read_pos = self._sock, b"", 0
        start = self._read_pos
        if start >= len(self._read_buffer):
            if self._recvs_left <= 0:
                raise BlockingIOError  # paho keeps the packet read so far; select() comes back at once
            self._recvs_left -= 1
            data = super()._sock_recv(self.CHUNK)
            if len(data) <= bufsize:  # b"" (the broker closed the connection) included
                return data
            self._read_buffer, start = data, 0
        self._read_pos = start + bufsize
        return self._read_buffer[start:start + bufsize]

    def _buffered(self) -> bool:
        return self._sock is self._read_sock and self._read_pos < len(self._read_buffer)

    def message_callback_add(self, sub: str, callback: Any) -> None:
        self._filtered = True
        super().message_callback_add(sub, callback)

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        """Straight to `on_message` while no per-topic callback was added (MqttClient adds none):
        paho otherwise walks its tree of them, under a lock, for every message."""
        on_message = self.on_message
        if self._filtered or on_message is None:
            super()._handle_on_message(message)
            return
        with self._in_callback_mutex:
            try:
                on_message(self, self._userdata, message)
            except Exception as err:
                self._easy_log(paho.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                if not self.suppress_exceptions:
                    raise

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        self._recvs_left = 1
        rc = super().loop_read(max_packets)
        while rc is MQTTErrorCode.MQTT_ERR_SUCCESS and self._buffered():
            rc = super().loop_read(max_packets)
        return rc


def _filter_of(subscription: str) -> str:
    """The topic filter inside a subscription (`$share/group/filter` → `filter`)."""
    if subscription.startswith("$share/"):
        return subscription.split("/", 2)[2]
    return subscription


def _matcher(filters: Sequence[str]) -> Callable[[str], bool]:
    """Whether a topic matches any of `filters`. Filters whose only wildcard is a final `#` (the
    gateway's and detector's) are a prefix test, which a busy gateway makes per message; others
    go through paho's general matcher."""
    if all("+" not in f and "#" not in f[:-1] and f.endswith("/#") for f in filters):
        prefixes = tuple(f[:-1] for f in filters)
        parents = frozenset(f[:-2] for f in filters)  # `a/#` also matches `a` itself
        return lambda topic: topic.startswith(prefixes) or topic in parents
    return lambda topic: any(paho.topic_matches_sub(f, topic) for f in filters)


class MqttClient:
    """A connected paho client that re-subscribes after every reconnect."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        client_id: str | None = None,
        role: str | None = None,
        health: Health | None = None,
        subscriptions: Sequence[str] = (),
        dropped_subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        will: Will | None = None,
        persistent_session: bool = False,
        max_inflight: int | None = None,
        quiet: bool = False,
        manual_ack: bool = False,
        stamp: Callable[[], float] | None = None,
    ) -> None:
        """`stamp`, when given, sets each received message's `received_at`."""
        self._settings = settings
        self._stamp = stamp
        connection = settings.connection(role, client_id=client_id)
        self._health = health
        self._outcomes: dict[int, Any] = {}
        """PUBACK reason code by packet id, set before paho marks the message published."""
        self.refused_publishes = 0
        self.refused_subscriptions: list[str] = []
        self._level = logging.DEBUG if quiet else logging.INFO
        self._subscriptions = list(subscriptions)
        # A persistent session keeps every subscription it ever had: one this configuration no
        # longer wants (a gateway moved onto a shared subscription still holding its plain one
        # would receive the whole stream besides its share) is dropped at every connect.
        self._dropped = [topic for topic in dropped_subscriptions if topic not in self._subscriptions]
        self._filters = [_filter_of(s) for s in self._subscriptions]
        self._wanted = _matcher(self._filters)
        self._handler = on_message
        self._connected = threading.Event()
        self._connected_at = -math.inf
        self._quick_drops: deque[float] = deque(maxlen=3)
        self._clash_timer: threading.Timer | None = None
        self._subscribed = threading.Event()
        self._pending_subscriptions: set[int] = set()
        self._first_result: str | None = None
        self._window_size = max_inflight or settings.max_inflight
        self._inflight: deque[paho.MQTTMessageInfo] = deque()
        self._publish_lock = threading.Lock()
        self._manual_ack = manual_ack
        self._connection = next(_CONNECTIONS)
        # Reentrant: with no network thread (stopped), paho writes the ack at once, and a failed
        # write calls _on_disconnect on this same thread.
        self._ack_lock = threading.RLock()
        self.client_id = connection.client_id
        v5 = settings.protocol == "5"
        self._v5 = v5
        kwargs: dict[str, Any] = {
            "callback_api_version": CallbackAPIVersion.VERSION2,
            "client_id": connection.client_id,
            "protocol": MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            "manual_ack": manual_ack,
        }
        if not v5:
            kwargs["clean_session"] = not persistent_session
        self._persistent = persistent_session
        client = _ReadAheadClient(**kwargs)
        self._host, self._port = connection.host, connection.port
        self.username = connection.username
        if connection.username:
            client.username_pw_set(connection.username, connection.password)
        if connection.tls:
            try:
                client.tls_set(ca_certs=_path(connection.ca_file), certfile=_path(connection.cert_file),
                               keyfile=_path(connection.key_file), cert_reqs=ssl.CERT_REQUIRED)
            except (OSError, ssl.SSLError) as exc:  # found by a tester: "No such file or directory", no more
                own = role is not None and settings.role(role).tls_cert_file is not None
                cert = f"mqtt.{role}.tls_cert_file" if own else "mqtt.tls_cert_file"
                raise InvalidInput(
                    f"the {role or 'MQTT'} client's TLS files cannot be used (mqtt.tls_ca_file "
                    f"{connection.ca_file or 'unset'}; {cert} {connection.cert_file or 'unset'} and its "
                    f"key {connection.key_file or 'unset'}): {exc}") from exc
        if will is not None:
            client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        client.max_inflight_messages_set(max_inflight or settings.max_inflight)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        self._client = client

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect (and keep reconnecting in the background); fail clearly if nobody answers."""
        properties = None
        if self._v5 and self._persistent:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 24 * 3600
        try:
            self._client.connect(
                self._host,
                self._port,
                keepalive=self._settings.keepalive_s,
                clean_start=not self._persistent if self._v5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
                properties=properties,
            )
        except OSError as exc:  # ssl.SSLError too: a certificate the CA did not sign
            self._close_sockets()
            _close_handshake_socket(exc)
            if isinstance(exc, ssl.SSLError):
                raise BrokerUnavailable(
                    f"TLS with the MQTT broker at {self._host}:{self._port} failed ({exc}); check "
                    "SHOUWANG_MQTT__TLS_CA_FILE (the CA that signed the broker's certificate) and the "
                    "role's client certificate") from exc
            raise BrokerUnavailable(
                f"cannot reach the MQTT broker at {self._host}:{self._port} ({exc}); is `shouwang run` "
                "(with its embedded broker) running, or does SHOUWANG_MQTT__URL name the right broker?"
            ) from exc
        self._client.loop_start()
        if not (self._wait_connected(timeout_s) and self._subscribed.wait(timeout_s)):
            self._client.loop_stop()
            self._close_sockets()
            reason = self._first_result or "no answer"
            raise BrokerUnavailable(
                f"MQTT broker at {self._host}:{self._port} refused {self.client_id}: {reason}"
            )

    def _wait_connected(self, timeout_s: float) -> bool:
        """Connected within `timeout_s`; False at once when the broker refused us (a wrong password
        is not worth waiting out)."""
        deadline = time.monotonic() + timeout_s
        while not self._connected.wait(0.05):
            if self._first_result is not None or time.monotonic() > deadline:
                return False
        return True

    def _close_sockets(self) -> None:
        """A client that never got going leaves nothing open (its socket, paho's wake-up pair)."""
        sock = self._client.socket()
        if sock is not None:
            sock.close()
        self._client._reset_sockets(sockpair_only=True)

    def abort(self) -> None:
        """Drop the connection without saying goodbye, as a hub losing power does (the broker
        then publishes our Last Will)."""
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()
        self._connected.clear()

    def ack(self, message: Message) -> bool:
        """Acknowledge a message received with `manual_ack`, from any thread; False when it can no
        longer be: the connection that brought it is gone, and the broker will deliver it again (a
        persistent session) on the next.

        paho's `ack` only appends a packet to its outgoing queue (a deque) and wakes its network
        thread, as `publish` from another thread does. The lock makes "still the same connection"
        and the append one step against `_on_disconnect`, so an ack can never go out on a later
        connection, where the broker may have given the same packet id to another message.
        """
        if not self._manual_ack or message.qos == 0:
            return True
        with self._ack_lock:
            if message.connection != self._connection:
                return False
            rc = self._client.ack(message.mid, message.qos)
        if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
            log.warning("mqtt.ack_failed client=%s mid=%d rc=%s", self.client_id, message.mid, rc.name)
            return False
        return True

    def ack_many(self, messages: Sequence[Message]) -> int:
        """Acknowledge a committed batch; returns how many could no longer be (see `ack`).

        One PUBACK packet per message, as `ack` sends, but handed to paho as one write: paho
        queues each packet apart, wakes its network thread for each (a syscall) and sends each
        in its own `send`, which cost a busy gateway as much as a third of its work per message.
        The bytes on the wire are the same. Without that paho internal, each is acked alone."""
        queue_packet = getattr(self._client, "_packet_queue", None)
        if not self._manual_ack or queue_packet is None:
            return sum(1 for m in messages if not self.ack(m))
        void = 0
        packets = bytearray()
        with self._ack_lock:
            for message in messages:
                if message.qos == 0:
                    continue
                if message.connection != self._connection:
                    void += 1
                elif message.qos == 1:
                    packets += _PUBACK.pack(PUBACK, 2, message.mid)
                elif not self.ack(message):  # QoS 2: rare, and its PUBCOMP is paho's business
                    void += 1
            if packets:
                rc = queue_packet(PUBACK, bytes(packets), 0, 0)
                if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                    log.warning("mqtt.ack_failed client=%s messages=%d rc=%s", self.client_id,
                                len(packets) // 4, rc.name)
                    return void + len(packets) // 4
        return void

    def stop(self) -> None:
        if self._manual_ack:
            self._flush_outgoing(2.0)
        if self._clash_timer is not None:
            self._clash_timer.cancel()
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        # loop_start opened a loopback socket pair to wake paho's thread; paho closes it only in
        # __del__, which the garbage collector may run after the sockets' own finalizers (an
        # unclosed-socket warning, at a random later moment). The thread has ended: close it now.
        self._client._reset_sockets(sockpair_only=True)

    def _flush_outgoing(self, timeout_s: float) -> None:
        """Give paho's network thread a moment to send the acks queued last, before DISCONNECT
        (unsent, they would only make the broker deliver those messages again)."""
        deadline = time.monotonic() + timeout_s
        while self._client._out_packet and self.connected and time.monotonic() < deadline:
            time.sleep(0.01)

    def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False,
        timeout_s: float = 30.0,
    ) -> None:
        """Publish, waiting for room in the in-flight window; raise if paho refuses."""
        with self._publish_lock:
            if qos > 0 and len(self._inflight) >= self._window_size:
                self._wait_for_room(self._window_size - 1, timeout_s)
            info = self._client.publish(topic, payload, qos=qos, retain=retain)
            if info.rc is MQTTErrorCode.MQTT_ERR_NO_CONN and qos > 0:
                pass  # paho keeps it and sends it after reconnecting
            elif info.rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                raise PublishFailed(f"{self.client_id}: publish to {topic} refused: {info.rc.name}")
            if qos > 0:
                self._inflight.append(info)

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Wait until every QoS 1 message published so far is acknowledged."""
        with self._publish_lock:
            try:
                self._wait_for_room(0, timeout_s)
            except PublishFailed:
                return False
            return True

    def publish_confirmed(self, topic: str, payload: bytes | str, *, timeout_s: float = 10.0) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK; raise PublishRefused when it refused
        (MQTT 5 reason code), PublishFailed when it did not answer within `timeout_s`."""
        with self._publish_lock:
            info = self._client.publish(topic, payload, qos=1)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise PublishFailed(f"{self.client_id}: publish to {topic} refused: {info.rc.name}")
        deadline = time.monotonic() + timeout_s
        pause = 0.0005
        while not info.is_published():
            if time.monotonic() > deadline:
                raise PublishFailed(f"{self.client_id}: the broker did not acknowledge {topic} "
                                    f"within {timeout_s:g} s")
            time.sleep(pause)
            pause = min(0.02, pause * 2)
        reason = self._outcomes.pop(info.mid, None)
        if reason is not None and reason.is_failure:
            raise PublishRefused(f"the broker refused {self.client_id}'s publish to {topic}: {reason}"
                                 f"{self._whom()}")

    def _whom(self, *, credentials: bool = False) -> str:
        fix = "its password and the broker's password file" if credentials else "its ACL"
        return f" (user {self.username}; check {fix})" if self.username else " (no username given)"

    def _wait_for_room(self, keep: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pause = 0.0005
        while True:
            while self._inflight and self._inflight[0].is_published():
                self._outcomes.pop(self._inflight.popleft().mid, None)
            if len(self._inflight) <= keep:
                return
            if time.monotonic() > deadline:
                raise PublishFailed(
                    f"{self.client_id}: broker has not acknowledged {len(self._inflight)} "
                    f"messages for {timeout_s}s"
                )
            time.sleep(pause)
            pause = min(0.01, pause * 2)

    # paho callbacks: translate and hand on, nothing more ---------------------
    def _on_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self._first_result = str(reason)
            self._report("connect_refused", f"the MQTT broker {self._host}:{self._port} refused "
                         f"{self.client_id}: {reason}{self._whom(credentials=True)}", logging.WARNING)
            return
        self._recovered("connect_refused", "disconnected")
        self._connected_at = time.monotonic()
        self._subscribed.clear()
        self._pending_subscriptions.clear()
        for topic in self._subscriptions:
            result, mid = client.subscribe(topic, qos=1)
            if result is MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                self._pending_subscriptions.add(mid)
        if self._dropped and self._persistent:
            client.unsubscribe(self._dropped)
        if not self._pending_subscriptions:
            self._subscribed.set()
        self._connected.set()
        log.log(self._level, "mqtt.connected client=%s broker=%s:%s", self.client_id, self._host, self._port)

    def _on_subscribe(
        self, _client: paho.Client, _userdata: Any, mid: int, reasons: list[Any], _props: Any
    ) -> None:
        """Start-up waits for this: messages published before the broker has our subscription
        would never reach us."""
        refused = [str(reason) for reason in reasons if reason.is_failure]
        if refused:
            self.refused_subscriptions = refused
            self._report("subscribe_refused", f"the MQTT broker refused {self.client_id}'s subscription to "
                         f"{', '.join(self._subscriptions)}: {', '.join(refused)}{self._whom()}")
        elif self.refused_subscriptions:
            self.refused_subscriptions = []
            self._recovered("subscribe_refused")
        self._pending_subscriptions.discard(mid)
        if not self._pending_subscriptions:
            self._subscribed.set()

    def _on_disconnect(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        with self._ack_lock:  # acks of messages from the connection just lost are void
            self._connection = next(_CONNECTIONS)
        if self._connected.is_set():
            level = self._level if reason == 0 else logging.WARNING
            log.log(level, "mqtt.disconnected client=%s reason=%s", self.client_id, reason)
            if reason != 0 and self._health is not None:
                self._health.problem("disconnected", f"{self.client_id} lost the MQTT broker "
                                     f"{self._host}:{self._port} ({reason}); reconnecting",
                                     level=logging.WARNING)
                self._note_drop()
        self._connected.clear()

    def _note_drop(self) -> None:
        """Dropped again and again soon after connecting: most likely another process connects with
        the same client id, each taking the session from the other (found by a tester: two
        detectors on one shard flapped once a second for ever, each hearing part of the stream, and
        /health named only "Unspecified error")."""
        now = time.monotonic()
        if now - self._connected_at > CLASH_WINDOW_S:
            return
        self._quick_drops.append(now)
        if len(self._quick_drops) == self._quick_drops.maxlen and now - self._quick_drops[0] <= 6 * CLASH_WINDOW_S:
            self._report("client_id_clash", f"the MQTT broker dropped {self.client_id} "
                         f"{len(self._quick_drops)} times within seconds of connecting: most likely another "
                         f"process connects with the same client id {self.client_id!r}, each taking the "
                         "session from the other; give every process its own (mqtt.ROLE.client_id; "
                         "detectors: a --shard each)")
            if self._clash_timer is not None:
                self._clash_timer.cancel()
            self._clash_timer = threading.Timer(CLASH_CLEAR_S, self._clash_over, args=(now,))
            self._clash_timer.daemon = True
            self._clash_timer.start()

    def _clash_over(self, since: float) -> None:
        if self._quick_drops and self._quick_drops[-1] <= since:
            self._recovered("client_id_clash")

    def _on_publish(self, _client: paho.Client, _userdata: Any, mid: int, reason: Any, _props: Any) -> None:
        """Runs before paho marks the message published, so a waiter reads the outcome after."""
        self._outcomes[mid] = reason
        if reason.is_failure:
            self.refused_publishes += 1
            self._report("publish_refused", f"the MQTT broker refused a publish by {self.client_id}: "
                         f"{reason}{self._whom()}")

    def _report(self, problem: str, message: str, level: int = logging.ERROR) -> None:
        if self._health is not None:
            self._health.problem(problem, message, level=level)
        else:
            log.log(level, "mqtt.%s %s", problem, message)

    def _recovered(self, *problems: str) -> None:
        if self._health is not None:
            for problem in problems:
                self._health.clear(problem)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        topic = msg.topic  # paho decodes it afresh at each reading
        if self._handler is None or not self._wanted(topic):
            # amqtt 0.12 sends a connecting client retained messages matching *other* clients'
            # subscriptions; never pass on what we did not ask for.
            log.debug("mqtt.unrequested client=%s topic=%s", self.client_id, topic)
            if self._manual_ack and msg.qos > 0:
                self._client.ack(msg.mid, msg.qos)  # nothing to commit: done with it
            return
        try:
            self._handler(Message(topic, bytes(msg.payload), msg.qos, bool(msg.retain), msg.mid,
                                  self._connection, None if self._stamp is None else self._stamp()))
        except Exception:  # never let a handler bug kill paho's network thread
            log.exception("mqtt.handler_failed client=%s topic=%s", self.client_id, topic)


def _path(path: Any) -> str | None:
    return None if path is None else str(path)


def _close_handshake_socket(exc: BaseException) -> None:
    """paho 2.2 leaves the TLS socket of a failed handshake open (`_ssl_wrap_socket` raises from
    `do_handshake` without closing it): close it from the traceback, or every refused start by a
    broker whose certificate we do not trust leaks a connection."""
    tb = exc.__traceback__
    while tb is not None:
        sock = tb.tb_frame.f_locals.get("ssl_sock")
        if isinstance(sock, ssl.SSLSocket):
            sock.close()
        tb = tb.tb_next
