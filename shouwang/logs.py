"""Logging: one event name and key=value context per line (or JSON with log_json)."""

from __future__ import annotations

import json
import logging
import sys
import time


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "at": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now, not what it was when logging was configured."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        return None


def configure(level: str = "INFO", *, as_json: bool = False) -> None:
    handler = _StderrHandler()
    if as_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s"))
    handler.set_name("shouwang")
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "shouwang"] + [handler]
    root.setLevel(level.upper())
    for noisy in ("amqtt", "transitions", "httpx", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class RepeatedFailure:
    """A loop's failure, logged with its traceback the first time and then once a minute while
    the same failure repeats, with how often it did. Found by a tester: a 20-second PostgreSQL
    outage wrote 20,768 lines, a traceback every dispatch round, about a gigabyte a day of outage
    on the very disk the data may be on."""

    def __init__(self, logger: logging.Logger, event: str, *, every_s: float = 60.0) -> None:
        self._log, self._event, self._every_s = logger, event, every_s
        self._kind: str | None = None
        self._logged_at = 0.0
        self._since_logged = 0

    def failed(self, exc: BaseException, context: str = "") -> None:
        kind = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
        now = time.monotonic()
        if kind != self._kind:
            self._kind, self._logged_at, self._since_logged = kind, now, 0
            self._log.error("%s %s", self._event, context, exc_info=exc)
        elif now - self._logged_at >= self._every_s:
            self._log.error("%s %s again %d time(s) in %.0f s: %s", self._event, context,
                            self._since_logged + 1, now - self._logged_at, kind)
            self._logged_at, self._since_logged = now, 0
        else:
            self._since_logged += 1

    def succeeded(self) -> None:
        if self._kind is not None:
            self._log.info("%s recovered", self._event)
            self._kind = None
