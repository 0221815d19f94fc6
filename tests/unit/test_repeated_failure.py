"""A loop's failure is logged once with its traceback, then once a minute while it repeats."""

from __future__ import annotations

import logging

import pytest

from shouwang import logs
from shouwang.logs import RepeatedFailure


@pytest.fixture
def no_logged_errors() -> None:
    """This test logs errors on purpose and reads them back."""


def test_a_failure_repeating_every_round_is_one_traceback_and_a_line_a_minute(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a tester: a 20-second PostgreSQL outage wrote 20,768 lines, a traceback a round."""
    clock = [1000.0]
    monkeypatch.setattr(logs.time, "monotonic", lambda: clock[0])
    failures = RepeatedFailure(logging.getLogger("test.loop"), "loop.failed")
    with caplog.at_level(logging.INFO, logger="test.loop"):
        for _ in range(300):  # 30 s of rounds every 0.1 s
            failures.failed(ConnectionError("connection refused"))
            clock[0] += 0.1
        clock[0] += 31
        failures.failed(ConnectionError("connection refused"))
        failures.failed(TimeoutError("the pool timed out"))
        failures.succeeded()
        failures.succeeded()
    records = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert records[0] == ("ERROR", "loop.failed ", True)
    assert records[1][:2] == ("ERROR", "loop.failed  again 300 time(s) in 61 s: ConnectionError: "
                                       "connection refused")
    assert records[2] == ("ERROR", "loop.failed ", True), "another failure: its traceback"
    assert records[3:] == [("INFO", "loop.failed recovered", False)]
