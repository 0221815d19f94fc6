"""One POST to a receiver we do not control, bounded in time and in memory.

httpx's timeouts apply to each socket operation, and `Client.post` reads the whole answer: a
receiver that answers a byte every few seconds would hold a worker for as long as it likes, and
one that answers with an endless body would grow the process until it runs out of memory. Every
notification channel posts through `post` instead: the answer is read as it streams, at most
`MAX_ANSWER_BYTES` of it, and the whole exchange must end within the deadline (give or take one
socket read, which the client's own timeout bounds).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

MAX_ANSWER_BYTES = 64 * 1024
"""What a receiver's answer may hold: a status and a short JSON, never more than a few kB."""


class AnswerTooSlow(httpx.TimeoutException):
    """The receiver's answer did not end within the deadline."""


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    content: bytes
    """The answer's first MAX_ANSWER_BYTES."""
    cut: bool
    """Whether the answer went on past them (what followed was not read)."""
    retry_after: str | None = None
    """The Retry-After header, as sent (seconds, or an HTTP date)."""
    location: str | None = None
    """Where a redirect points (never followed)."""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The answer as JSON; ValueError if it is not, or was cut."""
        if self.cut:
            raise ValueError(f"the answer was longer than {MAX_ANSWER_BYTES} bytes")
        return json.loads(self.content)


def described(answer: Answer) -> str:
    """An answer that is not what was expected, by its size only: found by a tester, its first
    200 characters went into the delivery's error, which the staff member who set the address
    reads back, so an address pointed at an internal service read that service's answers."""
    size = f"more than {MAX_ANSWER_BYTES:,}" if answer.cut else f"{len(answer.content):,}"
    return f"an answer of {size} bytes that is not its JSON"


def post(client: httpx.Client, url: str, *, content: bytes, headers: dict[str, str],
         deadline_s: float) -> Answer:
    """POST `content`; the status and the answer's start. Raises httpx.HTTPError (AnswerTooSlow
    past the deadline). The answer is asked for uncompressed: a small compressed answer could
    unpack into a large one."""
    deadline = time.monotonic() + deadline_s
    with client.stream("POST", url, content=content,
                       headers={**headers, "Accept-Encoding": "identity"}) as response:
        body = bytearray()
        cut = False
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise AnswerTooSlow(f"the answer did not end within {deadline_s:g} s")
            room = MAX_ANSWER_BYTES - len(body)
            if len(chunk) > room:  # the rest is not read: closing the stream drops it
                body += chunk[:room]
                cut = True
                break
            body += chunk
        if time.monotonic() > deadline:
            raise AnswerTooSlow(f"the answer did not end within {deadline_s:g} s")
        return Answer(response.status_code, bytes(body), cut, response.headers.get("retry-after"),
                      response.headers.get("location"))


TRANSIENT = frozenset({408, 425, 429})
"""4xx answers that say "later", not "never"."""
MAX_RETRY_AFTER_S = 3600.0


def retry_after_s(answer: Answer, *, now: float | None = None) -> float | None:
    """The wait a Retry-After header asks for, in seconds (at most an hour), if it says one."""
    text = (answer.retry_after or "").strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    wait = when.timestamp() - (time.time() if now is None else now)
    return min(max(wait, 0.0), MAX_RETRY_AFTER_S)


def refusal(answer: Answer, who: str) -> Exception:
    """What a non-2xx answer means for the delivery. A redirect is never followed (it could lead
    anywhere) and will not change by itself, nor will a 4xx other than "later": found by a tester,
    both were retried for a day as if a receiver's hiccup, the redirect's target unsaid. 5xx and
    "later" are tried again, no sooner than a Retry-After asks."""
    from dispatch.channels import DeliveryFailed, Undeliverable

    code = answer.status_code
    if 300 <= code < 400:
        where = f" to {answer.location[:200]!r}" if answer.location else ""
        return Undeliverable(f"{who} answered {code}, moving{where}: redirects are not followed; "
                             "give the receiver's address as it is now")
    if 400 <= code < 500 and code not in TRANSIENT:
        return Undeliverable(f"{who} refused it: HTTP {code}; check the address (and its token)")
    failed = DeliveryFailed(f"{who} answered {code}")
    failed.retry_after_s = retry_after_s(answer)
    return failed
