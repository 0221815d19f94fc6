"""The demo community: two grids, their staff, a dozen simulated homes of mixed colours."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from shouwang.domain.model import Grid, Household, Hub, Role, Staff, Tier
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from shouwang.storage.state import StateStore
from simulator.devices import device_map
from simulator.incidents import Incident, IncidentKind
from simulator.population import SimHousehold

GRIDS = (Grid("g-01", "东园网格"), Grid("g-02", "西园网格"))
STAFF = (
    ("leader", "周主任", Role.DUTY_LEADER, ()),
    ("admin", "管理员", Role.ADMIN, ()),
    ("wang.fang", "王芳", Role.GRID_MEMBER, ("g-01",)),
    ("li.qiang", "李强", Role.GRID_MEMBER, ("g-02",)),
    ("zhao.min", "赵敏", Role.GRID_HEAD, ("g-01",)),
    ("sun.li", "孙丽", Role.GRID_HEAD, ("g-02",)),
    ("chen.jing", "陈静", Role.CASEWORKER, ()),
)


DEMO = Actor("demo")


@dataclass(frozen=True)
class DemoCommunity:
    staff: dict[str, Staff]
    tokens: dict[str, str]
    password: str
    """Every demo staff member signs in on the web page with this password."""


def register(state: StateStore, homes: list[SimHousehold], incidents: list[Incident], *,
             monitoring_since: float, now: float) -> DemoCommunity:
    registry = state.registry
    for grid in GRIDS:
        registry.add_grid(grid)
    staff = {
        username: registry.add_staff(username=username, name=name, role=role, grid_ids=grids, now=now)
        for username, name, role, grids in STAFF
    }
    tokens = {u: registry.issue_token(m.id, name="demo", now=now) for u, m in staff.items()}
    password = "demo-" + secrets.token_hex(4)
    for member in staff.values():
        state.credentials.set_password(member.id, password, actor=DEMO, now=now)
    away = {i.home_id: i.end for i in incidents if i.kind is IncidentKind.AWAY}
    for home in homes:
        registry.add_household(Household(
            home.home_id, home.tier, home.grid_id,
            caseworker_id=staff["chen.jing"].id if home.tier is Tier.RED else None,
            alias=home.alias, address=home.address, building=home.building, away_until=away.get(home.home_id),
            monitoring_since=monitoring_since,
        ), now=now)
        registry.add_hub(Hub(home.hub_id, home.home_id), now=now)
        for entry in device_map(home.hub_id) if home.bridged else []:
            state.devices.add(home.hub_id, entry, actor=DEMO, now=now)
        # Monitoring starts only with consent: the demo elders agreed when monitoring began.
        state.consent.record(Consent(home.home_id, home.alias, "self", sensing=True,
                                     share_with_family=True, given_at=monitoring_since),
                             actor=DEMO, now=now)
    return DemoCommunity(staff, tokens, password)
