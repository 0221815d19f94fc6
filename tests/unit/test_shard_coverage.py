"""Whether the detectors running now watch every household once (`coverage_gap`), and which
of them are running (`ShardStore.running`: one replaced by a restart of its shard is not)."""

from __future__ import annotations

from pathlib import Path

from shouwang.domain.shards import Shard, coverage_gap
from shouwang.storage.state import StateStore


def test_shards_that_leave_households_unwatched_or_watched_twice_are_named() -> None:
    assert coverage_gap([]) is None
    assert coverage_gap([("a", Shard(1, 1))]) is None
    assert coverage_gap([("a", Shard(1, 2)), ("b", Shard(2, 2))]) is None
    assert "disagree on how many shards" in (coverage_gap([("a", Shard(1, 2)), ("b", Shard(1, 3))]) or "")
    missing = coverage_gap([("a", Shard(1, 3)), ("b", Shard(3, 3))]) or ""
    assert "no detector runs shard 2/3" in missing and "1/3 (a), 3/3 (b)" in missing
    assert "shard 1/2 runs in more than one detector" in (
        coverage_gap([("a", Shard(1, 2)), ("b", Shard(2, 2)), ("c", Shard(1, 2))]) or "")


def test_a_detector_replaced_by_a_restart_of_its_shard_is_not_running_twice(tmp_path: Path) -> None:
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        shards = state.shards
        shards.beat("killed", Shard(1, 2), started_at=0.0, now=100.0)  # kill -9 at 100
        shards.beat("other", Shard(2, 2), started_at=0.0, now=100.0)
        shards.beat("restarted", Shard(1, 2), started_at=110.0, now=110.0)
        shards.beat("other", Shard(2, 2), started_at=0.0, now=125.0)
        assert sorted(shards.running(seen_since=20.0)) == [("other", Shard(2, 2)), ("restarted", Shard(1, 2))]
        # two detectors of one shard, both saying so after the second started: both running
        shards.beat("killed", Shard(1, 2), started_at=0.0, now=130.0)
        assert [who for who, _ in shards.running(seen_since=20.0)].count("killed") == 1
        shards.leave("restarted")
        assert "restarted" not in [who for who, _ in shards.running(seen_since=20.0)]
    finally:
        state.close()
