"""`shouwang api`: the API alone, in several processes: beside a running `shouwang run`, or as the
API role of a district (docker-compose.yml) beside `shouwang gateway`, `detector` and `dispatch`.

`shouwang run` serves the API from the one process that also runs the broker, gateway, detector
and dispatch. Where staff load needs more (the latency goal of p99 under 50 ms at 200 requests
a second holds with two processes on two cores, see README's Benchmarks), this serves the same
state store from `--workers` uvicorn processes on another port, with the same settings. It needs
no broker: its health endpoint is the API's own `GET /health`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.commands.common import load_settings, settings_file

if TYPE_CHECKING:  # FastAPI only where an API is served: every other command starts sooner
    from fastapi import FastAPI

SETTINGS_FILE_ENV = "SHOUWANG_API_SETTINGS_FILE"
"""How the parent hands its --settings file to the worker processes it starts."""


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "api", help="serve the API alone, in several processes",
        description="Serve the API (and web page) alone, from several processes over the same state "
                    "store as a running `shouwang run`, or beside `shouwang gateway`, `detector` and "
                    "`dispatch` in a district. Not for --demo: the demo's fast clock lives in its "
                    "own process.")
    p.add_argument("--workers", type=int, default=2, help="API processes (default 2)")
    p.add_argument("--host", help="listen address (default: settings, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: settings, 8000; use another than "
                                            "`shouwang run`'s)")
    p.set_defaults(handler=handle)


def app_from_environment() -> FastAPI:
    """The API over the configured stores: what each worker process builds for itself."""
    from cli.bootstrap import build_api
    from shouwang.settings import Settings

    file = os.environ.get(SETTINGS_FILE_ENV)
    return build_api(Settings.load(Path(file) if file else None))


def handle(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.engine import make_url

    from cli.bootstrap import ensure_secret, proxy_options
    from shouwang.broker import choose_port
    from shouwang.domain.errors import InvalidInput

    settings = load_settings(args)  # refuses unsafe settings here, before any worker starts
    if args.workers < 1:
        raise InvalidInput("--workers must be at least 1")
    chosen = settings_file(args)
    if chosen is not None:
        os.environ[SETTINGS_FILE_ENV] = str(chosen.resolve())
    ensure_secret(settings)  # made once here, not raced by the workers
    host = args.host or settings.api.host
    port = choose_port(host, args.port if args.port is not None else settings.api.port,
                       what="web server", setting="--port", pick_free=False)
    state = make_url(settings.storage.state_database_url()).render_as_string(hide_password=True)
    print(f"Shouwang API on http://{host}:{port} in {args.workers} process(es), state {state} (the "
          "gateway, detector and dispatch run in `shouwang run` or as `shouwang gateway`, `detector`, "
          "`dispatch`). Ctrl-C stops it.", flush=True)
    uvicorn.run("cli.commands.api:app_from_environment", factory=True, host=host, port=port,
                workers=args.workers, log_level="warning", access_log=False,
                **proxy_options(settings.api.trusted_proxies))
    return 0
