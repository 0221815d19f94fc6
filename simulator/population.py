"""A seeded population of simulated homes, and the incidents scripted for them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from shouwang.domain.model import Tier
from simulator.home import SimulatedHome
from simulator.incidents import Incident, IncidentKind
from simulator.routine import Profile
from simulator.routines import KINDS, draw_profile

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["秀英", "桂英", "玉兰", "淑珍", "凤英", "建国",
         "国华", "德明", "振华", "文华", "秀兰", "志明"]
TIER_MIX = (Tier.RED, Tier.ORANGE, Tier.YELLOW, Tier.RED, Tier.BLUE, Tier.ORANGE,
            Tier.GREEN, Tier.YELLOW, Tier.RED, Tier.BLUE, Tier.ORANGE, Tier.GREEN)


@dataclass(frozen=True, slots=True)
class SimHousehold:
    home_id: str
    hub_id: str
    tier: Tier
    grid_id: str
    alias: str
    address: str
    building: str
    profile: Profile
    seed: int
    kind: str = "classic"
    bridged: bool = False
    """Equipped from a shop's shelf (Zigbee2MQTT, Tasmota, wmbusmeters), with an "I am fine" button."""

    @property
    def fine_press_h(self) -> float | None:
        """The local hour of this elder's daily "I am fine" press, if the home has the button."""
        return 8.5 + (self.seed % 60) / 60 if self.bridged else None


def population(n: int, *, seed: int, grids: tuple[str, ...] = ("g-01", "g-02"),
               prefix: str = "sim", routines: str = "classic") -> list[SimHousehold]:
    """`n` seeded homes: all of the classic routine, or ("varied") the kinds of
    `simulator.routines` in turn, each home with its own parameters."""
    if routines not in ("classic", "varied"):
        raise ValueError(f"routines {routines!r}: use 'classic' or 'varied'")
    rng = np.random.default_rng(seed)
    kinds = list(KINDS) if routines == "varied" else ["classic"]
    homes = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        name = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
        homes.append(SimHousehold(
            home_id=f"{prefix}-{i + 1:04d}",
            hub_id=f"h-{prefix}-{i + 1:04d}",
            tier=TIER_MIX[i % len(TIER_MIX)],
            grid_id=grids[i % len(grids)],
            alias=name,
            address=f"{i // 12 + 1}号楼 {i % 6 + 1}单元 {(i % 12) // 2 + 1}0{i % 2 + 1}",
            building=f"{i // 12 + 1}号楼",
            profile=Profile.draw(rng) if routines == "classic" else draw_profile(kind, rng),
            seed=int(rng.integers(2**31)),
            kind=kind,
        ))
    return homes


def build_homes(households: list[SimHousehold], *, start: float, tz: ZoneInfo,
                incidents: list[Incident], report_interval_s: float = 900.0) -> list[SimulatedHome]:
    return [
        SimulatedHome(h.home_id, h.hub_id, h.profile, h.seed, tz, start,
                      [i for i in incidents if i.home_id == h.home_id], report_interval_s,
                      fine_press_h=h.fine_press_h, bridged=h.bridged)
        for h in households
    ]


def equip_with_bridges(households: list[SimHousehold], count: int | None = None) -> list[SimHousehold]:
    """The same homes, the first `count` of them (all by default) equipped from a shop's shelf."""
    limit = len(households) if count is None else count
    return [replace(h, bridged=True) if i < limit else h for i, h in enumerate(households)]


def demo_equipped(households: list[SimHousehold]) -> list[SimHousehold]:
    """The demo's homes, one of them (an orange home at home all week) equipped from a shop's shelf."""
    orange = [h for h in households if h.tier is Tier.ORANGE]
    if not orange:
        return households
    return [replace(h, bridged=True) if h.home_id == orange[0].home_id else h for h in households]


DEMO_NOON_H = 12.0
"""The demo's clock starts at this local hour, whenever it is run, so that it shows a day."""
DEMO_FALL_H = 19.0
"""The demo's red elder falls at home soon after this local hour the evening before the demo's
clock starts. (After breakfast on the demo's own day, as it was, the alert came within the
demo's first minute only in some weeks: a home learning from seven days may have had a morning
whose quiet set its limit past 15:00.)"""


def demo_clock_start(now: float, tz: ZoneInfo) -> float:
    """The most recent local noon at or before `now`: when the demo's fast clock begins."""
    moment = datetime.fromtimestamp(now, tz)
    start = moment.replace(hour=int(DEMO_NOON_H), minute=0, second=0, microsecond=0)
    if start > moment:
        start -= timedelta(days=1)
    return start.timestamp()


def _fall_at_home(household: SimHousehold, ts: float, tz: ZoneInfo) -> float:
    """About `ts`, at home, with something other than the front door as the elder's last sign.

    A silence that follows a door is judged as an outing, by the outing limit, and a home still
    learning has a long one: a fall just after she came back made the demo's alert come hours
    late on the days her morning outing covered `ts`. So when the routine has her out at `ts`,
    she falls half an hour before she went out if she was up by then, else ten minutes after she
    came back; and when a door is still her last sign, just before that door."""
    home = SimulatedHome(household.home_id, household.hub_id, household.profile, household.seed,
                         tz, ts)
    outings, asleep = home.plan_at(ts)
    for start, end in outings:
        if start <= ts < end:
            up = max((b for _, b in asleep if b <= start), default=None)
            ts = start - 1800 if up is not None and start - 1800 >= up + 1800 else end + 600
            break
    used, door = home.last_use_and_next_door(ts)
    if used is not None and door is not None:
        return (used + door) / 2  # after her last use, before the door that followed it
    return ts


DEMO_TZ = ZoneInfo("Asia/Shanghai")


def demo_incidents(households: list[SimHousehold], *, now: float,
                   tz: ZoneInfo = DEMO_TZ) -> list[Incident]:
    """What the demo shows in its first minutes: a red elder who fell at home the evening before
    and has not been seen since (by noon her night and her morning have been far too quiet,
    whatever her week was like), a tap left running, a hub losing power, a trip away, and the
    elder of the home equipped from a shop's shelf pressing her help button."""
    by_tier = {t: [h for h in households if h.tier is t] for t in Tier}
    script = []
    if by_tier[Tier.RED]:
        red = by_tier[Tier.RED][0]
        evening = (datetime.fromtimestamp(now, tz) - timedelta(days=1)).replace(
            hour=int(DEMO_FALL_H), minute=0, second=0, microsecond=0)
        fell = _fall_at_home(red, evening.timestamp(), tz)
        script.append(Incident(red.home_id, IncidentKind.INCAPACITATION, min(fell, now - 3600)))
    if by_tier[Tier.YELLOW]:
        script.append(Incident(by_tier[Tier.YELLOW][-1].home_id, IncidentKind.TAP_RUNNING,
                               now + 600, now + 3 * 3600))
    if by_tier[Tier.GREEN]:
        script.append(Incident(by_tier[Tier.GREEN][-1].home_id, IncidentKind.HUB_POWER_LOSS,
                               now + 1200, now + 3 * 3600))
    if len(by_tier[Tier.ORANGE]) > 1:
        script.append(Incident(by_tier[Tier.ORANGE][1].home_id, IncidentKind.AWAY,
                               now - 3 * 3600, now + 2 * 86400))
    script += [Incident(h.home_id, IncidentKind.HELP_PRESS, now + 1800) for h in households if h.bridged][:1]
    return script


def parse_incident(text: str, *, now: float) -> Incident:
    """"incapacitation:sim-0001:+2h" or "tap_running:sim-0003:+30m:2h" (start, duration)."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise ValueError(f"incident {text!r} must be KIND:HOME:+START[:DURATION]")
    try:
        kind = IncidentKind(parts[0])
    except ValueError:
        raise ValueError(f"unknown incident kind {parts[0]!r}; use one of "
                         f"{', '.join(k.value for k in IncidentKind)}") from None
    start = now + _offset(parts[2])
    end = start + _offset(parts[3]) if len(parts) == 4 else None
    return Incident(parts[1], kind, start, end)


def _offset(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    body = text.strip()
    if not body or body[-1] not in units:
        raise ValueError(f"time offset {text!r} needs a unit: s, m, h or d (e.g. +90m)")
    return float(body[:-1]) * units[body[-1]]
