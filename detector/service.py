"""The detector service: its own MQTT subscription, a tracker per home, a tick that judges.

Each reading goes through the sign reader (signs of life, flow runs) to the detector, which also
hears when it arrived; each tick the service reads new visits (a visit is a sign of life), asks
the detector for findings, opens and clears alerts, and saves each household's status. The
learned model is kept across restarts in a snapshot file (`detector.snapshot`); what a restart
must not lose of each household whatever its age (its last sign of life, since when it is
watched) is kept in the state store (`detector.restart`).
"""

from __future__ import annotations

import logging
import math
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from detector import alerting, restart, snapshot
from detector.availability import Availability
from detector.base import Detector
from detector.context import Context
from detector.help import help_finding, is_help_press, presses_to_raise
from detector.lateness import Lateness
from detector.learned import LearnedDetector
from detector.signs import REST_S, RESTLESS_S, HomeState, SignKind, SignOfLife, SignReader
from detector.table import HISTORY_DAYS
from gateway.bridges.route import BridgeReader, MapLooks, bridge_topic
from shouwang.clock import Clock
from shouwang.contract import topics
from shouwang.contract.decode import decode_readings
from shouwang.contract.validate import Limits, Validator, recall_from
from shouwang.domain.alerts import Alert, AlertKind, Finding
from shouwang.domain.cover import MaintenanceWindow
from shouwang.domain.devices import DeviceMap
from shouwang.domain.model import Household, Reading, StoredReading
from shouwang.domain.shards import Shard, coverage_gap
from shouwang.health import Health
from shouwang.logs import RepeatedFailure
from shouwang.metrics import Metrics
from shouwang.mqtt import Message, MqttClient
from shouwang.settings import DetectorSettings, GatewaySettings, MqttSettings
from shouwang.storage.alerts import AlertFilter
from shouwang.storage.memory import HouseholdMemory
from shouwang.storage.ports import ReadingStore
from shouwang.storage.state import StateStore
from shouwang.storage.status import HouseholdStatus

log = logging.getLogger(__name__)
SNAPSHOT_FILE = "detector-model.npz"
SHARD_ALIVE = 3.5
"""A detector not heard of for this many `shard_check_s` is taken for stopped."""
HELP_ALERTS_RECALLED = 50
"""A household's newest help alerts a press is matched against (`_raise_help`)."""


def snapshot_file(shard: Shard) -> str:
    """Each shard keeps its own model (detectors of one community may share a data folder)."""
    return SNAPSHOT_FILE if shard.count == 1 else f"detector-model-{shard.label}.npz"


class DetectorService:
    def __init__(
        self,
        *,
        mqtt: MqttSettings,
        settings: DetectorSettings,
        gateway: GatewaySettings,
        detector: Detector,
        readings: ReadingStore,
        state: StateStore,
        clock: Clock,
        metrics: Metrics,
        tz: ZoneInfo,
        on_alert: Callable[[Alert], None] | None = None,
        client_id: str | None = None,
        snapshot_dir: Path | None = None,
        shard: Shard | None = None,
        health: Health | None = None,
    ) -> None:
        self._shard = shard or Shard(1, 1)
        self._prefix = mqtt.topic_prefix
        self._settings = settings
        self._detector = detector
        self._readings = readings
        self._state = state
        self._clock = clock
        self._metrics = metrics
        self._alerting = alerting.Alerting(state.alerts, metrics, tz, on_alert)
        self._tz = tz
        self._bridges = BridgeReader(tz)
        self._looks = MapLooks()
        self._maps: dict[str, list[DeviceMap]] = {}
        # an absence restarts a silence only once a tick has reported it (found by a regression
        # tester: one that passed the limit between two ticks and ended before the next did neither)
        self._availability = Availability(
            back_after_s=settings.hub_offline_after_s + min(settings.tick_s, settings.hub_offline_after_s))
        self._devices_changed = False
        """A bridge said a device went or came back since the contexts were made."""
        self._lateness = Lateness()
        self._late_said: dict[str, float] = {}
        self._handle_failures = RepeatedFailure(log, "detector.handle_failed")
        self._status_failures = RepeatedFailure(log, "detector.status_save_failed")
        self._tick_failures = RepeatedFailure(log, "detector.tick_failed")
        self._presses: dict[str, list[StoredReading]] = {}
        """Help presses no alert has answered yet, by household (`_raise_help`)."""
        self._signs = SignReader(
            standby_w=settings.standby_w,
            switch_step_w=settings.switch_step_w,
            min_flow_m3_per_h=settings.min_flow_m3_per_h,
            tz=tz,
        )
        self._validator = Validator(Limits.from_settings(gateway), recall=recall_from(readings, before_batch=True))
        self.homes: dict[str, HomeState] = {}
        self._contexts: dict[str, Context] = {}
        self._maintenance: list[MaintenanceWindow] = []
        self._hubs: dict[str, str] = {}
        self._help_only: dict[str, str] = {}
        """hub id → household id for households without consent to sensing: only their help
        presses are read (`_unwatched_presses`)."""
        self._dirty: set[str] = set()
        self._status_saved = float("-inf")  # wall time of the last status save
        self._rhythm_saved: dict[str, tuple[float, ...]] = {}
        self._started_at = clock.now()
        self._snapshot = snapshot_dir / snapshot_file(self._shard) if snapshot_dir is not None else None
        self._snapshot_at = self._started_at
        self._learned_until = float("-inf")
        self._visit_cursor = 0
        self._contexts_at = float("-inf")
        self._open_keys: set[tuple[str, AlertKind]] = set()
        """Unresolved alerts at the end of the last tick, and those it left to others."""
        self._memory: dict[str, HouseholdMemory] = {}
        """What the state store remembers of each household (see `detector.restart`)."""
        self._down: tuple[float, float] | None = None
        """From the detector's last save to its restart (see `Context.down`)."""
        self._queue: queue.Queue[Message] = queue.Queue()
        self._stop = threading.Event()
        self.health = health or Health("detector", metrics)
        self._client = MqttClient(
            mqtt,
            role="detector",
            client_id=client_id or (None if shard is None else
                                    f"{mqtt.connection('detector').client_id}-{self._shard.label}"),
            health=self.health,
            subscriptions=[topics.hub_subscription(self._prefix)],
            on_message=lambda m: self._queue.put(replace(m, received_at=clock.now())),
            persistent_session=True,
        )
        self._thread = threading.Thread(target=self._work, name="detector", daemon=True)
        self.ticks = 0
        self._instance = f"{socket.gethostname()} pid {os.getpid()} #{uuid.uuid4().hex[:6]}"
        self._started_wall = time.time()
        self._shard_beat_at = -math.inf
        self._shard_gap: str | None = None

    @property
    def down(self) -> tuple[float, float] | None:
        """From this detector's last save to its restart, if it had saved before (see `Context.down`)."""
        return self._down

    @property
    def client_id(self) -> str:
        return self._client.client_id

    def start(self) -> None:
        # Subscribe first: what arrives while the stored readings are read waits in the queue,
        # so nothing published between the two is missed.
        self._client.start()
        try:
            self.warm_up()
        except BaseException:
            self._client.stop()
            raise
        self._thread.start()

    def stop(self) -> None:
        self._client.stop()
        self._stop.set()
        self._thread.join(30)
        self.save_model(self._clock.now())
        try:
            self._state.shards.leave(self._instance)
        except Exception as exc:  # it is forgotten anyway once it is not heard of for a while
            log.warning("detector.shard_leave_failed error=%r", exc)

    def warm_up(self) -> None:
        """Rebuild each home's state after a (re)start: the saved model, then stored readings.

        With a snapshot, only readings since it was taken are learned from (older ones only
        rebuild the trackers); without one, the learned detector learns from the stored history.
        Readings are re-read, oldest first, from the detector's last save if it was down longer
        than the usual window (what the gateway stored meanwhile); then what the state store
        remembers fills in the rest: each household's last sign of life, whatever its age.
        """
        s = self._settings
        now = self._clock.now()
        self._memory = self._state.memory.all()
        statuses = self._state.status.all()
        # when this shard last ran: found by testers, the newest status save of any shard made a
        # shard down for a day, beside another still running, look down for a minute; and its own
        # households' saves, which come only with signs of life, took a hub's silence for downtime
        last_saved_at = self._last_alive(statuses)
        self._down = None if last_saved_at is None else (last_saved_at, now)
        self._remember_availability()
        self._refresh_contexts()
        self._contexts_at = now
        window = max(max(s.inactivity_h, s.no_water_h) * 3600 + max(s.gas_run_max_min, 60) * 60 + 3600,
                     RESTLESS_S + REST_S)  # a sensor that never rests is known as such again
        saved_at = self._load_model()
        if saved_at is not None:
            self._learned_until = saved_at
            window = max(window, now - saved_at + 3600)
        elif isinstance(self._detector, LearnedDetector):
            window = max(window, HISTORY_DAYS * 86400.0)
        start = restart.catch_up_start(now, window, last_saved_at)
        count = 0
        presses: list[StoredReading] = []
        self._signs.replay_from = start  # a sensor busy at the window's start may have been for long
        try:
            for household_id in self._contexts:
                try:  # one household's bad history must not keep the detector from starting
                    for reading in self._readings.query(household_id=household_id, start=start,
                                                        end=now + 1):
                        self.observe(reading, reading.ts)
                        count += 1
                        if is_help_press(reading):
                            presses.append(reading)
                except Exception as exc:
                    log.warning("detector.household_failed household=%s error=%r", household_id, exc)
        finally:
            self._signs.replay_from = None
        self._raise_stored_presses(presses, now)
        self._learned_until = float("-inf")
        self._read_visits()
        self._remember_stored(statuses)
        if last_saved_at is not None and isinstance(self._detector, LearnedDetector):
            restart.resume_learned(self._detector, now, last_saved_at)
        log.info("detector.warmed_up households=%d readings=%d snapshot=%s from=%.0f",
                 len(self._contexts), count, saved_at is not None, start)

    def _last_alive(self, statuses: dict[str, HouseholdStatus]) -> float | None:
        """When a detector of this shard last said it ran (its own clock); before the shards were
        recorded, its households' newest status save."""
        try:
            alive = self._state.shards.last_alive(self._shard)
        except Exception as exc:  # the saves still tell, less well
            log.warning("detector.shards_unknown error=%r", exc)
            alive = None
        saved = max((st.updated_at for h, st in statuses.items() if self._shard.owns(h)), default=None)
        return alive if alive is not None else saved

    def _raise_stored_presses(self, presses: list[StoredReading], now: float) -> None:
        """Help presses the gateway stored that no help alert answered: found by a tester, a
        press that came while the state store was full was held in memory only, its message
        already acknowledged, and a restart lost it for good (the detector then read it back as
        a mere sign of life). A press older than the household's last help alert's resolution is
        taken as answered by it (it came while that alert was open, and was merged into it)."""
        if not presses:
            return
        waiting = []
        for household_id in {p.household_id for p in presses}:
            try:
                alerts = self._state.alerts.list(AlertFilter(kind=AlertKind.HELP, household_id=household_id,
                                                             limit=HELP_ALERTS_RECALLED))
            except Exception as exc:  # not raised blind: an answered press would alert again
                log.warning("detector.help_not_checked household=%s error=%r", household_id, exc)
                continue
            answered_until = max((a.resolved_at for a in alerts if a.resolved_at is not None), default=-math.inf)
            waiting += [p for p in presses if p.household_id == household_id and p.ts > answered_until]
        if waiting:
            self._raise_help(waiting, now)

    def _remember_availability(self) -> None:
        """What the gateway stored of each device's availability: a device that went while the
        detector was down is down now (a persistent session gets no retained message again)."""
        for s in self._state.devices.sightings():
            self._availability.heard(s.hub_id, s.bridge, s.device)
            if s.online is not None and s.online_at is not None:
                self._availability.note(s.hub_id, s.bridge, s.device, online=s.online, at=s.online_at)

    def _with_devices(self, ctx: Context) -> Context:
        return replace(ctx, devices=self._availability.home((h.id for h in ctx.hubs), self._maps))

    def _remember_stored(self, statuses: dict[str, HouseholdStatus]) -> None:
        """Each household's last sign of life (and the rest remembered), whatever its age."""
        for household_id in self._contexts:
            status, memory = statuses.get(household_id), self._memory.get(household_id)
            if status is None and memory is None:
                continue
            home = self.homes.setdefault(household_id, HomeState(household_id))
            restart.remember(home, status, memory)
            if isinstance(self._detector, LearnedDetector):
                alerting.bulkhead(household_id,
                                  partial(restart.restore_learned, self._detector, home))
            self._dirty.add(household_id)

    def observe(self, reading: StoredReading, at: float) -> None:
        """One accepted reading, arrived at clock time `at`: signs of life, tracker, detector."""
        home = self.homes.get(reading.household_id)
        if home is None:
            home = self.homes[reading.household_id] = HomeState(reading.household_id)
        shift = self._lateness.shift(reading.hub_id, reading.ts, at)
        dated = replace(reading, ts=reading.ts + shift) if shift else reading
        for sign in self._signs.read(home, dated):
            if sign.ts > self._learned_until:
                self._detector.learn_one(sign)
        self._detector.observe(home, hub_id=reading.hub_id, at=at)
        self._dirty.add(reading.household_id)

    def history_days_of(self, household_id: str) -> int:
        """Days of the household's history the detector has learned from."""
        return self._detector.history_days(household_id)

    def _read_visits(self) -> None:
        """A recorded visit is a sign of life: the elder was seen."""
        for visit in self._state.visits.since(self._visit_cursor):
            self._visit_cursor = max(self._visit_cursor, visit.id or 0)
            if not self._shard.owns(visit.household_id):
                continue
            home = self.homes.setdefault(visit.household_id, HomeState(visit.household_id))
            sign = SignOfLife(visit.household_id, visit.at, SignKind.VISIT, "visit")
            home.note_sign(sign)
            self._detector.learn_one(sign)
            self._dirty.add(visit.household_id)

    def _load_model(self) -> float | None:
        if self._snapshot is None or not isinstance(self._detector, LearnedDetector):
            return None
        try:
            header = snapshot.load(self._detector, self._snapshot)
        except Exception as exc:  # whatever is wrong with it, the stored readings are the truth
            # Found by a tester: a torn or damaged file (numpy raises BadZipFile, EOFError, ...)
            # stopped every role of `shouwang run` from starting, at every restart, until someone
            # deleted it by hand. The model is relearned from the stored readings instead.
            log.warning("detector.snapshot_unreadable path=%s error=%r: relearning from the stored "
                        "readings", self._snapshot, exc)
            return None
        if header is None:
            return None
        self._visit_cursor = int(header["visit_cursor"])
        log.info("detector.snapshot_loaded path=%s households=%d", self._snapshot,
                 len(self._detector.table))
        return float(header["saved_at"])

    def save_model(self, now: float) -> None:
        """Save the learned model (if there is one to save and somewhere to put it)."""
        if self._snapshot is None or not isinstance(self._detector, LearnedDetector):
            return
        try:
            snapshot.save(self._detector, self._snapshot, now=now, visit_cursor=self._visit_cursor)
        except OSError as exc:
            log.warning("detector.snapshot_not_saved path=%s error=%r", self._snapshot, exc)
        self._snapshot_at = now

    def _refresh_contexts(self) -> None:
        registry = self._state.registry
        consenting = self._state.consent.consenting()  # monitoring starts only with consent
        households = registry.households()
        active = {h.id for h in households}
        hubs_by_home: dict[str, list] = {}  # type: ignore[type-arg]
        help_only: dict[str, str] = {}
        for hub in registry.hubs():
            if not self._shard.owns(hub.household_id):
                continue
            if hub.household_id in consenting:
                hubs_by_home.setdefault(hub.household_id, []).append(hub)
            elif hub.household_id in active:
                help_only[hub.id] = hub.household_id
        self._hubs = {hub.id: hub.household_id for hubs in hubs_by_home.values() for hub in hubs}
        self._help_only = help_only
        self._reload_maps()
        checked: dict[str, dict[AlertKind, float]] = {}
        for (household_id, kind), at in self._state.alerts.last_closed_by_staff().items():
            checked.setdefault(household_id, {})[kind] = at
        self._maintenance = self._state.maintenance.live(self._clock.now())
        self._contexts = {
            h.id: self._with_devices(Context(h, tuple(hubs_by_home.get(h.id, ())),
                                             self._watching_since(h.id, h), checked.get(h.id, {}), self._down))
            for h in households
            if hubs_by_home.get(h.id)
        }
        self._devices_changed = False

    def _under_maintenance(self, finding: Finding, now: float) -> bool:
        """A hub-offline finding of a hub or grid under maintenance is expected, not alarming."""
        ctx = self._contexts.get(finding.household_id)
        if finding.kind is not AlertKind.HUB_OFFLINE or ctx is None or not self._maintenance:
            return False
        hub_ids = frozenset(hub.id for hub in ctx.hubs)
        return any(w.covers(grid_id=ctx.household.grid_id, hub_ids=hub_ids, now=now) for w in self._maintenance)

    def _watching_since(self, household_id: str, household: Household) -> float:
        """Since when the detector watches the home: its monitoring start, but never before a
        detector first watched it (remembered across restarts, not this process's start)."""
        memory = self._memory.get(household_id)
        if memory is None:
            memory = self._memory[household_id] = HouseholdMemory(household_id, self._clock.now())
            self._dirty.add(household_id)
        first = memory.watching_since
        return max(household.monitoring_since or first, first)

    def _work(self) -> None:
        next_tick = self._clock.now()
        while not self._stop.is_set():
            wait_s = max(0.0, (next_tick - self._clock.now()) / self._clock.speed)
            messages = self._take(timeout_s=min(wait_s, 1.0))
            if messages:
                try:
                    self._handle(messages)
                    self.health.clear("handle_failed")
                    self._handle_failures.succeeded()
                except Exception as exc:
                    self._handle_failures.failed(exc, f"messages={len(messages)}")
                    self.health.problem("handle_failed", f"readings could not be judged: {exc!r:.200}")
            # A sign of life shows on the page within seconds, not at the next tick.
            if self._dirty and time.monotonic() - self._status_saved >= self._settings.status_flush_s:
                try:
                    self._save_status(self._clock.now())
                    self._status_failures.succeeded()
                except Exception as exc:
                    self._status_failures.failed(exc, f"households={len(self._dirty)}")
            if self._clock.now() >= next_tick:
                try:
                    self.tick(self._clock.now())
                    self.health.clear("tick_failed")
                    self._tick_failures.succeeded()
                except Exception as exc:
                    self._tick_failures.failed(exc)
                    self.health.problem("tick_failed", f"households could not be judged: {exc!r:.200}; "
                                        "no alert opens or clears until a tick works again")
                next_tick = self._clock.now() + self._settings.tick_s
            self._report_shards()  # between ticks too: a tick may be slower than the others wait

    def _take(self, *, timeout_s: float, most: int = 5000) -> list[Message]:
        try:
            messages = [self._queue.get(timeout=timeout_s)]
        except queue.Empty:
            return []
        while len(messages) < most:
            try:
                messages.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return messages

    def _reload_maps(self) -> None:
        self._maps = self._state.devices.maps()
        self._bridges.set_maps(self._maps)
        self._devices_changed = True

    def _bridged(self, message: Message, registers: dict[tuple[str, str], float]) -> list[Reading] | None:
        """A bridge's readings, through the hub's device map (as the gateway reads them); None if
        the message is not a bridge's. `registers`: the newest of each hub sensor read so far."""
        topic = bridge_topic(message.topic, self._prefix)
        if topic is None:
            return None
        at = message.received_at if message.received_at is not None else self._clock.now()
        if topic.hub_id not in self._hubs:
            if topic.hub_id not in self._help_only or message.retain:
                return []
            # Only a help press is read from a home without consent; nothing else is noted.
            readings, _ = self._bridges.read(topic, message.payload, now=at, last_value=lambda *_: None)
            return [r for r in readings if is_help_press(r)]

        def last_value(hub_id: str, sensor: str) -> float | None:
            newest = registers.get((hub_id, sensor))
            return newest if newest is not None else self._validator.last_value(hub_id, sensor)

        readings, translation = self._bridges.read(topic, message.payload, now=at, last_value=last_value)
        for heard in translation.heard:
            self._availability.heard(topic.hub_id, topic.bridge, heard.device)
        for p in translation.presence:
            self._devices_changed |= self._availability.note(p.hub_id, p.bridge, p.device,
                                                             online=p.online, at=p.ts)
        if message.retain:
            return []  # a retained state comes again at every subscription: not new (as the gateway)
        if translation.unmapped is not None and self._looks.allow(topic.hub_id):
            # a device mapped a moment ago: this hub's map only (every hub's, at every batch, is
            # what stalled a gateway of 20,000 hubs, found by a tester)
            entries = [m.entry for m in self._state.devices.map(topic.hub_id)]
            self._maps[topic.hub_id] = entries
            self._bridges.set_hub_map(topic.hub_id, entries)
            self._devices_changed = True
            readings, _ = self._bridges.read(topic, message.payload, now=at, last_value=last_value)
        registers.update(((r.hub_id, r.sensor), r.value) for r in readings if r.kind.is_register)
        return readings

    def _handle(self, messages: list[Message]) -> None:
        decoded: list[Reading] = []
        registers: dict[tuple[str, str], float] = {}
        for message in messages:
            try:
                bridged = self._bridged(message, registers)
                if bridged is not None:
                    decoded.extend(bridged)
                    continue
                topic = topics.parse(message.topic, self._prefix)
                if isinstance(topic, topics.ReadingTopic):
                    decoded.extend(decode_readings(topic, message.payload, self._validator.limits.payload)[0])
            except topics.TopicError:
                continue  # the gateway dead-letters it; the detector only ignores it
            except Exception as exc:  # one bad message costs only itself, not the batch
                log.warning("detector.message_skipped topic=%.200r error=%.200r", message.topic, exc)
        if not decoded:
            return
        now = self._clock.now()
        verdict = self._validator.judge(decoded, hubs=self._hubs, now=now)
        for reading in verdict.accepted:
            self.observe(reading, now)
        presses = [r for r in verdict.accepted if is_help_press(r)] + self._unwatched_presses(decoded, now)
        if presses:
            self._raise_help(presses, now)

    def _unwatched_presses(self, decoded: list[Reading], now: float) -> list[StoredReading]:
        """Help presses from homes whose household gave no consent to sensing, or withdrew it:
        found by a tester, the gateway dead-letters every reading of such a home and the elder's
        press for help was dropped with them. Consent governs the watching; a press is the elder
        asking, and is raised as any press is. Nothing else of the home is read, kept or learned
        (the gateway still keeps none of its readings, this press included)."""
        asked = [r for r in decoded if r.hub_id in self._help_only and is_help_press(r)]
        if not asked:
            return []
        return self._validator.judge(asked, hubs=self._help_only, now=now).accepted

    def _raise_help(self, presses: list[StoredReading], now: float) -> None:
        """Open a help alert at once for each household whose elder pressed for help. A press is
        kept until an alert answers it: found by an attacker, a press that came while the state
        store was away for three seconds was logged and lost, with no alert ever."""
        for press in presses:
            self._presses.setdefault(press.household_id, []).append(press)
        for household_id, waiting in list(self._presses.items()):
            try:
                alerts = self._state.alerts.list(AlertFilter(kind=AlertKind.HELP, household_id=household_id,
                                                             limit=HELP_ALERTS_RECALLED))
                for press in presses_to_raise(waiting, {household_id: [a.since for a in alerts]}):
                    self._alerting.open_now(help_finding(press, self._tz, now), now)
            except Exception as exc:
                log.warning("detector.help_not_raised household=%s presses=%d error=%r", household_id,
                            len(waiting), exc)
                continue
            del self._presses[household_id]
        if self._presses:
            self.health.problem("help_not_raised", f"help presses of {len(self._presses)} household(s) could "
                                "not be raised as alerts yet (is the state store reachable?); tried again "
                                "every tick")
        else:
            self.health.clear("help_not_raised")

    def tick(self, now: float) -> None:
        """Judge every household now: open new alerts, clear those whose condition ended."""
        started = time.perf_counter()
        if self._presses:
            self._raise_help([], now)
        unresolved = {(a.household_id, a.kind): a for a in self._state.alerts.unresolved()
                      if self._shard.owns(a.household_id)}
        # An alert gone since the last tick was closed by staff: they checked, and the silence
        # counts from then. Learn it before judging, or the same silence opens a new alert at once.
        closed_by_staff = bool(self._open_keys - unresolved.keys())
        if closed_by_staff or now - self._contexts_at >= self._settings.registry_refresh_s:
            self._refresh_contexts()
            self._contexts_at = now
        elif self._devices_changed:  # a new mapping of contexts: the detector syncs it once
            self._contexts = {h: self._with_devices(ctx) for h, ctx in self._contexts.items()}
            self._devices_changed = False
        self._read_visits()
        self._report_late_hubs()
        findings, unjudged = alerting.assess(self._detector, now, self.homes, self._contexts)
        self._alerting.apply(findings, unresolved, self.homes, self._contexts, now, unjudged,
                             silenced=lambda finding: self._under_maintenance(finding, now))
        self._open_keys = set(unresolved)
        self._save_status(now)
        if now - self._snapshot_at >= self._settings.learned.snapshot_every_s:
            self.save_model(now)
        self.ticks += 1
        log.debug("detector.tick households=%d findings=%d ms=%.1f", len(self._contexts),
                  len(findings), 1000 * (time.perf_counter() - started))

    def _report_shards(self) -> None:
        """Say this detector runs its shard, and whether the detectors running now watch every
        household once (found by a tester: `--shard 1/2` beside `--shard 1/3`, a typo for 2/2, left
        15 of 40 homes unwatched while both said ok). On the wall clock, every `shard_check_s`: the
        detectors of a community may run on several machines. Judged once every detector has had
        time to say so since this one started (detectors started together are not "missing");
        one not heard of since another of its shard started was replaced (`ShardStore.running`)."""
        wall, every = time.time(), self._settings.shard_check_s
        if wall - self._shard_beat_at < every:
            return
        self._shard_beat_at = wall
        try:
            self._state.shards.beat(self._instance, self._shard, clock_at=self._clock.now())
            running = self._state.shards.running(within_s=SHARD_ALIVE * every)
        except Exception as exc:  # the state store's health is reported by what needs it most
            log.warning("detector.shards_unknown error=%r", exc)
            return
        if wall - self._started_wall < SHARD_ALIVE * every:
            return
        gap = coverage_gap(running)
        if gap is None:
            self.health.clear("shards")
        elif gap != self._shard_gap:
            self.health.problem("shards", gap)
        self._shard_gap = gap

    def _report_late_hubs(self) -> None:
        """Hubs heard steadily late are a problem to fix, not only a way of dating: a clock behind,
        or a bridge delivering late, delays their households' alerts by as much (found by an
        attacker: only a log line said so)."""
        late = self._lateness.late()
        if late == self._late_said:
            return  # said once while it holds, not counted again every tick
        self._late_said = late
        if late:
            listed = ", ".join(f"{hub} {seconds / 60:.0f} min" for hub, seconds in sorted(late.items())[:10])
            lates = sorted(late.values())
            # Many hubs late by the same is this server's clock ahead (found by a tester: an hour
            # ahead, every hub was named, and every home first called offline)
            fix = ("they are all late by about the same: this server's clock is probably ahead; set it "
                   "right (NTP)" if len(lates) >= 3 and lates[-1] - lates[0] <= 600 else
                   "check each hub's clock (or its bridge's delay)")
            self.health.problem("hubs_late", f"{len(late)} hub(s) heard steadily late, their signs dated as "
                                f"heard: {listed}; {fix}", level=logging.WARNING)
        else:
            self.health.clear("hubs_late")

    def _save_rhythms(self, households: set[str], now: float) -> None:
        """What is usual for each home, for the page, when it has changed (the learned detector's)."""
        if not isinstance(self._detector, LearnedDetector):
            return
        changed, keys = {}, {}
        for household_id in households:
            rates = self._detector.weekly_rates(household_id)
            if rates is None:
                continue
            key = tuple(round(r, 3) for r in rates)
            if self._rhythm_saved.get(household_id) != key:
                changed[household_id], keys[household_id] = rates, key
        self._state.rhythm.save(changed, now=now)
        self._rhythm_saved.update(keys)  # only once stored: a failed save is tried again

    def _save_status(self, now: float) -> None:
        self._status_saved = time.monotonic()
        dirty, self._dirty = self._dirty, set()
        statuses, memories = restart.records(
            [h for h in dirty if h in self._contexts], self.homes, self._memory,
            self._detector.history_days, now)
        self._state.status.save(statuses)
        self._save_rhythms(dirty, now)
        self._state.memory.save(memories)
        self._memory.update((m.household_id, m) for m in memories)
