"""Publishing simulated homes over MQTT, each hub as its own client with a Last Will."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict

from shouwang.clock import Clock
from shouwang.contract.decode import MAX_BATCH
from shouwang.contract.topics import reading_topic, status_topic
from shouwang.mqtt import MqttClient, Will
from shouwang.settings import MqttSettings
from simulator.devices import BridgeRenderer
from simulator.home import Report, SimulatedHome

log = logging.getLogger(__name__)
OFFLINE = json.dumps({"state": "offline"}).encode()


class HubLink:
    """One hub's connection: its own client id, Last Will and presence."""

    def __init__(self, home: SimulatedHome, settings: MqttSettings, *, own_client: bool,
                 shared: MqttClient | None) -> None:
        self.home = home
        self._settings = settings
        self._prefix = settings.topic_prefix
        self._own = own_client
        self._shared = shared
        self.client: MqttClient | None = None
        self._bridges = BridgeRenderer(home.hub_id, home.tz) if home.bridged else None

    def connect(self, now: float) -> None:
        if self._own:
            self.client = MqttClient(
                self._settings, role="simulator", client_id=f"hub-{self.home.hub_id}",
                will=Will(*self._presence_message(online=False)),
                max_inflight=100, quiet=True,
            )
            self.client.start()
        else:
            self.client = self._shared
        self._status({"state": "online", "ts": now, "battery": 1.0})

    def _presence_message(self, *, online: bool) -> tuple[str, bytes]:
        if self._bridges is not None:
            tail, payload = self._bridges.presence(online)
            return f"{self._prefix}/hubs/{self.home.hub_id}/{tail}", payload
        return status_topic(self._prefix, self.home.hub_id), OFFLINE

    def _status(self, body: dict[str, object]) -> None:
        assert self.client is not None
        topic, payload = self._presence_message(online=body.get("state") != "offline")
        if self._bridges is None:
            payload = json.dumps(body).encode()
        self.client.publish(topic, payload, qos=1, retain=True)

    def send(self, reports: list[Report], *, batch: bool) -> int:
        """Publish reports; in batch mode one array per sensor (a backlog; an equipped home's too,
        see `BridgeRenderer.history`). Returns messages."""
        if self._bridges is not None:
            if not batch:
                return self._send_bridged(reports)
            reports = self._bridges.history(reports)
        sent = 0
        readings: dict[str, list[dict[str, object]]] = defaultdict(list)
        for report in reports:
            if report.sensor == "status":
                sent += self._presence(report)
            elif batch:
                readings[report.sensor].append(report.payload)
            else:
                sent += self._publish(report.sensor, json.dumps(report.payload))
        for sensor, items in readings.items():
            for i in range(0, len(items), MAX_BATCH):
                sent += self._publish(sensor, json.dumps(items[i:i + MAX_BATCH]))
        return sent

    def _send_bridged(self, reports: list[Report]) -> int:
        """As the home's bridges publish: one message per device report, backlog or not."""
        assert self._bridges is not None
        sent = 0
        readings: list[Report] = []
        for report in reports:
            if report.sensor == "status":
                sent += self._send_bridged_messages(readings)
                readings = []
                sent += self._presence(report)
            else:
                readings.append(report)
        return sent + self._send_bridged_messages(readings)

    def _send_bridged_messages(self, reports: list[Report]) -> int:
        assert self._bridges is not None
        messages = self._bridges.render(reports, self.home.now)
        if self.client is None:
            return 0
        for tail, payload in messages:
            self.client.publish(f"{self._prefix}/hubs/{self.home.hub_id}/{tail}", payload, qos=1)
        return len(messages)

    def _publish(self, sensor: str, payload: str) -> int:
        if self.client is None:
            return 0
        self.client.publish(reading_topic(self._prefix, self.home.hub_id, sensor), payload, qos=1)
        return 1

    def _presence(self, report: Report) -> int:
        if report.payload.get("state") == "offline":
            if self._own and self.client is not None:
                self.client.abort()  # the broker publishes our Last Will
                self.client = None
            elif self.client is not None:
                self._status(report.payload)
            return 1
        self.connect(report.ts)
        return 1

    def close(self) -> None:
        if self._own and self.client is not None:
            self.client.stop()


class Simulation:
    """Backfills history as batches, then publishes live on the clock until stopped."""

    def __init__(self, homes: list[SimulatedHome], *, mqtt: MqttSettings, clock: Clock,
                 own_clients_up_to: int = 200) -> None:
        self.homes = homes
        self._clock = clock
        own = len(homes) <= own_clients_up_to
        # The simulator's own login (SHOUWANG_MQTT__SIMULATOR__*), which the generated ACL lets
        # publish under every hub id, for every simulated hub.
        self._shared = None if own else MqttClient(mqtt, role="simulator", client_id="simulator")
        self.links = [HubLink(h, mqtt, own_client=own, shared=self._shared) for h in homes]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0

    def connect(self) -> None:
        if self._shared is not None:
            self._shared.start()
        now = self._clock.now()
        for link in self.links:
            link.connect(now)

    def backfill(self, until: float) -> int:
        """Publish everything up to `until` as backlog arrays; returns messages sent."""
        # Every home is simulated first, then all is published in one burst: simulating the next
        # home between one home's arrays held the GIL long enough, on a loaded machine, for the
        # detector to take that home's arrays more than `reorder_hold_s` apart and to drop the
        # later ones as late (the demo's red home then lost a week of gas and power).
        backlogs = [link.home.advance(until) for link in self.links]
        sent = sum(link.send(reports, batch=True) for link, reports in zip(self.links, backlogs, strict=True))
        self.published += sent
        log.info("simulator.backfilled homes=%d messages=%d", len(self.links), sent)
        return sent

    def drain(self, timeout_s: float) -> bool:
        """Wait until the broker has acknowledged everything published so far."""
        clients = {id(c): c for c in [self._shared, *(link.client for link in self.links)] if c is not None}
        deadline = time.monotonic() + timeout_s
        return all(c.drain(max(deadline - time.monotonic(), 0.0)) for c in clients.values())

    def step(self) -> int:
        now = self._clock.now()
        sent = sum(link.send(link.home.advance(now), batch=False) for link in self.links)
        self.published += sent
        return sent

    def run(self, tick_wall_s: float = 0.1) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("simulator.step_failed")
            self._stop.wait(tick_wall_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        for link in self.links:
            link.close()
        if self._shared is not None:
            self._shared.stop()
