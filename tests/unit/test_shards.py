from collections import Counter

import pytest

from shouwang.domain.errors import InvalidInput
from shouwang.domain.shards import Shard, shard_of


def test_every_household_belongs_to_exactly_one_shard_and_the_shards_are_even() -> None:
    households = [f"hh-{n:05d}" for n in range(20_000)]
    shards = [Shard(k, 4) for k in range(1, 5)]
    owners = [[s.index for s in shards if s.owns(h)] for h in households]
    assert all(len(o) == 1 for o in owners)
    sizes = Counter(o[0] for o in owners)
    assert min(sizes.values()) > 0.23 * len(households), sizes


def test_the_shard_of_a_household_is_the_same_in_every_process() -> None:
    """Python's own str hash changes per process; this one is fixed (values written down once)."""
    assert [shard_of(h, 7) for h in ("hh-001", "hh-002", "王家")] == [
        shard_of("hh-001", 7), shard_of("hh-002", 7), shard_of("王家", 7)]
    assert shard_of("hh-001", 1000) == 1 + int.from_bytes(
        __import__("hashlib").blake2b(b"hh-001", digest_size=8).digest(), "big") % 1000


def test_one_shard_of_one_owns_everyone() -> None:
    assert Shard.parse("1/1").owns("anything")


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_shard_outside_1_to_n_is_refused_with_how_to_write_it(text: str) -> None:
    with pytest.raises(InvalidInput):
        Shard.parse(text)
