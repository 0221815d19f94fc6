"""Whether the detectors running now watch every household once (`coverage_gap`), and which
of them are running (`ShardStore.running`: one replaced by a restart of its shard is not)."""

from __future__ import annotations

import time
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

        def running() -> list[str]:
            return sorted(who for who, _ in shards.running(within_s=60.0))

        shards.beat("killed", Shard(1, 2), clock_at=100.0)  # then kill -9
        shards.beat("other", Shard(2, 2), clock_at=100.0)
        time.sleep(0.01)
        shards.beat("restarted", Shard(1, 2), clock_at=110.0)
        shards.beat("other", Shard(2, 2), clock_at=125.0)
        assert running() == ["other", "restarted"]
        assert shards.last_alive(Shard(1, 2)) == 110.0 and shards.last_alive(Shard(1, 3)) is None
        # two detectors of one shard, both saying so after the second started: both running
        shards.beat("killed", Shard(1, 2), clock_at=130.0)
        assert running() == ["killed", "other", "restarted"]
        shards.leave("restarted")  # stopped: not running, but when it last ran is kept
        assert running() == ["killed", "other"] and shards.last_alive(Shard(1, 2)) == 130.0
    finally:
        state.close()
