"""Slowing password guessing without locking out the real user.

Failures are counted per username and address, and per address over all usernames (4x as
many allowed), in the state store, so every API process sees the same counts. After the free
failures each further try must wait, the wait doubling up to a ceiling; a key is forgotten after
a quiet spell. An attacker's failures from one address never slow the real user at another.
"""

from __future__ import annotations

from dataclasses import dataclass

from shouwang.storage.sign_ins import SignInAttempts

ADDRESS_FACTOR = 4


@dataclass(frozen=True, slots=True)
class Backoff:
    """Free failures, then waits of first_delay_s * 2**(n - free), at most max_delay_s."""

    free_failures: int
    first_delay_s: float
    max_delay_s: float

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row."""
        if failures < self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures, 60)
        return float(min(self.max_delay_s, self.first_delay_s * 2.0**doublings))


def pair_key(username: str, address: str) -> str:
    return f"pair:{address} {username.lower()}"


def address_key(address: str) -> str:
    return f"addr:{address}"


class LoginLimiter:
    """Admits or refuses a sign-in try; `now` is wall time (UNIX seconds), shared by processes."""

    def __init__(self, attempts: SignInAttempts, *, max_failures: int, first_delay_s: float,
                 max_delay_s: float, forget_s: float) -> None:
        self._attempts = attempts
        self.pair = Backoff(max_failures, first_delay_s, max_delay_s)
        self.address = Backoff(max_failures * ADDRESS_FACTOR, first_delay_s, max_delay_s)
        self.forget_s = forget_s

    def _delay_after(self, key: str, failures: int) -> float:
        policy = self.address if key.startswith("addr:") else self.pair
        return policy.delay_after(failures)

    def try_once(self, username: str, address: str, *, now: float) -> float:
        """0: go ahead (counted as a failure until `succeeded`); else seconds still to wait."""
        keys = [pair_key(username, address), address_key(address)]
        return self._attempts.try_once(keys, now=now, forget_s=self.forget_s,
                                       delay_after=self._delay_after)

    def succeeded(self, username: str, address: str, *, tried_at: float) -> None:
        """The real user got in: their failures from this address are forgiven; the address's
        count over all usernames keeps its earlier failures (or one account would reset it)."""
        self._attempts.succeeded(forgive=pair_key(username, address),
                                 uncount=address_key(address), tried_at=tried_at)
