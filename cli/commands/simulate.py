"""`shouwang simulate`: homes without hardware, published over MQTT to a running Shouwang."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cli.commands.common import load_settings, positive
from shouwang.clock import FastClock, SystemClock
from shouwang.domain.errors import Conflict, InvalidInput
from shouwang.domain.model import Grid, Household, Hub
from shouwang.mqtt import MqttClient
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.state import StateStore
from simulator.devices import device_map
from simulator.incidents import write_ground_truth
from simulator.population import build_homes, equip_with_bridges, parse_incident, population
from simulator.publisher import Simulation


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "simulate", help="publish simulated homes over MQTT",
        description="Publish simulated elders' homes (sim-0001, sim-0002, …) over MQTT to a running "
        "Shouwang, per the v1 contract. Incident kinds: incapacitation, away, hub_power_loss, "
        "network_outage, tap_running, gas_left_on, help_press. With --devices, the homes speak as homes "
        "equipped from a shop's shelf: Zigbee2MQTT door, motion and buttons (a daily \"I am fine\" "
        "press), a Tasmota plug and a wmbusmeters water meter under each hub's id. "
        "Run with the default --speed 1 against `shouwang run`; "
        "faster speeds need a system on the same fast clock (as `shouwang run --demo` does in-process). "
        "Not against a running demo: it simulates its own homes, with the same ids, on a clock 60 times "
        "faster, so these readings would land in its homes as out of time. "
        "It connects to the broker the settings name, as `shouwang run` does: the embedded one on "
        "127.0.0.1:1883 (SHOUWANG_MQTT__EMBEDDED_PORT=PORT if `run` moved it) or SHOUWANG_MQTT__URL.")
    p.add_argument("--homes", type=positive(int), default=12, help="how many homes (default 12)")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same homes and days")
    p.add_argument("--speed", type=positive(float), default=1.0,
                   help="simulated seconds per real second; the system must run on the same clock")
    p.add_argument("--history-days", type=float, default=0.0,
                   help="publish this many days of past readings first, as backlog batches")
    p.add_argument("--incident", action="append", default=[], metavar="KIND:HOME:+START[:DURATION]",
                   help="e.g. incapacitation:sim-0001:+2h or tap_running:sim-0003:+30m:2h")
    p.add_argument("--ground-truth", type=Path, help="write the scripted incidents here (JSON lines)")
    p.add_argument("--register", action="store_true",
                   help="register the simulated households and hubs in the state store first")
    p.add_argument("--devices", action="store_true",
                   help="publish the homes as Zigbee2MQTT, Tasmota and wmbusmeters would (with --register, "
                        "their device maps are registered too)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many real seconds")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    clock = SystemClock() if args.speed == 1.0 else FastClock(time.time(), args.speed)
    now = clock.now()
    try:
        incidents = [parse_incident(text, now=now) for text in args.incident]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    homes = population(args.homes, seed=args.seed)
    if args.devices:
        homes = equip_with_bridges(homes)
    known = {h.home_id for h in homes}
    strangers = sorted({i.home_id for i in incidents} - known)
    if strangers:
        raise InvalidInput(f"no simulated home {', '.join(strangers)}; "
                           f"homes are sim-0001 … sim-{args.homes:04d}")
    start = now - args.history_days * 86400
    simulation = Simulation(build_homes(homes, start=start, tz=ZoneInfo(settings.timezone),
                                        incidents=incidents), mqtt=settings.mqtt, clock=clock)
    probe = MqttClient(settings.mqtt, role="simulator", client_id=f"{settings.mqtt.client_id_prefix}-simulate-probe")
    probe.start()  # first, so an unreachable broker leaves nothing half-registered
    probe.stop()
    if args.register:
        _register(StateStore.open(settings.storage.state_database_url()), homes, now)
    if args.ground_truth:
        write_ground_truth(args.ground_truth, incidents)
    simulation.connect()
    if args.history_days:
        simulation.backfill(clock.now())
    print(f"simulating {len(homes)} homes at {args.speed:g}× (Ctrl-C to stop)", flush=True)
    simulation.start()
    try:
        threading.Event().wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        simulation.stop()
    print(f"published {simulation.published} messages")
    return 0


def _register(state: StateStore, homes: list, now: float) -> None:  # type: ignore[type-arg]
    for grid in sorted({h.grid_id for h in homes}):
        state.registry.add_grid(Grid(grid, grid))
    for home in homes:
        try:
            state.registry.add_household(Household(home.home_id, home.tier, home.grid_id,
                                                   alias=home.alias, address=home.address), now=now)
            state.registry.add_hub(Hub(home.hub_id, home.home_id), now=now)
            for entry in device_map(home.hub_id) if home.bridged else []:
                state.devices.add(home.hub_id, entry, actor=Actor("simulator"), now=now)
            state.consent.record(Consent(home.home_id, home.alias, "self", sensing=True,
                                         share_with_family=False, given_at=now,
                                         note="simulated household"), actor=Actor("simulator"), now=now)
        except Conflict:
            pass  # registered by an earlier run
    state.close()
