"""A request-body limit as plain ASGI middleware: 413 before an oversize body is read.

A declared `Content-Length` over the limit is answered at once, the route never called. A body
without one (chunked) is counted as the route reads it: at the limit the 413 goes out, the route
is told the client left, and whatever it answers afterwards is dropped. So at most the limit and
one chunk are ever held, whoever sends.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    pass


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer_413(send: Send, limit: int) -> None:
    body = json.dumps({"error": {
        "code": "payload_too_large",
        "message": f"the request body is larger than {limit} bytes; send less (an import "
                   "may be split into several files)"}}, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """At most `max_bytes` of request body; paths under a prefix in `larger` get their own."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: dict[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.larger.items() if path.startswith(prefix)),
                    self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            log.info("api.body_refused path=%s declared=%d limit=%d", scope["path"], declared,
                     limit)
            await _answer_413(send, limit)
            return
        await _Counted(self.app, limit)(scope, receive, send)


class _Counted:
    """One request whose body is counted as it is read."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self.seen = 0
        self.answered = False  # the 413 went out: the route's own answer is dropped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.seen += len(message.get("body", b""))
                if self.seen > self.limit:
                    log.info("api.body_refused path=%s read=%d limit=%d", scope["path"],
                             self.seen, self.limit)
                    self.answered = True
                    await _answer_413(send, self.limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not self.answered:
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.answered:
                raise
            # The route saw the client "leave" mid-body; that is the 413 already sent.
