"""Off-the-shelf devices in a home: which bridged device is which sign, and what each was last heard saying.

A home equipped from a shop's shelf has no hub of ours: its bridges (Zigbee2MQTT, Tasmota, Shelly,
wmbusmeters) publish under the hub id given to the home, and the hub's device map names, for each
device the bridges know, the sign it gives ("entrance" is the door, "33225544" the water meter).
"""

from __future__ import annotations

from dataclasses import dataclass

from shouwang.contract.topics import SENSOR_SUFFIX
from shouwang.domain.model import FINE_PRESS, HELP_PRESS, SensorKind

BRIDGES = ("z2m", "tasmota", "shelly", "wmbus")
"""The topic level after the hub id that names a bridge: `shouwang/v1/hubs/{hub}/{bridge}/...`."""
MAX_DEVICE_NAME = 128
EVERY_ACTION = "*"
"""In a button's `fine_actions`: every press of this button says "I am fine" (a 平安键 of its own)."""


@dataclass(frozen=True, slots=True)
class DeviceMap:
    """One entry of a hub's device map: the bridge's name for a device → the sign it gives.

    `device` is the Zigbee2MQTT friendly name, the Tasmota topic, the Shelly topic prefix or the
    wmbusmeters meter id. `sensor` is the reading's sensor name (a second door: "door.balcony");
    it defaults to the kind itself.
    """

    device: str
    kind: SensorKind
    sensor: str = ""
    fine_actions: frozenset[str] = frozenset()
    """For a button: the actions that mean "I am fine" (`EVERY_ACTION` for all); any other press
    asks for help, so a button nobody configured errs on the side of the elder."""
    bridge: str | None = None
    """The bridge the device speaks through, when the installer said (else any of the hub's)."""

    def __post_init__(self) -> None:
        if not self.device or len(self.device) > MAX_DEVICE_NAME:
            raise ValueError(f"a device name must have 1 to {MAX_DEVICE_NAME} characters, got {self.device!r}")
        if not self.sensor:
            object.__setattr__(self, "sensor", self.kind.value)
        head, dot, suffix = self.sensor.partition(".")
        if head != self.kind.value or (dot and not SENSOR_SUFFIX.match(suffix)):
            raise ValueError(f"sensor {self.sensor!r} of device {self.device!r} must be {self.kind.value!r} "
                             f"or {self.kind.value!r} followed by '.' and a name (a-z, 0-9, _ -; up to 32)")
        if self.bridge is not None and self.bridge not in BRIDGES:
            raise ValueError(f"bridge {self.bridge!r} is not one of {', '.join(BRIDGES)}")
        if self.fine_actions and self.kind is not SensorKind.BUTTON:
            raise ValueError(f"only a button has actions that mean \"I am fine\"; {self.device!r} is {self.kind}")

    def press(self, action: str) -> float:
        """A button reading's value for one of its actions: `FINE_PRESS` or `HELP_PRESS`."""
        fine = EVERY_ACTION in self.fine_actions or action in self.fine_actions
        return FINE_PRESS if fine else HELP_PRESS


@dataclass(frozen=True, slots=True)
class MappedDevice:
    """A device map entry as stored: whose hub, and who mapped it when."""

    hub_id: str
    entry: DeviceMap
    created_at: float
    created_by: str


@dataclass(frozen=True, slots=True)
class DeviceSighting:
    """What a hub's bridges said of one device: when first and last heard, how often, its battery
    (0–1) when the bridge sends one, and whether the bridge last called it online."""

    hub_id: str
    bridge: str
    device: str
    first_seen_at: float
    last_seen_at: float
    messages: int
    battery: float | None = None
    online: bool | None = None
    online_at: float | None = None
