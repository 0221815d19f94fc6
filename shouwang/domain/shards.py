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


def coverage_gap(running: list[tuple[str, Shard]]) -> str | None:
    """What is wrong with the detectors `running` (instance, shard) together, if anything:
    households that no detector watches, or that two watch (`None`: each household exactly once)."""
    if not running:
        return None
    ordered = sorted(running, key=lambda r: (r[1].count, r[1].index))
    named = ", ".join(f"{s.index}/{s.count} ({who})" for who, s in ordered)
    counts = sorted({s.count for _, s in running})
    if len(counts) > 1:
        return (f"the detectors disagree on how many shards there are: {named}; some households are "
                "watched by none of them and some by two: give every detector the same n")
    count = counts[0]
    seen: dict[int, list[str]] = {}
    for who, s in running:
        seen.setdefault(s.index, []).append(who)
    missing = [k for k in range(1, count + 1) if k not in seen]
    twice = {k: who for k, who in seen.items() if len(who) > 1}
    if missing:
        return (f"no detector runs shard{'s' if len(missing) > 1 else ''} "
                f"{', '.join(f'{k}/{count}' for k in missing)}: its households are watched by nobody "
                f"(running: {named}); start `shouwang detector --shard k/{count}` for each")
    if twice:
        return (f"shard{'s' if len(twice) > 1 else ''} {', '.join(f'{k}/{count}' for k in twice)} "
                f"{'run' if len(twice) > 1 else 'runs'} in more than one detector (running: {named}): "
                "their households' alerts are judged twice from part of their readings; stop the extra ones")
    return None
