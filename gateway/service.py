"""The gateway service: MQTT messages in, batches of readings out to the reading store."""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from gateway.bridged import BridgeIntake, Heard
from gateway.bridges.route import BridgeTopic, bridge_topic
from gateway.rejection_log import RejectionLog
from shouwang.clock import Clock
from shouwang.contract import topics
from shouwang.contract.decode import DecodeError, Rejection, decode_presence, decode_readings
from shouwang.contract.validate import Limits, Validator, recall_from, unknown_hub_reason
from shouwang.domain.errors import ShouwangError
from shouwang.domain.model import Reading, StoredReading
from shouwang.health import Health
from shouwang.metrics import Metrics
from shouwang.mqtt import Message, MqttClient
from shouwang.settings import GatewaySettings, MqttSettings
from shouwang.storage.database import StateStoreUnavailable
from shouwang.storage.dead_letters import Caps, DeadLetter
from shouwang.storage.ports import ReadingStore, ReadingStoreUnavailable
from shouwang.storage.state import StateStore

log = logging.getLogger(__name__)
_STOP = object()
WRITE_ATTEMPTS = 6
INTERNAL_TRACEBACK_EVERY_S = 60.0
TOPICS_REMEMBERED = 1 << 17
"""Parsed topics kept (about 250 bytes each): every sensor of 30,000 hubs."""
STALE_RETRY_S = 2.0
"""How soon a registry read that failed is tried again, the directory read before kept meanwhile."""
CLOCK_HUBS = 3
CLOCK_AGREE_S = 600.0
CLOCK_WINDOW_S = 600.0
"""Hubs (at least CLOCK_HUBS, within CLOCK_WINDOW_S) stamping readings ahead of this server by
amounts within CLOCK_AGREE_S of each other say that this server's clock is behind."""


@dataclass
class _Batch:
    readings: list[Reading] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    heard: Heard = field(default_factory=Heard)
    registers: dict[tuple[str, str], float] = field(default_factory=dict)
    """The newest register of each bridged hub sensor in this batch (not yet known to the validator)."""


def no_consent_reason(household_id: str) -> str:
    return (f"household {household_id} has no recorded consent to sensing, so its readings are not "
            f"kept; record it with `shouwang households consent {household_id} --by NAME`")


class _Inbox:
    """The messages between paho's network thread (the one producer) and the worker: a C queue,
    bounded by the producer waiting while `size` messages wait. `queue.Queue` takes a lock and
    notifies a condition in Python on every put and get, which cost a busy gateway more than
    anything else it does per message but decoding it."""

    def __init__(self, size: int) -> None:
        self._items: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._size = size
        self._room = threading.Event()
        self.received = 0
        """Messages put (written by the producer only)."""
        self.finished = 0
        """Messages done with (written by the worker only)."""

    def put(self, message: Message, stopping: threading.Event) -> bool:
        """Queue `message`, waiting while the inbox is full; False (not queued) once `stopping`."""
        while not stopping.is_set():
            if self._items.qsize() < self._size:
                break
            self._room.clear()  # then look again: the worker sets it after taking a batch
            if self._items.qsize() >= self._size:
                self._room.wait(0.5)
        else:
            return False
        self.received += 1
        self._items.put(message)
        return True

    def put_stop(self) -> None:
        self._items.put(_STOP)

    def get(self, timeout: float) -> object:
        """The next item; raises queue.Empty after `timeout`."""
        return self._items.get(timeout=timeout)

    def taken(self) -> None:
        """The worker took a batch: a producer waiting for room may go on."""
        self._room.set()

    def done(self, messages: int) -> None:
        self.finished += messages

    def qsize(self) -> int:
        return self._items.qsize()

    @property
    def unfinished(self) -> int:
        return self.received - self.finished


class HubDirectory:
    """hub id → household id, and which households consented to sensing; refreshed from the
    registry now and then (and on a miss)."""

    def __init__(self, state: StateStore, *, refresh_s: float, health: Health | None = None) -> None:
        self._state = state
        self._health = health
        self._refresh_s = refresh_s
        self._loaded_at = float("-inf")
        self._missed_at = float("-inf")
        self.hubs: dict[str, str] = {}
        self.consenting: set[str] = set()

    def current(self) -> dict[str, str]:
        if time.monotonic() - self._loaded_at > self._refresh_s:
            self.reload()
        return self.hubs

    def knows(self, hub_id: str) -> bool:
        if hub_id in self.current():
            return True
        if time.monotonic() - self._missed_at > 2.0:  # a newly registered hub, at most every 2 s
            self._missed_at = time.monotonic()
            self.reload()
        return hub_id in self.hubs

    def reload(self) -> None:
        """Read the registry again. Found by an attacker: one failed read (PostgreSQL restarting)
        made every message of the batch an `internal` dead letter, acknowledged and never stored;
        a directory read before is kept meanwhile (a hub registered since waits for the store).
        Without one, the failure is the batch's, which the gateway then holds."""
        try:
            hubs = {hub.id: hub.household_id for hub in self._state.registry.hubs()}
            consenting = self._state.consent.consenting()
        except StateStoreUnavailable as exc:
            if self._loaded_at == float("-inf"):
                raise
            self._loaded_at = time.monotonic() - self._refresh_s + STALE_RETRY_S  # try again soon
            log.warning("gateway.registry_unreadable error=%.300r: the hub directory read before is kept", exc)
            if self._health is not None:
                self._health.problem("registry_unreadable", f"the registry cannot be read ({exc!r:.200}); "
                                     "readings are judged by the hub directory read before")
            return
        self.hubs, self.consenting = hubs, consenting
        self._loaded_at = time.monotonic()
        if self._health is not None:
            self._health.clear("registry_unreadable")


class Gateway:
    """Subscribes to every hub topic; one worker thread validates and writes in batches.

    A message is acknowledged to the broker only once its readings or its dead letters are
    committed, so a crash (kill -9, power cut) loses nothing: the broker delivers again what was
    not acknowledged, and the stores ignore what they already hold. The queue between paho's
    network thread and the worker is bounded: when it is full, paho stops reading and the broker
    holds the backlog, not our memory.
    """

    def __init__(
        self,
        *,
        mqtt: MqttSettings,
        settings: GatewaySettings,
        readings: ReadingStore,
        state: StateStore,
        clock: Clock,
        metrics: Metrics,
        client_id: str | None = None,
        health: Health | None = None,
        tz: tzinfo = UTC,
    ) -> None:
        self._prefix = mqtt.topic_prefix
        self._settings = settings
        self._readings = readings
        self._state = state
        self._clock = clock
        self._metrics = metrics
        self._queue = _Inbox(settings.queue_size)
        self._stopping = threading.Event()
        self._bridges = BridgeIntake(state, tz=tz, refresh_s=settings.registry_refresh_s)
        self._limits = Limits.from_settings(settings)
        self._validator = Validator(self._limits, recall=recall_from(readings))
        self._caps = Caps(per_hub=settings.dead_letters_per_hub, total=settings.dead_letters_total)
        self._rejections = RejectionLog(settings.rejection_log_interval_s)
        self._ahead: dict[str, tuple[float, float]] = {}
        """Per hub whose readings came stamped in the future: by how much, and when (monotonic)."""
        self._traceback_at = float("-inf")
        # The same few topics (a hub's four or so sensors) come again and again: parse each once.
        # A refused topic raises afresh each time (lru_cache keeps no exceptions). Whether it is a
        # bridge's is kept the same way.
        self._parse = functools.lru_cache(maxsize=TOPICS_REMEMBERED)(topics.parse)
        self._bridge_topic = functools.lru_cache(maxsize=TOPICS_REMEMBERED)(bridge_topic)
        subscription = plain = topics.hub_subscription(self._prefix)
        if mqtt.shared_group:
            subscription = f"$share/{mqtt.shared_group}/{subscription}"
        if mqtt.shared_group and mqtt.protocol != "5":
            raise ShouwangError("a shared subscription (SHOUWANG_MQTT__SHARED_GROUP) needs MQTT 5: "
                                "set SHOUWANG_MQTT__PROTOCOL=5")
        self.health = health or Health("gateway", metrics)
        self._directory = HubDirectory(state, refresh_s=settings.registry_refresh_s, health=self.health)
        self._client = MqttClient(
            mqtt,
            role="gateway",
            client_id=client_id,
            health=self.health,
            subscriptions=[subscription],
            dropped_subscriptions=[plain],  # left in the session by an unshared run before
            on_message=self._receive,
            persistent_session=True,
            manual_ack=True,
            stamp=clock.now,
        )
        self._worker = threading.Thread(target=self._work, name="gateway", daemon=True)
        self.stored = 0
        self._heard_at = time.monotonic()
        self._subscription = subscription

    @property
    def client_id(self) -> str:
        return self._client.client_id

    def start(self) -> None:
        self._directory.reload()
        self._bridges.reload()
        self._worker.start()
        self._client.start()

    def stop(self) -> None:
        """Finish and acknowledge what was received, then disconnect; what is refused meanwhile is
        not acknowledged, so the broker keeps it for the next start."""
        self._stopping.set()
        self._queue.put_stop()
        self._worker.join(30)
        if self._worker.is_alive():
            log.error("gateway.stop_stuck: the worker did not finish within 30 s; stopping without it")
        self._client.stop()

    def _receive(self, message: Message) -> None:
        """On paho's network thread: queue the message, waiting while the queue is full (paho
        then reads nothing more, and the broker keeps the rest; a worker stuck for longer than
        1.5 × keepalive gets the connection dropped, and what was not acknowledged comes again).
        The client stamped `received_at` with our clock."""
        self._heard_at = time.monotonic()
        self._queue.put(message, self._stopping)

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """True once every received message has been processed (for tests and shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished != 0:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _work(self) -> None:
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=1.0)
            except queue.Empty:
                self._check_quiet()
                continue
            items = self._collect(first)
            self._queue.taken()
            messages = [m for m in items if isinstance(m, Message)]
            stopping = len(messages) < len(items)
            try:
                self._commit(messages)
            finally:
                self._queue.done(len(messages))
            self._metrics.ingest_queue.set(self._queue.qsize())
            self._check_quiet()

    def _check_quiet(self) -> None:
        """Nothing from any registered hub for quiet_alarm_s is a problem worth a failing health
        check: the broker delivers nothing to this subscription (an ACL), or every hub is down."""
        quiet_s = time.monotonic() - self._heard_at
        if quiet_s < self._settings.quiet_alarm_s:
            self.health.clear("nothing_heard")
        elif self._client.connected and self._directory.current():
            self.health.problem("nothing_heard", f"connected, but nothing has come on {self._subscription} "
                                f"for {quiet_s:.0f} s although {len(self._directory.hubs)} hub(s) are "
                                "registered: check that the broker lets this gateway's user read it "
                                "(Mosquitto grants a subscription its ACL denies, then delivers nothing)")

    def _check_clock(self, readings: list[Reading], now: float) -> None:
        """Found by a tester: with this server's clock an hour behind, every hub's readings were
        refused as "in the future; check the hub's clock", hub by hub, and every home was called
        offline. Hubs that all run ahead by about the same are this clock, not theirs: said as
        one problem (health and log), naming the fix."""
        limit = self._validator.limits.max_future_s
        for reading in readings:
            if reading.ts > now + limit and reading.hub_id in self._directory.hubs:
                self._ahead[reading.hub_id] = (reading.ts - now, time.monotonic())
        recent = time.monotonic() - CLOCK_WINDOW_S
        self._ahead = {hub: seen for hub, seen in self._ahead.items() if seen[1] >= recent}
        offsets = sorted(offset for offset, _ in self._ahead.values())
        if len(offsets) >= CLOCK_HUBS and offsets[-1] - offsets[0] <= CLOCK_AGREE_S:
            self.health.problem("clock_behind", f"the readings of {len(offsets)} hubs are all stamped about "
                                f"{offsets[len(offsets) // 2] / 60:.0f} min ahead of this server's clock, and "
                                "are refused as from the future: this server's clock is probably behind; "
                                "set it right (NTP)")
        else:
            self.health.clear("clock_behind")

    def _collect(self, first: object) -> list[object]:
        """A batch: up to batch_size messages, what came within flush_interval_s, or what came
        before a pause of idle_flush_s. Messages are acknowledged only after their batch, and a
        broker lets only so many wait unacknowledged (Mosquitto: max_inflight_messages, 20 by
        default): waiting out flush_interval_s for more would idle at that limit."""
        items = [first]
        s = self._settings
        deadline = time.monotonic() + s.flush_interval_s
        while first is not _STOP and len(items) < s.batch_size and time.monotonic() < deadline:
            try:
                wait = min(s.idle_flush_s, deadline - time.monotonic())
                items.append(self._queue.get(timeout=max(0.0, wait)))
            except queue.Empty:
                break
        return items

    def _commit(self, messages: list[Message]) -> None:
        """Process a batch, then acknowledge it. A batch that fails is tried again message by
        message, so one bad message holds back no other; one that fails alone stays
        unacknowledged (the broker delivers it again after a reconnect). While the state store
        cannot be reached, the batch is held and tried again, acknowledging nothing, as for the
        reading store (`_write`): found by an attacker, 788 of 1,500 good readings of a 35-second
        PostgreSQL outage became dead letters, and 232 more waited for a reconnect."""
        pause = 0.1
        while True:
            try:
                self._process(messages)
            except ReadingStoreUnavailable:  # only while stopping: the broker keeps them for the next start
                log.info("gateway.stopped_unstored messages=%d: left unacknowledged", len(messages))
                return
            except StateStoreUnavailable as exc:
                self._metrics.ingest_errors.inc()
                self.health.problem("state_store_unavailable", f"the state store cannot be reached "
                                    f"({exc!r:.200}); holding {len(messages)} message(s), acknowledging "
                                    "nothing until it can")
                if self._stopping.wait(pause):
                    log.info("gateway.stopped_unstored messages=%d: left unacknowledged", len(messages))
                    return
                pause = min(5.0, pause * 2)
                continue
            except Exception:
                self._metrics.ingest_errors.inc()
                log.exception("gateway.batch_failed messages=%d", len(messages))
                break
            self.health.clear("state_store_unavailable")
            self._ack(messages)
            return
        for message in messages if len(messages) > 1 else []:
            try:
                self._process([message])
            except Exception:
                self._metrics.ingest_errors.inc()
                log.exception("gateway.message_failed topic=%.200s: left unacknowledged", message.topic)
            else:
                self._ack([message])

    def _ack(self, messages: list[Message]) -> None:
        void = self._client.ack_many(messages)
        if void:  # received on a connection since lost: the broker sends them again
            log.info("gateway.ack_void messages=%d reason=connection_lost", void)

    def _process(self, messages: list[Message]) -> None:
        now = self._clock.now()
        batch = _Batch()
        self._metrics.messages.inc(len(messages))
        for message in messages:
            try:
                self._decode(message, batch, now)
            except StateStoreUnavailable:
                raise  # the state store, not the message: the batch is held (`_commit`)
            except Exception as exc:  # one message costs only itself, whatever went wrong with it
                batch.letters.append(self._internal(message, exc, now))
        # Readings of households without consent were dead-lettered as they were decoded.
        verdict = self._validator.judge(batch.readings, hubs=self._directory.hubs, now=now)
        self._check_clock(batch.readings, now)
        if verdict.accepted:
            self._write(verdict.accepted, batch, now)
        self._bridges.commit(batch.heard)
        self._metrics.readings_duplicate.inc(verdict.duplicates)
        for rejection in verdict.rejected:
            topic = topics.reading_topic(self._prefix, rejection.hub_id or "?", rejection.sensor or "?")
            batch.letters.append(self._letter(now, topic, rejection.hub_id, rejection))
        if batch.letters:
            dropped = self._state.dead_letters.add(batch.letters, self._caps)
            self._rejections.report(batch.letters, time.monotonic())
            if dropped:
                self._metrics.dead_letters_dropped.inc(dropped)

    def _write(self, accepted: list[StoredReading], batch: _Batch, now: float) -> None:
        """Write the readings. While the store is unavailable, keep trying and acknowledge nothing:
        the queue fills, paho stops reading and the broker holds the backlog (back-pressure). A
        store that refuses these readings is tried a few times, then they become dead letters."""
        pause = 0.1
        attempt = 0
        while True:
            attempt += 1
            try:
                new = self._readings.write(accepted)
            except ReadingStoreUnavailable as exc:
                self._metrics.ingest_errors.inc()
                if self._stopping.is_set():
                    raise  # leave the batch unacknowledged: the broker delivers it again
                log.warning("gateway.store_unavailable attempt=%d readings=%d error=%r: holding the "
                            "batch, acknowledging nothing until it is stored", attempt, len(accepted), exc)
                if attempt == 2:  # one failure may be a moment's lock; found by a tester: /health
                    # said ok through a full disk while 19,442 readings waited
                    self.health.problem("reading_store_unavailable", f"the reading store cannot take "
                                        f"readings ({exc!s:.200}); holding {len(accepted)}, acknowledging "
                                        "nothing until it can")
            except Exception as exc:  # the store refused them: the adapter's own errors vary
                self._metrics.ingest_errors.inc()
                log.warning("gateway.store_failed attempt=%d readings=%d error=%r",
                            attempt, len(accepted), exc)
                if attempt >= WRITE_ATTEMPTS:
                    break
            else:
                if attempt > 1:
                    self.health.clear("reading_store_unavailable")
                self._stored(new, len(accepted))
                return
            self._stopping.wait(pause)
            pause = min(5.0, pause * 2)
        for r in accepted:
            batch.letters.append(self._letter(
                now, topics.reading_topic(self._prefix, r.hub_id, r.sensor), r.hub_id,
                Rejection("store_failed", "the reading store refused the batch; replay from here",
                          json.dumps({"ts": r.ts, "value": r.value, "power_w": r.power_w,
                                      "seq": r.seq}))))

    def _stored(self, new: int, sent: int) -> None:
        self.stored += new
        self._metrics.readings_accepted.inc(new)
        if new < sent:  # already stored: delivered again after a crash
            self._metrics.readings_duplicate.inc(sent - new)
            log.info("gateway.duplicates_ignored count=%d", sent - new)

    def _decode(self, message: Message, batch: _Batch, now: float) -> None:
        bridged = self._bridge_topic(message.topic, self._prefix)
        if bridged is not None:
            if self._admitted(message, bridged.hub_id, batch, now):
                self._bridged(message, bridged, batch, now)
            return
        try:
            topic = self._parse(message.topic, self._prefix)
        except topics.TopicError as exc:
            batch.letters.append(self._letter(now, message.topic, topics.hub_id_from(message.topic, self._prefix),
                                              Rejection("bad_topic", str(exc),
                                                        message.payload[:200].decode("utf-8", "replace"))))
            return
        if isinstance(topic, topics.StatusTopic):
            self._presence(message, topic, batch, now)
            return
        if not self._admitted(message, topic.hub_id, batch, now):
            return
        good, bad = decode_readings(topic, message.payload, self._limits.payload)
        batch.readings.extend(good)
        for rejection in bad:
            batch.letters.append(self._letter(now, message.topic, topic.hub_id, rejection))

    def _admitted(self, message: Message, hub_id: str, batch: _Batch, now: float) -> bool:
        """Whether the hub is registered and its household consented; if not, a letter says so."""
        if not self._directory.knows(hub_id):
            batch.letters.append(self._letter(now, message.topic, hub_id, Rejection(
                "unknown_hub", unknown_hub_reason(hub_id), message.payload[:200].decode("utf-8", "replace"))))
            return False
        household_id = self._directory.hubs[hub_id]
        if household_id not in self._directory.consenting:
            # Monitoring starts only with consent: keep why, never what the hub sent.
            batch.letters.append(self._letter(now, message.topic, hub_id, Rejection(
                "no_consent", no_consent_reason(household_id), "(not kept: no consent to sensing)")))
            return False
        return True

    def _bridged(self, message: Message, topic: BridgeTopic, batch: _Batch, now: float) -> None:
        """A bridge's message: the hub's device map makes it readings, judged like any hub's."""
        at = message.received_at if message.received_at is not None else now

        def last_value(hub_id: str, sensor: str) -> float | None:
            newest = batch.registers.get((hub_id, sensor))
            return newest if newest is not None else self._validator.last_value(hub_id, sensor)

        readings, translation, rejections = self._bridges.read(topic, message.payload, at=at,
                                                               last_value=last_value)
        if message.retain:
            # A bridge's retained state comes again at every subscription, dated on arrival when
            # it carries no time: not a new reading (found by a tester: a retained button press
            # opened a new urgent help alert at every restart). Its device is still heard.
            readings = []
        batch.readings.extend(readings)
        batch.registers.update(((r.hub_id, r.sensor), r.value) for r in readings if r.kind.is_register)
        for rejection in rejections:
            batch.letters.append(self._letter(now, message.topic, topic.hub_id, rejection))
        batch.heard.add(topic, translation, at)

    def _presence(self, message: Message, topic: topics.StatusTopic, batch: _Batch, now: float) -> None:
        try:
            presence = decode_presence(topic.hub_id, message.payload, self._limits.payload)
        except DecodeError as exc:
            batch.letters.append(self._letter(now, message.topic, topic.hub_id, Rejection(
                exc.category, exc.reason, message.payload[:200].decode("utf-8", "replace"))))
            return
        if presence.ts is None:
            presence = type(presence)(presence.hub_id, presence.state, now, presence.battery)
        if not self._state.registry.record_presence(presence):
            batch.letters.append(self._letter(now, message.topic, topic.hub_id, Rejection(
                "unknown_hub", unknown_hub_reason(topic.hub_id),
                message.payload[:200].decode("utf-8", "replace"))))

    def _internal(self, message: Message, exc: Exception, now: float) -> DeadLetter:
        """A dead letter for a message whose processing failed in a way nobody foresaw."""
        if time.monotonic() - self._traceback_at >= INTERNAL_TRACEBACK_EVERY_S:
            self._traceback_at = time.monotonic()
            log.warning("gateway.message_internal_error topic=%.200r error=%.300r", message.topic, exc,
                        exc_info=True)
        return self._letter(now, message.topic, topics.hub_id_from(message.topic, self._prefix), Rejection(
            "internal", f"could not process this message: {repr(exc)[:300]}; kept here to replay",
            message.payload[:400].decode("utf-8", "replace")))

    def _letter(self, now: float, topic: str, hub_id: str | None, rejection: Rejection) -> DeadLetter:
        self._metrics.readings_rejected.labels(reason=rejection.category).inc()
        return DeadLetter(now, topic, hub_id, rejection.reason, rejection.item, category=rejection.category)
