"""`shouwang hubs devices HUB ...`: which off-the-shelf device is which sign of the home."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cli.commands.common import load_settings, open_state
from shouwang.domain.devices import BRIDGES, EVERY_ACTION, DeviceMap, DeviceSighting
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import SensorKind
from shouwang.storage.audit import Actor
from shouwang.storage.state import StateStore

EXAMPLES = """examples:
  shouwang hubs devices h-0042 add "entrance" door            a Zigbee2MQTT door contact
  shouwang hubs devices h-0042 add "hall pir" motion
  shouwang hubs devices h-0042 add "help" button              every press asks for help
  shouwang hubs devices h-0042 add "平安键" button --fine       every press says "I am fine"
  shouwang hubs devices h-0042 add "kitchen plug" electricity  a Tasmota topic or Shelly prefix
  shouwang hubs devices h-0042 add 33225544 water             a wmbusmeters meter id
  shouwang hubs devices h-0042 --unmapped                      what arrived and is not mapped yet"""


def add_parser(hubs: Any) -> None:
    text = "a hub's device map: which Zigbee2MQTT, Tasmota, Shelly or wmbusmeters device is which sign"
    p = hubs.add_parser("devices", help=text, description=text, epilog=EXAMPLES,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("hub_id", help="the hub id the home's bridges publish under")
    p.add_argument("--unmapped", action="store_true",
                   help="list the devices the bridges spoke of that are not mapped yet")
    p.set_defaults(handler=devices_list)
    actions = p.add_subparsers(dest="device_action", metavar="ACTION")
    a = actions.add_parser("add", help="map a device to a sign (again: change its mapping)",
                           description="Map a device to a sign (mapping it again replaces the old entry).")
    a.add_argument("device", help="Zigbee2MQTT friendly name, Tasmota topic, Shelly topic prefix or "
                                  "wmbusmeters meter id")
    a.add_argument("kind", choices=[k.value for k in SensorKind], help="the sign it gives")
    a.add_argument("--sensor", help="the sensor name for a second one of a kind, e.g. door.balcony")
    a.add_argument("--bridge", choices=BRIDGES, help="take it only from this bridge (default any)")
    a.add_argument("--fine", action="store_true", help="a button: every press says \"I am fine\" (平安键)")
    a.add_argument("--fine-action", action="append", default=[], metavar="ACTION",
                   help="a button: this action (e.g. double) says \"I am fine\"; every other asks for help")
    a.add_argument("--by", default="cli", help="who mapped it, for the audit trail (default cli)")
    a.set_defaults(handler=devices_add)
    r = actions.add_parser("remove", help="take a device out of the map")
    r.add_argument("device")
    r.add_argument("--by", default="cli", help="who removed it, for the audit trail (default cli)")
    r.set_defaults(handler=devices_remove)


def _open(args: argparse.Namespace) -> tuple[StateStore, ZoneInfo]:
    settings = load_settings(args)
    return open_state(args, settings), ZoneInfo(settings.timezone)


def devices_add(args: argparse.Namespace) -> int:
    state, _ = _open(args)
    kind = SensorKind(args.kind)
    actions = frozenset({EVERY_ACTION} if args.fine else args.fine_action)
    try:
        entry = DeviceMap(args.device, kind, args.sensor or "", actions, args.bridge)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    state.devices.add(args.hub_id, entry, actor=Actor(args.by), now=time.time())
    print(f"{args.device!r} on hub {args.hub_id} is now {entry.sensor}{_press_words(entry)}")
    return 0


def devices_remove(args: argparse.Namespace) -> int:
    state, _ = _open(args)
    before = state.devices.remove(args.hub_id, args.device, actor=Actor(args.by), now=time.time())
    print(f"{args.device!r} on hub {args.hub_id} is no longer mapped (it was {before.sensor}); "
          "its messages are refused until it is mapped again")
    return 0


def devices_list(args: argparse.Namespace) -> int:
    state, tz = _open(args)
    state.registry.hub(args.hub_id)
    mapped = {m.entry.device: m for m in state.devices.map(args.hub_id)}
    sightings = state.devices.sightings([args.hub_id])
    if args.unmapped:
        waiting = [s for s in sightings if s.device not in mapped]
        if not waiting:
            print(f"no unmapped devices on hub {args.hub_id}")
        for s in waiting:
            print(f"{s.bridge:<8} {s.device!r}: {s.messages} messages, first {_when(s.first_seen_at, tz)}, "
                  f"last {_when(s.last_seen_at, tz)}")
        if waiting:
            print(f"map one with `shouwang hubs devices {args.hub_id} add NAME KIND`")
        return 0
    heard = {s.device: s for s in sightings}
    if not mapped:
        print(f"hub {args.hub_id} has no mapped devices; see `shouwang hubs devices --help`")
    for device, m in mapped.items():
        print(f"{device!r:<24} {m.entry.sensor:<16}{_press_words(m.entry)} {_heard_words(heard.get(device), tz)}")
    unmapped = sum(1 for s in sightings if s.device not in mapped)
    if unmapped:
        print(f"{unmapped} unmapped devices waiting: `shouwang hubs devices {args.hub_id} --unmapped`")
    return 0


def _press_words(entry: DeviceMap) -> str:
    if entry.kind is not SensorKind.BUTTON:
        return ""
    if EVERY_ACTION in entry.fine_actions:
        return " (every press: I am fine)"
    if entry.fine_actions:
        return f" ({', '.join(sorted(entry.fine_actions))}: I am fine; any other press: help)"
    return " (every press: help)"


def _heard_words(s: DeviceSighting | None, tz: ZoneInfo) -> str:
    if s is None:
        return "never heard"
    words = f"last heard {_when(s.last_seen_at, tz)} via {s.bridge}"
    if s.battery is not None:
        words += f", battery {s.battery:.0%}"
    if s.online is False:
        words += ", bridge says offline"
    return words


def _when(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%m-%d %H:%M")
