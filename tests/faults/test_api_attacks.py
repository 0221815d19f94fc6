"""The API as an attacker would try it: huge bodies, password guessing, forged client addresses,
a token that should be dead, curious scrapers. Against a real uvicorn server where the network
matters (client addresses, bodies on the wire), else the real app through TestClient."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import ApiContext
from api.ratelimit import LoginLimiter
from cli.bootstrap import ApiServer
from shouwang.broker import free_port
from shouwang.metrics import Metrics
from shouwang.storage.credentials import Credentials
from shouwang.storage.state import StateStore
from tests.integration.api.conftest import FAST_HASHER, PASSWORD, Community, build_community

pytestmark = pytest.mark.faults

MIB = 1 << 20
ATTACKER = "127.0.0.2"  # any 127/8 address is this machine; the real user comes from 127.0.0.1


@dataclass
class Served:
    community: Community
    server: ApiServer
    seen: list[int]
    """Body bytes the probe route got, one entry per request that reached it."""

    @property
    def port(self) -> int:
        return self.server.port

    def client(self, address: str = "127.0.0.1") -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=self.server.url, transport=transport)


def serve(tmp_path: Path, *, trusted_proxies: tuple[str, ...] = (), **api: object) -> Served:
    community = build_community(tmp_path, **api)
    app: FastAPI = community.client.app  # type: ignore[assignment]
    seen: list[int] = []

    @app.post("/probe")
    async def probe(request: Request) -> dict[str, int]:
        body = await request.body()
        seen.append(len(body))
        return {"read": len(body)}

    server = ApiServer(app, "127.0.0.1", free_port(), trusted_proxies=trusted_proxies)
    server.start()
    return Served(community, server, seen)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    built = serve(tmp_path)
    built.community.give_passwords()
    yield built
    built.server.stop()
    built.community.client.close()
    built.community.readings.close()
    built.community.state.close()


def memory_mib(field: str) -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def restart_peak() -> None:
    """Make VmHWM count from now (Linux: writing 5 to clear_refs resets the peak)."""
    Path("/proc/self/clear_refs").write_text("5")


def push(port: int, path: str, *, total: int, chunked: bool) -> tuple[int | None, int, bytes]:
    """POST `total` bytes in 64 KiB pieces, stopping as soon as an answer comes.

    Returns the answer's status (None if the connection broke first), the bytes pushed, and the
    answer's raw text.
    """
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total}\r\n\r\n"
    piece, sent, answer = b" " * 65536, 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            while sent < total:
                # Wait a moment for an early answer, as a client sending Expect: 100-continue
                # would; once the connection closes under unsent bytes, the answer may be lost.
                if select.select([sock], [], [], 0.02)[0]:
                    break
                sock.sendall(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
                sent += len(piece)
            if chunked and sent >= total:
                sock.sendall(b"0\r\n\r\n")
            while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except (BrokenPipeError, ConnectionResetError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, sent, answer


def test_a_declared_oversize_body_is_refused_before_the_route_reads_it(served: Served) -> None:
    status, sent, answer = push(served.port, "/probe", total=100 * MIB, chunked=False)
    assert status == 413
    assert b'"code":"payload_too_large"' in answer and b"cache-control: no-store" in answer
    assert sent < 8 * MIB  # answered at the headers, not after the body
    assert served.seen == []


def test_a_chunked_body_is_cut_off_at_the_limit(served: Served) -> None:
    status, sent, answer = push(served.port, "/probe", total=100 * MIB, chunked=True)
    assert status == 413, answer[:300]
    assert sent < 8 * MIB
    assert served.seen == []  # the route never got a body to work on


def test_a_body_within_the_limit_still_reaches_the_route(served: Served) -> None:
    status, _, answer = push(served.port, "/probe", total=512 * 1024, chunked=True)
    assert status == 200, answer[:300]
    assert served.seen == [512 * 1024]


@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"a":' * 30_000, b'{"username": ' + b"[" * 40 + b"]" * 40 + b"}"])
def test_a_deeply_nested_body_is_a_bad_request_not_a_500(served: Served, body: bytes) -> None:
    """Found by an attacker: 50 KB of "[" (well under the size limit) made the JSON parser recurse
    past Python's limit, and every JSON route answered 500 with a long traceback, signed in or not."""
    with served.client() as client:
        answer = client.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text[:300]
    error = answer.json()["error"]
    assert error["code"] == "bad_request" and "nested more than 32 levels" in error["message"]

def test_four_huge_anonymous_bodies_leave_the_servers_memory_alone(served: Served) -> None:
    restart_peak()
    before, results = memory_mib("VmRSS"), []

    def attack(chunked: bool) -> None:
        results.append(push(served.port, "/auth/login", total=100 * MIB, chunked=chunked)[:2])

    threads = [threading.Thread(target=attack, args=(i % 2 == 0,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _ in results] == [413] * 4
    # The API runs in this process. Before the limit, one worker's peak went 98 -> 1146 MB.
    assert memory_mib("VmHWM") - before < 40


def test_the_real_user_signs_in_from_home_while_an_attacker_guesses_elsewhere(
        served: Served) -> None:
    with served.client(ATTACKER) as attacker, served.client() as home:
        guesses = [attacker.post("/auth/login", json={"username": "member1",
                                                      "password": f"guess{i}"}).status_code
                   for i in range(12)]
        assert guesses[:5] == [401] * 5 and set(guesses[5:]) == {429}
        real = home.post("/auth/login", json={"username": "member1", "password": PASSWORD})
        assert real.status_code == 200, real.text


def test_an_attackers_waits_grow_with_each_failure(served: Served) -> None:
    wall, waits = served.community.wall, []
    with served.client(ATTACKER) as attacker:
        def guess() -> httpx.Response:
            return attacker.post("/auth/login", json={"username": "member1", "password": "no"})

        for _ in range(5):
            assert guess().status_code == 401
        for _ in range(5):
            refused = guess()
            assert refused.status_code == 429
            waits.append(int(refused.headers["Retry-After"]))
            wall.offset += waits[-1]
            assert guess().status_code == 401  # once the wait is over, one more try
    assert waits == [1, 2, 4, 8, 16]


def second_instance(community: Community, url: str) -> tuple[TestClient, StateStore]:
    """Another API process: its own app, store connection and token memory, the same database."""
    state = StateStore.open(url)
    state.credentials = Credentials(state.engine, state.registry, hasher=FAST_HASHER)
    settings = community.client.app.state.context.settings  # type: ignore[attr-defined]
    context = ApiContext(settings=settings, state=state, readings=community.readings,
                         clock=community.clock, metrics=Metrics(), wall=community.wall)
    return TestClient(create_app(context)), state


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[Community, TestClient]]:
    community = build_community(tmp_path)
    community.give_passwords()
    other, state = second_instance(community, f"sqlite:///{tmp_path / 'state.db'}")
    yield community, other
    other.close()
    state.close()
    community.client.close()
    community.readings.close()
    community.state.close()


def test_failures_in_one_process_count_in_another(
        two_instances: tuple[Community, TestClient]) -> None:
    community, other = two_instances
    answers = [(community.client if i % 2 else other).post(
        "/auth/login", json={"username": "head1", "password": "no"}).status_code
        for i in range(6)]
    assert answers == [401] * 5 + [429]


def test_a_retired_staff_members_token_is_refused_at_once_by_another_process(
        two_instances: tuple[Community, TestClient]) -> None:
    community, other = two_instances
    token = other.post("/auth/login", json={"username": "member1",
                                            "password": PASSWORD}).json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    assert other.get("/auth/me", headers=mine).status_code == 200  # now remembered there
    member1 = community.staff["member1"].id
    retired = community.client.post(f"/staff/{member1}/retire", headers=community.auth("admin"))
    assert retired.status_code == 200, retired.text
    assert other.get("/auth/me", headers=mine).status_code == 401


def test_a_revoked_api_token_is_refused_at_once_by_another_process(
        two_instances: tuple[Community, TestClient]) -> None:
    community, other = two_instances
    created = community.client.post("/auth/tokens", json={"name": "platform", "password": PASSWORD},
                                    headers=community.auth("leader")).json()
    theirs = {"Authorization": f"Bearer {created['token']}"}
    assert other.get("/alerts", headers=theirs).status_code == 200
    community.client.post(f"/auth/tokens/{created['id']}/revoke", headers=community.auth("leader"))
    assert other.get("/alerts", headers=theirs).status_code == 401


def test_a_demotion_counts_at_once_in_another_process(
        two_instances: tuple[Community, TestClient]) -> None:
    community, other = two_instances
    head = community.auth("head1")
    assert other.get("/auth/me", headers=head).json()["role"] == "grid_head"
    community.state.registry.update_staff(community.staff["head1"].id, role="grid_member")
    assert other.get("/auth/me", headers=head).json()["role"] == "grid_member"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(served: Served) -> None:
    with served.client() as client:
        answers = [client.post("/auth/login", json={"username": f"user{i}", "password": "no"},
                               headers={"X-Forwarded-For": f"10.0.{i}.1"}).status_code
                   for i in range(21)]
        assert answers[:20] == [401] * 20 and answers[20] == 429  # 40 of 40 got through before
        served.community.wall.offset += 1  # the address's wait
        signed_in = client.post("/auth/login", json={"username": "leader", "password": PASSWORD},
                                headers={"X-Forwarded-For": "10.9.9.9"})
        assert signed_in.status_code == 200
    assert signed_in_from(served.community.state) == ["127.0.0.1"]


def test_forwarded_for_from_a_configured_proxy_names_the_client(tmp_path: Path) -> None:
    built = serve(tmp_path, trusted_proxies=("127.0.0.0/8",))
    try:
        built.community.give_passwords()
        with built.client() as client:
            signed_in = client.post("/auth/login", headers={"X-Forwarded-For": "10.9.9.9"},
                                    json={"username": "leader", "password": PASSWORD})
            assert signed_in.status_code == 200
        assert signed_in_from(built.community.state) == ["10.9.9.9"]
    finally:
        built.server.stop()
        built.community.client.close()
        built.community.readings.close()
        built.community.state.close()


def signed_in_from(state: StateStore) -> list[str]:
    return [e.details["address"] for e in state.audit.since(0) if e.action == "signed_in"]


def test_metrics_answer_only_their_own_token(tmp_path: Path) -> None:
    community = build_community(tmp_path, metrics_token="a-long-scraper-token-0123")
    client = community.client
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=community.auth("admin")).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer a-long-scraper-token-0124"}
                      ).status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": "Bearer a-long-scraper-token-0123"})
    assert scraped.status_code == 200 and "shouwang_alerts_unresolved" in scraped.text
    client.close()
    community.readings.close()
    community.state.close()


def test_answers_with_personal_data_are_never_cached(tmp_path: Path) -> None:
    community = build_community(tmp_path)
    client = community.client
    for response in (client.get("/households", headers=community.auth("leader")),
                     client.get("/auth/me", headers=community.auth("member1")),
                     client.get("/exports/households.csv", headers=community.auth("admin")),
                     client.get("/households/nope", headers=community.auth("leader")),
                     client.get("/auth/me"),
                     client.get("/health")):
        assert response.headers["cache-control"] == "no-store", response.request.url
    assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")
    client.close()
    community.readings.close()
    community.state.close()


def test_simultaneous_guesses_through_two_processes_get_only_the_free_tries(
        any_state_url: str) -> None:
    stores = [StateStore.open(any_state_url) for _ in range(2)]
    limiters = [LoginLimiter(s.sign_ins, max_failures=5, first_delay_s=1.0, max_delay_s=60.0,
                             forget_s=600.0) for s in stores]
    start, admitted = threading.Barrier(20), []

    def guess(i: int) -> None:
        start.wait()
        if limiters[i % 2].try_once("wang", ATTACKER, now=1000.0) == 0:
            admitted.append(i)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for store in stores:
        store.close()
    assert len(admitted) == 5


def test_one_member_of_staff_holds_at_most_four_live_feeds_and_replays_a_bounded_past(
        tmp_path: Path) -> None:
    """Found by an attacker: one token held 300 live feeds, each polling the store every second,
    and every other user's requests got forty times slower; "Last-Event-ID: 0" replayed the
    whole audit trail to each."""
    from contextlib import ExitStack

    from api.routes.live import REPLAY_MOST, STREAMS_PER_STAFF
    from tests.support import wait_for

    served = serve(tmp_path, live_poll_s=0.05, live_max_s=60.0)
    try:
        leader = served.community.auth("leader")
        newest = served.community.state.audit_query.last_id()
        with httpx.Client(base_url=served.server.url, timeout=10) as client, ExitStack() as open_feeds:
            first_ids, reading = [], []  # each feed's reader kept: a reader let go closes its feed
            for _ in range(STREAMS_PER_STAFF):
                feed = open_feeds.enter_context(client.stream("GET", "/events",
                                                              headers={**leader, "Last-Event-ID": "0"}))
                assert feed.status_code == 200
                reading.append(feed.iter_text())
                first_ids.append(int(next(reading[-1]).split("id: ", 1)[1].split()[0]))
            assert first_ids == [max(0, newest - REPLAY_MOST)] * STREAMS_PER_STAFF
            reading.clear()
            open_feeds.close()
            # A burst at once gets no more (found by a tester: counted once each began, 11 of 12 did)
            wait_for(lambda: not any(served.community.client.app.state.live_streams.values()),
                     what="the feeds closed")
            with ExitStack() as burst_feeds:
                def one() -> int:
                    feed = burst_feeds.enter_context(client.stream("GET", "/events", headers=leader))
                    return feed.status_code
                threads = [threading.Thread(target=lambda: statuses.append(one())) for _ in range(12)]
                statuses: list[int] = []
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                assert sorted(statuses) == [200] * STREAMS_PER_STAFF + [429] * (12 - STREAMS_PER_STAFF)
            wait_for(lambda: not any(served.community.client.app.state.live_streams.values()),
                     what="the burst's feeds closed")
            for _ in range(STREAMS_PER_STAFF):
                feed = open_feeds.enter_context(client.stream("GET", "/events",
                                                              headers={**leader, "Last-Event-ID": "0"}))
                assert feed.status_code == 200
                reading.append(feed.iter_text())
                next(reading[-1])
            refused = client.get("/events", headers=leader)
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
            assert "live feeds open" in refused.json()["error"]["message"]
            other = client.stream("GET", "/events", headers=served.community.auth("member1"))
            with other as feed:  # someone else is not refused
                assert feed.status_code == 200
            reading.clear()
            open_feeds.close()  # pages closed: the feeds end, and a new one opens

            def opens() -> bool:
                with client.stream("GET", "/events", headers=leader) as feed:
                    return feed.status_code == 200
            wait_for(opens, timeout_s=10, what="a feed opened again once the others closed")
    finally:
        served.server.stop()
        served.community.client.close()
        served.community.readings.close()
        served.community.state.close()
