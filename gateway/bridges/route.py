"""Which bridge a topic names, and a bridge message turned into the contract's readings with the
hub's device map. Shared by the gateway (which stores and dead-letters) and the detector (which only
reads), so both see a bridged home the same way. Pure: the caller supplies maps, time and zone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo

from gateway.bridges import TRANSLATORS
from gateway.bridges.devices import DeviceMap, Translation, device_map, flag_resets
from shouwang.domain.model import HUB_ID, Reading


@dataclass(frozen=True, slots=True)
class BridgeTopic:
    """`shouwang/v1/hubs/{hub_id}/{bridge}/{tail}`."""

    hub_id: str
    bridge: str
    tail: str


def bridge_topic(topic: str, prefix: str) -> BridgeTopic | None:
    """The bridge message a topic names; None for the v1 contract's topics and anything else."""
    head = f"{prefix}/hubs/"
    if not topic.startswith(head):
        return None
    hub_id, _, rest = topic[len(head):].partition("/")
    bridge, slash, tail = rest.partition("/")
    if not slash or bridge not in TRANSLATORS or not HUB_ID.fullmatch(hub_id):
        return None
    return BridgeTopic(hub_id, bridge, tail)


class BridgeReader:
    """Each hub's device map by bridge, and a bridge message through its translator into readings."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._maps: dict[tuple[str, str], dict[str, DeviceMap]] = {}

    def set_maps(self, maps: Mapping[str, Iterable[DeviceMap]]) -> None:
        """hub id → its map entries; an entry naming a bridge applies to that bridge only."""
        by_bridge: dict[tuple[str, str], dict[str, DeviceMap]] = {}
        for hub_id, entries in maps.items():
            entries = list(entries)
            for bridge in TRANSLATORS:
                by_bridge[(hub_id, bridge)] = device_map(e for e in entries if e.bridge in (None, bridge))
        self._maps = by_bridge

    def set_hub_map(self, hub_id: str, entries: Iterable[DeviceMap]) -> None:
        """One hub's map entries, the others' as they were (a device mapped a moment ago)."""
        entries = list(entries)
        for bridge in TRANSLATORS:
            self._maps[(hub_id, bridge)] = device_map(e for e in entries if e.bridge in (None, bridge))

    def devices(self, hub_id: str, bridge: str) -> Mapping[str, DeviceMap]:
        return self._maps.get((hub_id, bridge), {})

    def read(self, topic: BridgeTopic, payload: bytes, *, now: float,
             last_value: Callable[[str, str], float | None]) -> tuple[list[Reading], Translation]:
        """The readings one message gives (a restarted register marked `reset` against `last_value`,
        the newest value known for a hub sensor), and its whole translation."""
        translation = TRANSLATORS[topic.bridge](topic.hub_id, topic.tail, payload,
                                                self.devices(topic.hub_id, topic.bridge), now=now, tz=self.tz)
        last: dict[tuple[str, str], float] = {}
        for reading in translation.readings:
            value = last_value(reading.hub_id, reading.sensor)
            if value is not None:
                last[(reading.hub_id, reading.sensor)] = value
        return [r.to_reading() for r in flag_resets(translation.readings, last)], translation


class MapLooks:
    """When a hub's map may be read again for a device it lacks: at most every `every_s` per hub
    (found by a tester: every hub's map re-read for one unmapped thermometer stalled a district's
    gateway). Shared by the gateway and the detector."""

    def __init__(self, every_s: float = 2.0, most: int = 100_000) -> None:
        self._every_s = every_s
        self._most = most
        self._last: dict[str, float] = {}

    def allow(self, hub_id: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(hub_id, float("-inf")) <= self._every_s:
            return False
        if len(self._last) >= self._most:
            self._last.clear()
        self._last[hub_id] = now
        return True
