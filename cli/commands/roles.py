"""`shouwang gateway`, `shouwang detector [--shard k/n]`, `shouwang dispatch`: one role per process.

`shouwang run` runs every part in one process; a district runs them apart, against one external
broker (SHOUWANG_MQTT__URL) and one state store (PostgreSQL): any number of gateways on an MQTT 5
shared subscription, detectors sharded by household, one dispatch, the API (`shouwang api`).
Each process logs in to the broker with its role's own credentials and serves a small health
endpoint (GET /health, GET /metrics; SHOUWANG_HEALTH__HOST/PORT or --health-port).
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from sqlalchemy.engine import make_url

from cli.bootstrap import System, build
from cli.commands.common import load_settings
from shouwang.domain.errors import InvalidInput
from shouwang.domain.shards import Shard
from shouwang.health import Health, HealthServer
from shouwang.settings import Settings

DESCRIPTIONS = {
    "gateway": "Store every reading: subscribe to the hubs' topics (an MQTT 5 shared subscription "
               "when SHOUWANG_MQTT__SHARED_GROUP is set, so several gateways split the stream), "
               "validate, write in batches, acknowledge each message once it is committed.",
    "detector": "Judge each household's silence and flows and open alerts. With --shard k/n it "
                "watches only the households whose id hashes to shard k of n (run one per shard).",
    "dispatch": "Route, escalate and deliver alerts: webhooks and the staff's MQTT topics, retried "
                "from the state store until delivered.",
}


def add_parsers(commands: Any) -> None:
    for role, description in DESCRIPTIONS.items():
        p = commands.add_parser(role, help=f"run the {role} alone (one role per process)",
                                description=description)
        if role == "detector":
            p.add_argument("--shard", type=_shard, default=None, metavar="K/N",
                           help="watch only shard K of N (1-based, e.g. 1/2 and 2/2)")
        p.add_argument("--health-port", type=int, default=None,
                       help="port of the health endpoint (default: SHOUWANG_HEALTH__PORT, 8081; 0: any)")
        p.add_argument("--duration", type=float, default=None, help=argparse.SUPPRESS)
        p.set_defaults(handler=handle, role=role)


def _shard(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except InvalidInput as exc:  # argparse says it with the usage line, not as a traceback
        raise argparse.ArgumentTypeError(str(exc)) from None


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    role: str = args.role
    system = build(settings, with_api=False)
    health = Health(role, system.metrics)
    port = settings.health.port if args.health_port is None else args.health_port
    server = HealthServer(health, settings.health.host, port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # `docker stop`: finish what is in hand
    try:
        server.start()
        system.add_stopper(server.stop)
        _start(system, role, health, getattr(args, "shard", None))
        _banner(settings, role, system, server, getattr(args, "shard", None))
        stop.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        system.stop()
    return 0


def _start(system: System, role: str, health: Health, shard: Shard | None) -> None:
    if role == "gateway":
        system.start_gateway(health)
    elif role == "detector":
        system.start_detector(health, shard=shard)
    else:
        system.start_dispatch(health)


def _banner(settings: Settings, role: str, system: System, server: HealthServer,
            shard: Shard | None) -> None:
    connection = settings.mqtt.connection(role)
    what = f"{role} (shard {shard.index}/{shard.count})" if shard else role
    client = {"gateway": system.gateway, "detector": system.detector}.get(role)
    client_id = getattr(client, "client_id", None) or connection.client_id
    state = make_url(settings.storage.state_database_url()).render_as_string(hide_password=True)
    print(f"Shouwang {what} running: MQTT {connection.host}:{connection.port} as "
          f"{connection.username or 'anonymous'} ({client_id}), state {state}, health {server.url}. "
          "Ctrl-C stops it.", flush=True)
