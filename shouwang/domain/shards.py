"""Which detector watches which household: `shouwang detector --shard k/n`.

A household belongs to shard `1 + H(id) mod n`, H the first 8 bytes of the id's BLAKE2b digest: the
same on every machine and in every Python (the built-in `hash` of a string changes per process),
so detectors started apart agree on who watches whom without talking to each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shouwang.domain.errors import InvalidInput


def shard_of(household_id: str, count: int) -> int:
    """The shard (1…count) that watches `household_id`."""
    digest = hashlib.blake2b(household_id.encode("utf-8"), digest_size=8).digest()
    return 1 + int.from_bytes(digest, "big") % count


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    """1-based: shard 1/2 and shard 2/2 together watch everyone."""
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise InvalidInput(f"shard {self.index}/{self.count}: k must be between 1 and n")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`k/n`, e.g. `2/4`: the second of four detectors."""
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise InvalidInput(f"--shard {text!r}: write it k/n, e.g. 1/2 for the first of two "
                               "detectors") from None
        return cls(index, count)

    def owns(self, household_id: str) -> bool:
        return self.count == 1 or shard_of(household_id, self.count) == self.index

    @property
    def label(self) -> str:
        return f"{self.index}-of-{self.count}"
