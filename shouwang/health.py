"""What a role process knows of its own state, and the small HTTP endpoint that tells it.

`shouwang gateway`, `detector` and `dispatch` run without the API, so each serves `GET /health`
(200 when nothing is wrong, 503 with the problems) and `GET /metrics` (Prometheus) itself, from a
thread of the standard library's HTTP server. An HTTP endpoint rather than a health file: a
container's health check, a load balancer and Prometheus can all ask it, and an answer proves the
process is alive now, where a file only shows it was alive when it last wrote.

A problem is a named condition (`subscribe_refused`, `publish_refused`, `disconnected`) with a
message saying what to do; it is logged once when it appears, counted in
`shouwang_role_problems_total{role, problem}`, and cleared when the condition ends.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shouwang.metrics import Metrics

log = logging.getLogger(__name__)


class Health:
    """Problems by name, each with what to do about it; thread-safe (paho's thread reports them)."""

    def __init__(self, role: str, metrics: Metrics | None = None) -> None:
        self.role = role
        self.metrics = metrics or Metrics()
        self._problems: dict[str, tuple[str, float]] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def problem(self, name: str, message: str, *, level: int = logging.ERROR) -> None:
        """Report a problem (again): logged when it is new or its message changed."""
        with self._lock:
            known = self._problems.get(name)
            self._problems[name] = (message, time.time())
            self._counts[name] = self._counts.get(name, 0) + 1
        self.metrics.role_problems.labels(role=self.role, problem=name).inc()
        if known is None or known[0] != message:
            log.log(level, "role.problem role=%s problem=%s %s", self.role, name, message)

    def clear(self, name: str) -> None:
        with self._lock:
            gone = self._problems.pop(name, None)
        if gone is not None:
            log.info("role.recovered role=%s problem=%s", self.role, name)

    def count(self, name: str) -> int:
        """How often `name` was reported in this process (for tests and the health answer)."""
        with self._lock:
            return self._counts.get(name, 0)

    @property
    def ok(self) -> bool:
        with self._lock:
            return not self._problems

    def report(self) -> dict[str, Any]:
        with self._lock:
            problems = [{"problem": name, "message": message, "since": at}
                        for name, (message, at) in sorted(self._problems.items())]
            counts = dict(self._counts)
        return {"role": self.role, "status": "ok" if not problems else "failing",
                "problems": problems, "counts": counts}


class HealthServer:
    """`GET /health` and `GET /metrics` for one role, on a thread."""

    def __init__(self, health: Health, host: str, port: int) -> None:
        self.health = health
        self._server = ThreadingHTTPServer((host, port), _handler(health))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host!s}:{self.port}/health"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _handler(health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                report = health.report()
                self._answer(200 if report["status"] == "ok" else 503, "application/json",
                             json.dumps(report, ensure_ascii=False).encode())
            elif self.path == "/metrics":
                self._answer(200, CONTENT_TYPE_LATEST, generate_latest(health.metrics.registry))
            else:
                self._answer(404, "application/json", b'{"error": "GET /health or /metrics"}')

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Health checks every few seconds are not news."""

    return Handler
