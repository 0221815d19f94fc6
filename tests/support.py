"""Helpers for tests: a real webhook receiver, waiting for a condition, building a system."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cli.bootstrap import System, build
from shouwang.clock import Clock
from shouwang.settings import MqttSettings, Settings


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records every JSON POST; it can fail the first N."""

    def __init__(self, *, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.raw: list[tuple[dict[str, str], bytes]] = []
        """Each delivered POST's headers and body bytes, as sent."""
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append({"path": self.path, **json.loads(body)})
                receiver.raw.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{path}"

    def to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == f"/{path}"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait_for(condition: Callable[[], Any], *, timeout_s: float = 20.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy; fail with `what` if it never is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def settings_for_test(tmp_path: Path, mqtt: MqttSettings, **overrides: Any) -> Settings:
    """Settings for a system in a test: its own data folder, the test's broker, fast dispatch."""
    values: dict[str, Any] = {
        "storage": {"data_dir": tmp_path / "data"},
        "dispatch": {"poll_s": 0.05, "retry_initial_s": 0.1, "retry_max_s": 0.5},
        "gateway": {"flush_interval_s": 0.05},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = values[key] | value
        else:
            values[key] = value
    settings = Settings(**values)
    settings.mqtt = mqtt
    return settings


def build_system(settings: Settings, clock: Clock) -> System:
    return build(settings, clock=clock)


class ServiceReceiver:
    """An HTTP server on 127.0.0.1 standing in for a robot or gateway: it records every POST (path,
    query, headers, body) and answers from a script of (status, JSON) per path, then with success
    as each service says it (Feishu: {"code": 0}, a path with "sms": {"code": 0}, else errcode 0)."""

    def __init__(self, *, hang: bool = False) -> None:
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str], bytes]] = []
        self.script: dict[str, list[tuple[int, dict[str, Any]] | tuple[int, dict[str, Any], dict[str, str]]]] = {}
        """path → answers in turn: (status, JSON) or (status, JSON, headers)"""
        self.hang = threading.Event()
        if hang:
            self.hang.set()
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _, query = self.path.partition("?")
                receiver.requests.append((path, parse_qs(query), dict(self.headers.items()), body))
                if receiver.hang.is_set():
                    receiver._released.wait(30)
                    return
                steps = receiver.script.get(path) or []
                status, answer, *extra = steps.pop(0) if steps else (200, receiver.success(path))
                content = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @staticmethod
    def success(path: str) -> dict[str, Any]:
        if "feishu" in path:
            return {"code": 0, "msg": "success", "data": {}}
        return {"code": 0} if "sms" in path else {"errcode": 0, "errmsg": "ok"}

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{path}"

    def to(self, path: str) -> list[tuple[dict[str, list[str]], dict[str, str], dict[str, Any]]]:
        """(query, headers, JSON body) of each POST to /path."""
        return [(q, h, json.loads(b)) for p, q, h, b in self.requests if p == f"/{path}"]

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


class Silent:
    """A receiver that takes every connection and never answers."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self._held.append(self._server.accept()[0])

    def close(self) -> None:
        self._server.close()
        for held in self._held:
            held.close()


def loopback_name() -> str | None:
    """A host name other than localhost that this machine resolves to a loopback address (from
    /etc/hosts), if it has one: what a staff member could give to reach the machine by name."""
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split("#")[0].split()
        if fields and fields[0].startswith("127."):
            names = [n for n in fields[1:] if "localhost" not in n]
            if names:
                return names[0]
    return None
