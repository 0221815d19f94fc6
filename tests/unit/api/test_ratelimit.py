"""The sign-in limiter: growing waits per username and address, kept in a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.ratelimit import Backoff, LoginLimiter, address_key, pair_key
from shouwang.storage.state import StateStore


@pytest.fixture
def state(any_state_url: str) -> Iterator[StateStore]:
    """On SQLite and on PostgreSQL (their upserts and row locks are written apart)."""
    store = StateStore.open(any_state_url)
    yield store
    store.close()


def limiter_over(state: StateStore, *, max_failures: int = 3) -> LoginLimiter:
    return LoginLimiter(state.sign_ins, max_failures=max_failures, first_delay_s=1.0,
                        max_delay_s=60.0, forget_s=600.0)


def fail(limiter: LoginLimiter, username: str, address: str, *, now: float) -> float:
    """One try that fails (the limiter counts it on admission); the wait it was given, if any."""
    return limiter.try_once(username, address, now=now)


def test_waits_start_after_the_free_failures_and_double_up_to_a_ceiling() -> None:
    backoff = Backoff(free_failures=3, first_delay_s=1.0, max_delay_s=60.0)
    assert [backoff.delay_after(n) for n in range(1, 11)] == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay_after(10**6) == 60


def test_an_attackers_tries_get_slower_and_slower(state: StateStore) -> None:
    limiter, now, waits = limiter_over(state), 0.0, []
    for _ in range(3):
        assert fail(limiter, "wang", "10.0.0.66", now=now) == 0
    for _ in range(5):
        wait = fail(limiter, "wang", "10.0.0.66", now=now)
        waits.append(wait)
        assert fail(limiter, "wang", "10.0.0.66", now=now + wait) == 0  # then it may try
        now += wait
    assert waits == [1, 2, 4, 8, 16]


def test_an_attacker_elsewhere_never_slows_the_real_user(state: StateStore) -> None:
    limiter = limiter_over(state)
    for t in range(10):
        limiter.try_once("wang", "10.0.0.66", now=float(t))
    assert limiter.try_once("wang", "10.0.0.66", now=10.0) > 0
    assert limiter.try_once("wang", "192.168.1.20", now=10.0) == 0
    limiter.succeeded("wang", "192.168.1.20", tried_at=10.0)


def test_a_success_forgives_the_pair_but_the_address_keeps_its_failures(
        state: StateStore) -> None:
    limiter = limiter_over(state, max_failures=1)  # 4 free per address over all usernames
    for name in ("a", "b", "c"):
        fail(limiter, name, "10.0.0.1", now=0.0)
    assert limiter.try_once("d", "10.0.0.1", now=0.0) == 0
    limiter.succeeded("d", "10.0.0.1", tried_at=0.0)
    assert state.sign_ins.failures(pair_key("d", "10.0.0.1")) == 0
    assert state.sign_ins.failures(address_key("10.0.0.1")) == 3
    assert fail(limiter, "e", "10.0.0.1", now=0.0) == 0  # the 4th failure: free
    assert limiter.try_once("f", "10.0.0.1", now=0.0) == 1


def test_successes_from_a_shared_address_never_add_up(state: StateStore) -> None:
    limiter = limiter_over(state, max_failures=1)
    for i in range(50):  # a whole office signing in each morning behind one address
        assert limiter.try_once(f"staff{i}", "10.0.0.1", now=float(i)) == 0
        limiter.succeeded(f"staff{i}", "10.0.0.1", tried_at=float(i))
    assert state.sign_ins.failures(address_key("10.0.0.1")) == 0


def test_failures_are_forgotten_after_a_quiet_spell(state: StateStore) -> None:
    limiter = limiter_over(state)
    for _ in range(3):
        fail(limiter, "wang", "10.0.0.66", now=0.0)
    assert limiter.try_once("wang", "10.0.0.66", now=0.5) == 0.5
    assert limiter.try_once("wang", "10.0.0.66", now=700.0) == 0
    assert state.sign_ins.failures(pair_key("wang", "10.0.0.66")) == 1


def test_usernames_are_counted_without_regard_to_case(state: StateStore) -> None:
    limiter = limiter_over(state)
    for name in ("Wang", "WANG", "wang"):
        fail(limiter, name, "10.0.0.66", now=0.0)
    assert limiter.try_once("wAng", "10.0.0.66", now=0.0) > 0


def test_a_success_leaves_the_address_free_for_the_next_user(state: StateStore) -> None:
    limiter = limiter_over(state, max_failures=1)
    for i in range(6):  # someone behind the office's address guessed; the waits have passed
        limiter.try_once(f"guess{i}", "10.0.0.1", now=float(i * 100))
    assert limiter.try_once("wang", "10.0.0.1", now=1000.0) == 0
    limiter.succeeded("wang", "10.0.0.1", tried_at=1000.0)
    assert limiter.try_once("li", "10.0.0.1", now=1000.0) == 0
