"""`shouwang run`: the whole system in one process (and `--demo`: with simulated homes)."""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import shutil
import signal
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cli.bootstrap import ApiServer, System, build
from cli.commands.common import DEMO_DIR, gap_lines, load_settings, positive
from cli.demo import STAFF as DEMO_STAFF
from cli.demo import register
from dispatch.gaps import Gap, channel_gaps, cover_gaps, coverage_gaps
from dispatch.ladders import LadderPolicy
from shouwang.broker import PortInUse, choose_port
from shouwang.clock import Clock, FastClock
from shouwang.domain.errors import ShouwangError
from shouwang.settings import DEMO_COMMUNITY, MqttSettings, Settings
from simulator.population import build_homes, demo_clock_start, demo_equipped, demo_incidents, population
from simulator.publisher import Simulation

log = logging.getLogger(__name__)

BROKER_BACKLOG_SETTINGS = {
    "max_queued_messages": "2000000", "max_inflight_messages": "1000", "persistence": "true",
    "autosave_interval": "60", "persistent_client_expiration": "7d",
}
"""What deploy/mosquitto.conf sets so the broker holds the gateway's backlog (a test keeps them equal)."""


def external_broker_notice(mqtt: MqttSettings) -> str | None:
    """What an external broker must be configured to do, said at every start (we cannot ask it)."""
    if mqtt.embedded:
        return None
    host, port = mqtt.endpoint()[:2]
    sets = ", ".join(f"{key} {value}" for key, value in BROKER_BACKLOG_SETTINGS.items())
    return (f"the external MQTT broker {host}:{port} must keep the gateway's backlog: the gateway "
            "acknowledges a reading only once it is stored, and the broker holds the rest. "
            f"deploy/mosquitto.conf sets {sets}. A default Mosquitto queues only 1,000 messages "
            "for a connected subscriber that falls behind (a burst, hubs replaying an outage) and "
            "silently drops the rest, keeps its queue only in memory (lost when it restarts), and "
            "sends only 20 unacknowledged at a time")


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "run", help="start broker, gateway, detector, dispatch and the API",
        description="Start the whole system in one process: the embedded MQTT broker (unless "
        "SHOUWANG_MQTT__URL names one), the gateway, the detector, dispatch and the API. "
        "With --demo: a fresh demo community with simulated homes on a fast clock.")
    p.add_argument("--demo", action="store_true",
                   help="a fresh demo community with simulated homes on a fast clock")
    p.add_argument("--homes", type=positive(int), default=12, help="simulated homes in the demo (default 12)")
    p.add_argument("--speed", type=positive(float), default=60.0,
                   help="demo clock speed: simulated seconds per real second (default 60)")
    p.add_argument("--history-days", type=float, default=7.0,
                   help="days of simulated history published at demo start (default 7)")
    p.add_argument("--seed", type=int, default=7, help="seed of the demo's simulated homes (default 7)")
    p.add_argument("--duration", type=float, default=None,
                   help="stop after this many real seconds (default: run until Ctrl-C)")
    p.set_defaults(handler=handle)


def hold(data_dir: Path) -> int:
    """Lock the data folder until `os.close` of what it returns, or the process ends however it
    ends: a second `shouwang run` on the same folder would store, detect and alert twice over the
    same files, and a second demo would wipe the first's data under it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ShouwangError(
            f"another `shouwang run` is using {data_dir.resolve()}: stop it first, or give this one "
            "a folder of its own (SHOUWANG_STORAGE__DATA_DIR, or run it from another folder)") from None
    return fd


def handle(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.demo:
        overrides = {"demo": True, "storage": {"data_dir": DEMO_DIR},
                     "dispatch": {"retry_initial_s": 1.0}}
    settings = load_settings(args, **overrides)
    if not args.demo and settings.community == DEMO_COMMUNITY:
        raise ShouwangError(
            "this is not set up as a community yet (its name would be the demo's, 示范社区): run "
            "`shouwang init` here first, or name it with SHOUWANG_COMMUNITY; `shouwang run --demo` "
            "tries the demo")
    held = hold(settings.storage.data_dir)
    try:
        return _run(args, settings)
    finally:
        os.close(held)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.demo:
        for entry in settings.storage.data_dir.iterdir():  # the folder itself holds the lock
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    tz = ZoneInfo(settings.timezone)
    clock: Clock | None = (FastClock(demo_clock_start(time.time(), tz), args.speed)
                           if args.demo else None)
    system = build(settings, clock=clock)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # `docker stop`, systemd: shut down cleanly
    notices: list[str | Gap] = []
    serving = False
    try:
        wanted_mqtt, wanted_api = settings.mqtt.embedded_port, settings.api.port
        if not args.demo:
            _ports_free(settings)  # both said at once, before anything starts
        system.start_broker(pick_free_port=args.demo)
        port = choose_port(settings.api.host, settings.api.port, what="web server",
                           setting="SHOUWANG_API__PORT", pick_free=args.demo)
        settings.api.port = port
        if settings.mqtt.embedded and wanted_mqtt and settings.mqtt.embedded_port != wanted_mqtt:
            notices.append(f"MQTT port {wanted_mqtt} was taken, so the embedded broker uses "
                           f"{settings.mqtt.embedded_port} (choose with SHOUWANG_MQTT__EMBEDDED_PORT)")
        if wanted_api and port != wanted_api:
            notices.append(f"port {wanted_api} was taken, so the API uses {port} "
                           "(choose with SHOUWANG_API__PORT)")
        if settings.api.public_url is None:
            settings.api.public_url = f"http://{settings.api.host}:{port}"
        simulation, tokens, password = _demo(system, args) if args.demo else (None, {}, None)
        if simulation is None:
            system.start_services()
        else:  # the detector starts on the stored history, as after a restart: learned in order
            system.start_gateway()
            system.start_dispatch()
            simulation.connect()
            _store_history(system, simulation)
            system.start_detector()
        assert system.app is not None
        api = ApiServer(system.app, settings.api.host, port,
                        trusted_proxies=settings.api.trusted_proxies)
        api.start()
        system.add_stopper(api.stop)
        if simulation is not None:
            simulation.start()
            system.add_stopper(simulation.stop)
        broker_notice = external_broker_notice(settings.mqtt)
        if broker_notice is not None:
            log.warning("run.external_broker %s", broker_notice)
            notices.append(broker_notice)
        notices += coverage_gaps(system.state.registry.households(), system.state.registry.roster())
        notices += channel_gaps(system.state.registry.roster(),
                                sms_gateway=bool(settings.dispatch.sms_gateway_url))
        notices += _cover_gaps(system, tz)
        unmonitored = len(system.state.registry.households()) - len(system.state.consent.consenting())
        if unmonitored > 0:
            notices.append(f"{unmonitored} household(s) have no recorded consent to sensing and are not "
                           "monitored (`shouwang households consent ID --by NAME`)")
        _banner(system, settings, tokens, notices, password)
        serving = True
        stop.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        if serving:
            print("\nshouwang: stopping…", flush=True)
        system.stop()
    return 0


def _store_history(system: System, simulation: Simulation, timeout_s: float = 120.0) -> None:
    """Publish the demo's history and wait until the gateway has stored it. A detector judging
    while a backlog streams in sees homes whose newest signs are days old (and alerted on them)."""
    simulation.backfill(system.clock.now())
    simulation.drain(timeout_s)
    assert system.gateway is not None
    gateway, deadline, stored = system.gateway, time.monotonic() + timeout_s, -1

    def settled() -> bool:  # idle, and nothing more stored since the last look
        return gateway.stored == stored and gateway.wait_idle(0)

    while not settled() and time.monotonic() < deadline:
        stored = gateway.stored
        gateway.wait_idle(max(deadline - time.monotonic(), 0.0))
        time.sleep(0.5)  # what the broker acknowledged may still be on its way to the gateway
    log.info("run.history_stored readings=%d", gateway.stored)


def _cover_gaps(system: System, tz: ZoneInfo) -> list[Gap]:
    """Holes in the duty roster and in leave cover, as `shouwang roster list` names them."""
    now = system.clock.now()
    return cover_gaps(LadderPolicy.of(system.settings.dispatch), system.state.registry.households(),
                             system.state.registry.roster(), system.state.cover.cover(tz, now=now), now=now,
                             date=lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M"))


def _ports_free(settings: Settings) -> None:
    """Every port this run needs is free, or one error that names each one taken."""
    wanted = [(settings.api.host, settings.api.port, "web server", "SHOUWANG_API__PORT")]
    if settings.mqtt.embedded:
        wanted.insert(0, (settings.mqtt.embedded_host, settings.mqtt.embedded_port, "MQTT broker",
                          "SHOUWANG_MQTT__EMBEDDED_PORT"))
    taken = []
    for host, port, what, setting in wanted:
        try:
            choose_port(host, port, what=what, setting=setting, pick_free=False)
        except PortInUse as exc:
            taken.append(str(exc))
    if taken:
        raise PortInUse("; and ".join(taken))


def _demo(system: System,
          args: argparse.Namespace) -> tuple[Simulation, dict[str, str], str]:
    now = system.clock.now()
    start = now - args.history_days * 86400
    homes = demo_equipped(population(args.homes, seed=args.seed))
    incidents = demo_incidents(homes, now=now, tz=ZoneInfo(system.settings.timezone))
    community = register(system.state, homes, incidents, monitoring_since=start, now=now)
    tz = ZoneInfo(system.settings.timezone)
    simulated = build_homes(homes, start=start, tz=tz, incidents=incidents)
    simulation = Simulation(simulated, mqtt=system.settings.mqtt, clock=system.clock)
    return simulation, community.tokens, community.password


def _banner(system: System, settings: Settings, tokens: dict[str, str], notices: list[str | Gap],
            password: str | None = None) -> None:
    url = settings.api.public_url
    host, port = settings.mqtt.endpoint()[:2]
    broker = f"embedded MQTT broker on {host}:{port}" if settings.mqtt.embedded else f"MQTT {host}:{port}"
    lines = ["", "Shouwang (守望) is running", f"  API       {url}   (docs: {url}/docs)",
             f"  broker    {broker}", f"  data      {settings.storage.data_dir.resolve()}"]
    for notice in notices:
        lines += [f"  note      {notice}"] if isinstance(notice, str) else gap_lines(notice, "  note      ")
    if tokens:
        lines += [f"  clock     demo time runs {system.clock.speed:g}× faster than real time", "",
                  "  Demo staff; each API token sees only what the role allows:"]
        for username, name, role, grids in DEMO_STAFF:
            scope = f"{role.value} {', '.join(grids)}" if grids else role.value
            lines.append(f"    token for {username:<10} {name:<4} {scope:<22} {tokens[username]}")
        prefix = settings.mqtt.topic_prefix
        lines += [
            "",
            f"  web page  {url}/  sign in with a username above, e.g. leader or wang.fang",
            f"            demo password for every demo staff member: {password}",
            "",
            "  Within about a minute a red household silent since last evening raises an inactivity",
            "  alert (the learned detector says why: see `explanation`); unacknowledged, it escalates",
            "  to the grid head after 5 demo minutes and the duty leader after 15 (5 and 15 real",
            "  seconds at 60×; its history shows each step). Watch and answer it:",
            f"    export LEADER={tokens['leader']} CASEWORKER={tokens['chen.jing']}",
            f"    curl -H \"Authorization: Bearer $LEADER\" \"{url}/alerts?kind=inactivity&state=unresolved\"",
            "  and with that alert's id (not always 1: the demo raises others too):",
            f"    curl -X POST -H \"Authorization: Bearer $CASEWORKER\" {url}/alerts/ID/acknowledge",
            f"  Staff notifications are published on MQTT topics {prefix}/staff/<staff id>/alerts, e.g.",
            f"    mosquitto_sub -h {host} -p {port} -t '{prefix}/staff/+/alerts'",
        ]
    lines += ["", "Press Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)
