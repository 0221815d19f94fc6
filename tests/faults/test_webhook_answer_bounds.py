"""A staff member's broken webhook must cost only its own delivery: not the process's memory, and
not a worker for ever.

Found by fault injection: `dispatch.channels.WebhookSender.send` read the receiver's whole answer
into memory (httpx `Client.post`) and its timeouts were per socket operation, not a deadline:
- a receiver answering 200 with an endless (here 300 MB) chunked body grows the dispatching
  process by the body's size (in `shouwang run`, a 2 GB answer took the whole process from 150 MB
  to 3.9 GB, and three such deliveries to 9.3 GB);
- a receiver that sends its headers and then a byte every few seconds kept the delivery "pending,
  0 attempts, no error" for as long as it liked, far past WEBHOOK_TIMEOUT_S.
Every channel now posts through `dispatch.posting.post`: at most 64 KiB of an answer, within the
deadline.
"""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from dispatch.channels import DeliveryFailed, WebhookSender
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Role, Staff

pytestmark = pytest.mark.faults
TIMEOUT_S = 1.0


class EvilReceiver:
    """Reads a request, then answers 200 and either floods `flood_bytes` of chunked body or
    trickles one byte every `trickle_s`."""

    def __init__(self, *, flood_bytes: int = 0, trickle_s: float = 0.0) -> None:
        self.flood_bytes, self.trickle_s = flood_bytes, trickle_s
        self._server = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}/hook"

    def _serve(self) -> None:
        conn, _ = self._server.accept()
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            if self.flood_bytes:
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk, sent = b"x" * (1 << 20), 0
                while sent < self.flood_bytes and not self._stop.is_set():
                    conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                    sent += len(chunk)
                conn.sendall(b"0\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while not self._stop.is_set():
                    conn.sendall(b"x")
                    self._stop.wait(self.trickle_s)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._server.close()


def staff(url: str) -> Staff:
    return Staff(id=1, username="broken", name="broken", role=Role.GRID_MEMBER, webhook_url=url)


@pytest.fixture
def flood() -> Iterator[EvilReceiver]:
    receiver = EvilReceiver(flood_bytes=300 << 20)
    yield receiver
    receiver.close()


@pytest.fixture
def trickle() -> Iterator[EvilReceiver]:
    receiver = EvilReceiver(trickle_s=TIMEOUT_S * 0.6)
    yield receiver
    receiver.close()


def test_a_webhook_answering_an_endless_body_does_not_grow_the_process(flood: EvilReceiver) -> None:
    sender = WebhookSender(timeout_s=TIMEOUT_S, connect_timeout_s=TIMEOUT_S)
    tracemalloc.start()
    try:
        how = sender.send(staff(flood.url), {"event": "test"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sender.close()
    assert peak < 16 << 20, f"one delivery's answer held {peak / 2**20:.0f} MiB in memory"
    assert how == "HTTP 200"  # the receiver took it: its status says so, whatever follows


def test_a_webhook_trickling_its_answer_fails_within_the_timeout(trickle: EvilReceiver) -> None:
    sender = WebhookSender(timeout_s=TIMEOUT_S, connect_timeout_s=TIMEOUT_S)
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(sender.send(staff(trickle.url), {"event": "test"}))
        except Exception as exc:
            outcome.append(exc)

    worker = threading.Thread(target=send, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(TIMEOUT_S * 8)
    took = time.monotonic() - started
    trickle.close()
    worker.join(10)
    sender.close()
    assert took < TIMEOUT_S * 8, (f"send() was still waiting after {took:.1f} s with a "
                                  f"{TIMEOUT_S:g} s timeout; then: {outcome}")
    assert outcome and isinstance(outcome[0], DeliveryFailed), outcome
    assert "did not end within 1 s" in str(outcome[0])


def test_a_robot_whose_answer_is_endless_fails_with_a_reason(flood: EvilReceiver) -> None:
    """A channel that reads the answer's JSON (a WeCom robot) gets no JSON from a flood: a failed
    attempt with its reason, after reading 64 KiB of it."""
    from dispatch.robots import WeComSender
    from shouwang.domain.channels import StaffChannel

    sender = WeComSender(timeout_s=TIMEOUT_S, connect_timeout_s=TIMEOUT_S)
    member = Staff(id=2, username="robot", name="robot", role=Role.GRID_MEMBER,
                   channels=(StaffChannel(Channel.WECOM, flood.url),))
    tracemalloc.start()
    try:
        with pytest.raises(DeliveryFailed,
                           match=r"without a errcode \(an answer of more than 65,536 bytes that is not its JSON\)"):
            sender.send(member, {"event": "test", "text": "测试"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sender.close()
    assert peak < 16 << 20, f"one delivery's answer held {peak / 2**20:.0f} MiB in memory"
