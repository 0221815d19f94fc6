import logging

import pytest

from gateway.rejection_log import MOST_KEYS, RejectionLog
from shouwang.storage.dead_letters import DeadLetter


def letter(hub: str | None, category: str = "bad_value", topic: str = "p/hubs/h/water") -> DeadLetter:
    return DeadLetter(0.0, topic, hub, "why", "x" * 10_000, category=category)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gateway.service"]


def test_one_line_per_hub_and_reason_per_interval_counting_what_was_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    log = RejectionLog(interval_s=60)
    log.report([letter("h-1")] * 1000 + [letter("h-1", "conflict"), letter("h-2")], now=0.0)
    log.report([letter("h-1")] * 5, now=30.0)
    assert len(lines(caplog)) == 3
    log.report([letter("h-1")] * 2, now=61.0)
    last = lines(caplog)[-1]
    assert len(lines(caplog)) == 4 and "hub='h-1'" in last and "count=7" in last


def test_a_huge_topic_and_payload_make_a_short_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    RejectionLog(interval_s=60).report([letter("h" * 64, topic="t" * 60_000)], now=0.0)
    assert len(lines(caplog)[0]) < 1000


def test_a_flood_of_made_up_hubs_is_logged_together(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    log = RejectionLog(interval_s=60)
    log.report([letter(f"h-{i}") for i in range(MOST_KEYS + 5000)], now=0.0)
    assert len(lines(caplog)) == MOST_KEYS + 1
    assert "hub='(many)'" in lines(caplog)[-1] and "count=5000" in lines(caplog)[-1]


def test_a_topic_cannot_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    RejectionLog(interval_s=60).report([letter("h\n-1", topic="p/hubs/x\ngateway.fake line=1")], now=0.0)
    assert "\n" not in lines(caplog)[0]
