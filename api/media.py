"""A request body in a form the route does not read gets 415 and the header that fixes it.

Without this, `curl -d '{...}'` (which says `application/x-www-form-urlencoded`) or a client that
sends no Content-Type meets "Input should be a valid dictionary" and no hint why.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import not_json
from shouwang.contract.decode import nests_deeper

MAX_DEPTH = 32
"""The deepest a request body may nest arrays and objects (ours nest three)."""

WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    return next((value for name, value in scope.get("headers", []) if name == wanted), None)


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in (b"", b"0")
    return _header(scope, b"transfer-encoding") is not None


def expected_type(path: str) -> str:
    """What a route under `path` reads: CSV for imports, a form for the one-time links' pages,
    JSON for everything else."""
    if path.startswith("/imports/"):
        return "text/csv"
    return "application/x-www-form-urlencoded" if path.startswith("/ack/") else "application/json"


class RequireMediaType:
    """415 for a body whose Content-Type is not what the route reads, before the route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WITH_BODY or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        wanted = expected_type(scope["path"])
        sent = (_header(scope, b"content-type") or b"").split(b";")[0].strip().decode("latin-1").lower()
        if sent == wanted or (wanted == "application/json" and sent.endswith("+json")):
            if wanted == "application/json":
                await _json_read(self.app, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"code": "unsupported_media_type", "message": (
            f"the body was sent as {sent[:80] or 'nothing (no Content-Type)'}, but this takes {wanted}; "
            f"send the header 'Content-Type: {wanted}' (curl: -H 'Content-Type: {wanted}')")}},
            ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 415, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


async def _json_read(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """A JSON body that does not parse gets 400 whatever the route, one that reads no body too
    (`POST /alerts/{id}/acknowledge` once took a broken body and acknowledged); the route then
    reads the body as sent. (BodyLimit, outside, has bounded it.)"""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client left, or the body limit answered 413
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    if body.strip():
        why = None
        if nests_deeper(body, MAX_DEPTH):  # the parser recurses: found by an attacker, a 500 each
            why = f"nested more than {MAX_DEPTH} levels deep"
        else:
            try:
                json.loads(body)
            except ValueError as exc:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        if why is not None:
            answer = json.dumps(not_json(why), ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": 400, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
            await send({"type": "http.response.body", "body": answer})
            return
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    await app(scope, replay, send)
