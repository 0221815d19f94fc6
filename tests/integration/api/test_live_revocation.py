"""The live feed asks again who is watching before every read: found by a tester, a stream
opened before a grid member was moved to another grid, or retired, went on showing the old
grid's alerts (the elder's name and all) until it ended, five minutes later."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shouwang.domain.alerts import AlertKind, Finding, Severity
from tests.integration.api.conftest import NOW, Community, build_community

LIVE_MAX_S = 6.0


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    built = build_community(tmp_path, live_max_s=LIVE_MAX_S, live_poll_s=0.05)
    yield built
    built.client.close()
    built.readings.close()
    built.state.close()


def watch(community: Community, username: str, meanwhile: Callable[[], None],
          last_event_id: bytes | None = None) -> tuple[list[dict], float]:
    """The alert frames `username`'s stream gets while `meanwhile` runs beside it, and how long
    the stream lasted."""
    side = threading.Thread(target=lambda: (time.sleep(0.5), meanwhile()))
    started = time.monotonic()
    headers: dict[str, str | bytes] = {**community.auth(username)}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    with community.client.stream("GET", "/events", headers=headers) as stream:
        side.start()
        text = "".join(stream.iter_text())
    side.join()
    frames = [f for f in text.split("\n\n") if "event: alert" in f]
    return [json.loads(f.split("data: ", 1)[1]) for f in frames], time.monotonic() - started


def open_east_alert(community: Community) -> int:
    alert = community.state.alerts.open(Finding("h-east-yellow", AlertKind.HUB_OFFLINE, Severity.WARNING,
                                                NOW - 3600, "hub h-2 sent nothing since 07:00"), now=NOW)
    assert alert is not None
    return alert.id


def test_a_stream_stops_showing_a_grid_its_viewer_was_moved_from(community: Community) -> None:
    member = community.staff["member1"]  # g-01, the east

    def moved_then_an_east_alert() -> None:
        community.state.registry.update_staff(member.id, grid_ids=["g-02"])
        community.client.app.state.context.sessions.forget_all()  # as a change through the API does
        time.sleep(0.3)
        open_east_alert(community)

    frames, _ = watch(community, "member1", moved_then_an_east_alert)
    assert [f["alert"]["household_id"] for f in frames] == []  # before the move, hers: see the last test


def test_a_stream_ends_when_its_viewer_is_retired(community: Community) -> None:
    member = community.staff["member1"]

    def retired_then_an_east_alert() -> None:
        community.state.registry.retire_staff(member.id, now=NOW)
        time.sleep(0.3)
        open_east_alert(community)

    frames, lasted = watch(community, "member1", retired_then_an_east_alert)
    assert frames == [] and lasted < LIVE_MAX_S / 2


def test_the_grid_member_still_sees_her_own_grid_live(community: Community) -> None:
    frames, _ = watch(community, "member1", lambda: open_east_alert(community))
    assert [(f["action"], f["alert"]["household_id"]) for f in frames] == [("opened", "h-east-yellow")]


@pytest.mark.parametrize("last", [b"\xb2", b"99999999999999999999"])
def test_a_last_event_id_that_is_no_event_starts_from_now(community: Community, last: bytes) -> None:
    """Found by a tester: "²" (a digit to isdigit) answered 500, and twenty nines began a stream
    that died on SQLite's integer; an EventSource reconnects with the same id for ever."""
    frames, _ = watch(community, "member1", lambda: open_east_alert(community), last_event_id=last)
    assert [f["alert"]["household_id"] for f in frames] == ["h-east-yellow"]


def test_a_month_the_report_cannot_cover_is_refused_not_a_500(community: Community) -> None:
    for month in ("9999-12", "0000-01"):
        for path in ("/cockpit/responses", "/cockpit/responses.csv"):
            answer = community.client.get(f"{path}?month={month}", headers=community.auth("admin"))
            assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid", (path, answer.text)
