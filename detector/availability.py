"""Which of a home's bridged devices are unavailable: a device fault, not a silent home.

A bridge says when one of its devices (Zigbee2MQTT `{name}/availability`, Tasmota `LWT`, Shelly
`online`) or the bridge itself (Zigbee2MQTT `bridge/state`) cannot be reached. A mapped device
is *down* while it, or its bridge, was last said offline. A hub whose every mapped device is down
gives no sign, as if it were silent; a home whose every hub is silent or down is blind. A home
with only some devices down is still judged from the signs it can give (see docs/detector.md §5).

Pure: the service feeds it what the bridges said, with the time it was said.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shouwang.domain.devices import BRIDGES, MAX_DEVICE_NAME, DeviceMap

BRIDGE_ITSELF = {"z2m": "bridge"}
"""The device name under which a bridge reports its own availability (its devices go with it)."""
MOST_REMEMBERED = 100_000
"""States remembered in all; beyond this the memory starts again (as after a restart)."""
BACK_AFTER_S = 2700.0
"""A device back after at least this long away restarts its household's silence (its signs could
not come meanwhile); one back after less does not (found by a tester: a plug whose Wi-Fi dropped
for 45 s every hour restarted an elder's silence every hour, and it was never alerted on). The
detector passes its `hub_offline_after_s`, after which a device away is an alert, plus a tick: an
absence is either reported and restarts the silence, or neither (found by a regression tester: with 30
minutes here and 45 there, a plug away 35 minutes of every 45 did both and neither, and a red
home was never alerted on)."""
Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class DeviceDown:
    """A mapped device the bridges say cannot be reached, since when."""

    hub_id: str
    bridge: str
    device: str
    since: float

    @property
    def label(self) -> str:
        return f"{self.device} ({self.bridge})"


@dataclass(frozen=True, slots=True)
class HomeDevices:
    """What the bridges say of one household's mapped devices."""

    down: tuple[DeviceDown, ...] = ()
    hubs_down: frozenset[str] = frozenset()
    """Hubs every mapped device of which is down: they can give no sign."""
    back_at: float | None = None
    """When a device of the home last came back: a silence is counted from then."""


@dataclass(slots=True)
class _State:
    online: bool
    since: float
    """When it last changed (a repeated or redelivered "online" does not move it)."""
    back_at: float | None = None


class Availability:
    """Each bridged device's last availability, and the bridge each device speaks through."""

    def __init__(self, *, back_after_s: float = BACK_AFTER_S) -> None:
        self._back_after_s = back_after_s
        self._states: dict[Key, _State] = {}
        self._bridge_of: dict[tuple[str, str], str] = {}

    def heard(self, hub_id: str, bridge: str, device: str) -> None:
        """A device spoke through `bridge` (for map entries that name no bridge)."""
        if len(self._bridge_of) >= MOST_REMEMBERED:
            self._bridge_of.clear()
        self._bridge_of[(hub_id, device[:MAX_DEVICE_NAME])] = bridge

    def note(self, hub_id: str, bridge: str, device: str, *, online: bool, at: float) -> bool:
        """What a bridge said of a device (or of itself) at `at`; whether the state changed.
        An older word than the one held (a redelivered message, a stored sighting) is ignored."""
        key = (hub_id, bridge, device[:MAX_DEVICE_NAME])
        state = self._states.get(key)
        if state is None:
            if len(self._states) >= MOST_REMEMBERED:
                self._states.clear()
            self._states[key] = _State(online, at)
            if device != BRIDGE_ITSELF.get(bridge):
                self.heard(hub_id, bridge, device)
            return not online
        if at < state.since or state.online == online:
            return False
        if online and at - state.since >= self._back_after_s:
            state.back_at = at
        state.online, state.since = online, at
        return True

    def _bridges_of(self, hub_id: str, entry: DeviceMap) -> list[str]:
        if entry.bridge is not None:
            return [entry.bridge]
        heard = self._bridge_of.get((hub_id, entry.device))
        return [heard] if heard is not None else [b for b in BRIDGES if (hub_id, b, entry.device) in self._states]

    def home(self, hub_ids: Iterable[str], maps: Mapping[str, Iterable[DeviceMap]]) -> HomeDevices:
        """The household of these hubs: its down devices, the hubs that can give no sign, and when
        a device last came back."""
        down: list[DeviceDown] = []
        hubs_down: set[str] = set()
        back: list[float] = []
        for hub_id in hub_ids:
            entries = list(maps.get(hub_id, ()))
            hub_down = bool(entries)
            for entry in entries:
                found = self._down(hub_id, entry, back)
                if found is None:
                    hub_down = False
                else:
                    down.append(found)
            if hub_down:
                hubs_down.add(hub_id)
        return HomeDevices(tuple(down), frozenset(hubs_down), max(back, default=None))

    def _down(self, hub_id: str, entry: DeviceMap, back: list[float]) -> DeviceDown | None:
        """The entry's device, down since when (None if reachable or nothing was said)."""
        for bridge in self._bridges_of(hub_id, entry):
            states = [self._states.get((hub_id, bridge, entry.device))]
            if bridge in BRIDGE_ITSELF:
                states.append(self._states.get((hub_id, bridge, BRIDGE_ITSELF[bridge])))
            known = [s for s in states if s is not None]
            back += [s.back_at for s in known if s.back_at is not None]
            off = [s.since for s in known if not s.online]
            if off:
                return DeviceDown(hub_id, bridge, entry.device, min(off))
        return None
