"""Dispatch across faults, found by an attacker against `shouwang dispatch` processes over
PostgreSQL.

1. Two dispatch processes at once (an operator's mistake, a rolling update that starts the new one
   before the old stops): every notification whose receiver took a moment to answer was sent
   twice, since each process read the same pending deliveries. A webhook can tell by
   `delivery_id`; an SMS gateway or a WeCom/DingTalk/Feishu robot cannot. Now a delivery is
   claimed before it is sent.
2. After dispatch was down past a rung's wait, the later rungs were timed from the restart, not
   from the ladder: 30 minutes down, a red alert's duty leader (due 20 minutes in) was called 45
   minutes in. Now a rung climbed late leaves the next where the ladder puts it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dispatch.channels import WebhookSender
from dispatch.service import Dispatcher
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Grid, Household, Role, Tier
from shouwang.metrics import Metrics
from shouwang.settings import DispatchSettings
from shouwang.storage.state import StateStore

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


class SlowReceiver:
    """Records each POST's delivery_id; answers after `delay_s` (an SMS gateway, a robot)."""

    def __init__(self, delay_s: float) -> None:
        self.ids: list[Any] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                receiver.ids.append((self.path, body.get("event"), body.get("delivery_id")))
                time.sleep(delay_s)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Clock:
    speed = 1.0

    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


def community(url: str, receiver: SlowReceiver, now: float) -> StateStore:
    state = StateStore.open(url)
    state.registry.add_grid(Grid("g-1", "一网格"))
    for username, role in (("member", Role.GRID_MEMBER), ("head", Role.GRID_HEAD), ("leader", Role.DUTY_LEADER)):
        state.registry.add_staff(username=username, name=username, role=role,
                                 grid_ids=[] if role is Role.DUTY_LEADER else ["g-1"],
                                 webhook_url=receiver.url(username), notify_mqtt=False, now=now)
    state.registry.add_household(Household("hh-1", Tier.RED, "g-1"), now=now)
    return state


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    server = SlowReceiver(delay_s=1.0)
    yield server
    server.close()


def dispatcher(state: StateStore, clock: Any) -> tuple[Dispatcher, WebhookSender]:
    webhooks = WebhookSender(timeout_s=5, secret="community-secret-0123456789")
    settings = DispatchSettings(poll_s=0.05, ladders_min={"red": [5, 15]})
    return Dispatcher(settings=settings, state=state, clock=clock, metrics=Metrics(),
                      senders={Channel.WEBHOOK: webhooks}), webhooks


def test_two_dispatch_processes_do_not_send_a_notification_twice(
        postgres_url: str, receiver: SlowReceiver) -> None:
    now = time.time()
    stores = [community(postgres_url, receiver, now), StateStore.open(postgres_url)]  # one each
    first, hooks1 = dispatcher(stores[0], Clock(now))
    second, hooks2 = dispatcher(stores[1], Clock(now))
    try:
        stores[0].alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, now - 7200, "quiet"), now=now)
        first.run_once()    # routes the alert and starts sending to the grid member
        second.run_once()   # the other process's round, a moment later
        first.wait_idle(10)
        second.wait_idle(10)
    finally:
        first.stop()
        second.stop()
        hooks1.close()
        hooks2.close()
        for s in stores:
            s.close()
    sent = Counter(receiver.ids)
    assert all(n == 1 for n in sent.values()), f"POSTs per (receiver, event, delivery_id): {dict(sent)}"


def test_a_rung_overdue_after_a_dispatch_outage_is_not_pushed_back_by_a_whole_wait(
        sqlite_url: str, receiver: SlowReceiver) -> None:
    opened = time.time() - 3600
    clock = Clock(opened)
    state = community(sqlite_url, receiver, opened)
    service, hooks = dispatcher(state, clock)
    try:
        alert = state.alerts.open(Finding("hh-1", AlertKind.INACTIVITY, Severity.URGENT, opened - 7200, "quiet"),
                                  now=opened)
        service.run_once()                       # the grid member, at once
        clock.t = opened + 30 * 60               # dispatch was down from here to 30 minutes in
        service.run_once()                       # the grid head (due at 5 minutes), late but now
        service.run_once()
        clock.t += 5
        service.run_once()
        level = state.alerts.get(alert.id).escalation_level
        next_at = state.alerts.get(alert.id).next_escalation_at
        service.wait_idle(10)
    finally:
        service.stop()
        hooks.close()
        state.close()
    assert level == 2, (f"30 minutes in, the ladder's duty-leader step (due 20 minutes in) is at level "
                        f"{level}; next escalation at {(next_at - opened) / 60:.0f} minutes in")
