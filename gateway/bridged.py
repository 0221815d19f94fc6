"""The gateway's side of homes equipped with off-the-shelf bridges: each hub's device map (refreshed
from the registry), the devices each batch heard, and what the bridges say of their availability.

An unmapped device is dead-lettered once (the first time it is heard, by this gateway or any before
it: the sightings table remembers), then only counted, so an installer sees it with
`shouwang hubs devices HUB --unmapped` without a letter for every message it sends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo

from gateway.bridges.devices import DevicePresence, Translation
from gateway.bridges.route import BridgeReader, BridgeTopic, MapLooks
from shouwang.contract.decode import Rejection
from shouwang.domain.devices import MAX_DEVICE_NAME, DeviceSighting
from shouwang.domain.model import HubPresence, Reading
from shouwang.storage.state import StateStore

MISS_RELOAD_S = 2.0
"""An unmapped device reloads the maps at most this often: a device mapped a moment ago is taken."""
MOST_REMEMBERED = 100_000
"""Devices remembered as already dead-lettered; beyond this the memory starts again (a letter more each)."""
Key = tuple[str, str, str]


@dataclass
class Heard:
    """What one batch heard from bridged devices and their availability."""

    sightings: dict[Key, DeviceSighting] = field(default_factory=dict)
    presence: list[DevicePresence] = field(default_factory=list)

    def add(self, topic: BridgeTopic, translation: Translation, at: float) -> None:
        for heard in translation.heard:
            key = (topic.hub_id, topic.bridge, heard.device[:MAX_DEVICE_NAME])
            before = self.sightings.get(key)
            battery = heard.battery if heard.battery is not None else (before.battery if before else None)
            first = min(at, before.first_seen_at) if before else at
            last = max(at, before.last_seen_at) if before else at
            self.sightings[key] = DeviceSighting(*key, first, last, (before.messages if before else 0) + 1,
                                                 battery)
        self.presence.extend(translation.presence)


class BridgeIntake:
    def __init__(self, state: StateStore, *, tz: tzinfo, refresh_s: float) -> None:
        self.reader = BridgeReader(tz)
        self._state = state
        self._refresh_s = refresh_s
        self._loaded_at = float("-inf")
        self._looks = MapLooks(MISS_RELOAD_S, MOST_REMEMBERED)
        self._lettered: set[Key] = set()
        self._online: dict[str, dict[tuple[str, str], bool]] = {}

    def reload(self) -> None:
        self.reader.set_maps(self._state.devices.maps())
        sightings = self._state.devices.sightings()
        self._lettered = {(s.hub_id, s.bridge, s.device) for s in sightings}
        self._online = {}
        for s in sightings:
            if s.online is not None:
                self._online.setdefault(s.hub_id, {})[(s.bridge, s.device)] = s.online
        self._loaded_at = time.monotonic()

    def read(self, topic: BridgeTopic, payload: bytes, *, at: float,
             last_value: Callable[[str, str], float | None]) -> tuple[list[Reading], Translation, list[Rejection]]:
        """Readings, the translation, and the rejections to dead-letter (an unmapped device's only once)."""
        if time.monotonic() - self._loaded_at > self._refresh_s:
            self.reload()
        readings, translation = self.reader.read(topic, payload, now=at, last_value=last_value)
        if translation.unmapped is not None and self._looks.allow(topic.hub_id):
            # only this hub's map (found by a tester: one unmapped thermometer anywhere re-read
            # every hub's map and sighting at every batch, and 20,000 hubs' ingest fell to 15/s)
            self.reader.set_hub_map(topic.hub_id, [m.entry for m in self._state.devices.map(topic.hub_id)])
            readings, translation = self.reader.read(topic, payload, now=at, last_value=last_value)
        rejections = translation.rejections
        if translation.unmapped is not None:
            key = (topic.hub_id, topic.bridge, translation.unmapped[:MAX_DEVICE_NAME])
            if key in self._lettered:
                rejections = [r for r in rejections if r.category != "unmapped"]
            else:
                if len(self._lettered) >= MOST_REMEMBERED:
                    self._lettered.clear()
                self._lettered.add(key)
        return readings, translation, rejections

    def commit(self, heard: Heard) -> None:
        """Keep what the batch heard, and each bridged hub's presence: online while any of its
        bridges or devices says so, offline when the last one says it went."""
        self._state.devices.heard(heard.sightings.values())
        changed: dict[str, float] = {}
        for p in heard.presence:
            self._state.devices.record_presence(p.hub_id, p.bridge, p.device, online=p.online, at=p.ts)
            self._online.setdefault(p.hub_id, {})[(p.bridge, p.device[:MAX_DEVICE_NAME])] = p.online
            changed[p.hub_id] = max(p.ts, changed.get(p.hub_id, p.ts))
        for hub_id, at in changed.items():
            state = "online" if any(self._online[hub_id].values()) else "offline"
            self._state.registry.record_presence(HubPresence(hub_id, state, at))
