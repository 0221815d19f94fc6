"""A small community in real SQLite stores, served by the real app through TestClient."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import ApiContext
from shouwang.domain.alerts import Alert, AlertKind, Finding, Severity
from shouwang.domain.model import Grid, Household, Hub, Role, Staff, StoredReading, Tier, Visit
from shouwang.metrics import Metrics
from shouwang.settings import Settings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.credentials import Credentials
from shouwang.storage.readings_sqlite import SqliteReadingStore
from shouwang.storage.state import StateStore

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
NOW = 1_795_000_000.0  # a fixed moment, so every test sees the same clock
PASSWORD = "correct horse battery"
SYSTEM = Actor("test")


class ManualClock:
    """Time that moves only when a test moves it."""

    speed = 1.0

    def __init__(self, start: float) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self.t += seconds
        return False


class WallClock:
    """Real wall time, which a test may push forward (to outwait a rate limit)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Community:
    state: StateStore
    readings: SqliteReadingStore
    clock: ManualClock
    wall: WallClock
    client: TestClient
    staff: dict[str, Staff]
    tokens: dict[str, str]
    alerts: dict[str, Alert] = field(default_factory=dict)

    def give_passwords(self) -> None:
        for member in self.staff.values():
            self.state.credentials.set_password(member.id, PASSWORD, actor=SYSTEM, now=NOW)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


# username, role, grids, visits
STAFF = (
    ("admin", Role.ADMIN, (), ()),
    ("leader", Role.DUTY_LEADER, (), ()),
    ("head1", Role.GRID_HEAD, ("g-01",), ()),
    ("member1", Role.GRID_MEMBER, ("g-01",), ()),
    ("member2", Role.GRID_MEMBER, ("g-02",), ()),
    ("caseworker", Role.CASEWORKER, (), ()),
    ("volunteer", Role.VOLUNTEER, (), ("h-east-red",)),
)


def readings_for(household_id: str, hub_id: str, start: float, hours: int) -> list[StoredReading]:
    """A home drawing water twice an hour and opening the door every third hour, but for six hours
    of sleep a day (a meter that never rests is a machine's, not a person's: `detector.signs`)."""
    rows = []
    for h in range(hours):
        ts = start + h * 3600
        if h % 24 >= 18:
            continue
        rows.append(StoredReading(household_id, hub_id, "water", ts + 600, 10 + 0.01 * h))
        rows.append(StoredReading(household_id, hub_id, "water", ts + 1800, 10 + 0.01 * h + 0.005))
        rows.append(StoredReading(household_id, hub_id, "door", ts + 900, float(h % 3 == 0)))
    return rows


@dataclass(frozen=True)
class _Template:
    """A community's stores as built once, with what the tests need to know about them."""

    folder: Path
    staff: dict[str, Staff]
    tokens: dict[str, str]
    alerts: dict[str, Alert]


_TEMPLATE: list[_Template] = []
STORE_FILES = ("state.db", "readings.db")


def _populate(folder: Path) -> _Template:
    state = StateStore.open(f"sqlite:///{folder / 'state.db'}")
    readings = SqliteReadingStore(folder / "readings.db")
    try:
        registry = state.registry
        registry.add_grid(Grid("g-01", "东园网格"))
        registry.add_grid(Grid("g-02", "西园网格"))
        staff: dict[str, Staff] = {}
        for username, role, grids, _ in STAFF:
            staff[username] = registry.add_staff(username=username, name=username, role=role,
                                                 grid_ids=grids, now=NOW - 86400)
        homes = [
            Household("h-east-red", Tier.RED, "g-01", staff["caseworker"].id, "王秀英", "1号楼 101"),
            Household("h-east-yellow", Tier.YELLOW, "g-01", None, "李桂英", "2号楼 202"),
            Household("h-west-red", Tier.RED, "g-02", None, "张凤英", "9号楼 909"),
        ]
        for home in homes:
            registry.add_household(home, now=NOW - 30 * 86400)
            registry.add_hub(Hub(f"hub-{home.id}", home.id), now=NOW - 30 * 86400)
            state.consent.record(Consent(home.id, home.alias or "", "self", True, False,
                                         NOW - 30 * 86400), actor=SYSTEM, now=NOW - 30 * 86400)
            readings.write(readings_for(home.id, f"hub-{home.id}", NOW - 48 * 3600, 47))
        for username, _, _, visits in STAFF:
            if visits:
                staff[username] = registry.update_staff(staff[username].id, household_ids=visits)
        alerts = {}
        for home_id in ("h-east-red", "h-west-red"):
            opened = state.alerts.open(Finding(home_id, AlertKind.INACTIVITY, Severity.URGENT,
                                               NOW - 13 * 3600, "no water, power or door since 08:00",
                                               explanation_zh="自08:00起没有用水、用电或开关门"),
                                       now=NOW - 600)
            assert opened is not None
            alerts[home_id] = opened
        state.visits.add(Visit("h-west-red", NOW - 7200, staff["member2"].id, "fine"), actor=SYSTEM,
                         now=NOW - 7200)
        state.silences.add("h-west-red", until=NOW + 86400, reason="with her son", actor=SYSTEM,
                           now=NOW - 3600)
        tokens = {u: registry.issue_token(s.id, name="test", now=NOW) for u, s in staff.items()}
    finally:
        readings.close()
        state.close()
    return _Template(folder, staff, tokens, alerts)


def _template() -> _Template:
    """The community is the same for every test (a fixed clock), so it is built once per test
    process and each test gets its own copy of the files: real stores, a second each saved."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="shouwang-community-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _TEMPLATE.append(_populate(folder))
        # a store's lock file (held while it is created, `shouwang.storage.database`) holds no data
        left = [p.name for p in folder.iterdir() if p.name not in STORE_FILES and p.suffix != ".lock"]
        assert not left, f"the template stores left {left} behind: the copies would miss them"
    return _TEMPLATE[0]


def build_community(tmp_path: Path, *, dispatch: dict[str, object] | None = None, **api: object) -> Community:
    template = _template()
    for name in STORE_FILES:
        shutil.copyfile(template.folder / name, tmp_path / name)
    settings = Settings(storage={"data_dir": tmp_path}, api=api, dispatch=dispatch or {})
    state = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    # The same algorithm at its cheapest, so tests stay fast; production keeps argon2's defaults.
    state.credentials = Credentials(state.engine, state.registry, hasher=FAST_HASHER)
    readings = SqliteReadingStore(tmp_path / "readings.db")
    clock, wall = ManualClock(NOW), WallClock()
    context = ApiContext(settings=settings, state=state, readings=readings, clock=clock,
                         metrics=Metrics(), wall=wall)
    client = TestClient(create_app(context))
    return Community(state, readings, clock, wall, client, dict(template.staff),
                     dict(template.tokens), dict(template.alerts))


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    built = build_community(tmp_path, live_max_s=0.3, live_poll_s=0.05)
    yield built
    built.client.close()
    built.readings.close()
    built.state.close()
