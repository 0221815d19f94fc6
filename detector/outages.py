"""Silent hubs: a device problem, not a silent home; and a building's power cut as one event.

A hub is silent when nothing has *arrived* from it for longer than its limit (a backlog replayed
after a network outage is the hub speaking, whatever the readings' own times). A household whose
every hub is silent is *blind*: its inactivity is not judged, and for red and orange homes the
blindness itself is a welfare check. When several homes of one building go blind within a few
minutes of each other, that is most likely a power cut or a network fault: one finding, on the
building's most vulnerable household, names them all. So that the first homes to go quiet are
not reported one by one, a blind home in a building is reported alone only once it has been
blind for the building window too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from detector.context import Context
from detector.explain import clock_time, duration, duration_zh, hub_words
from detector.names import Names
from detector.table import HouseholdTable
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import Tier
from shouwang.settings import LearnedSettings

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass
class HubTable:
    """One row per hub: which household row it belongs to, its limit, when it was last heard."""

    ids: Names = field(default_factory=Names)
    household: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    limit_s: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    heard_at: Floats = field(default_factory=lambda: np.zeros(0))
    registered: Bools = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def index(self) -> Names:
        """The row of a hub id: `index.get(hub_id)`."""
        return self.ids

    def _extend(self, hub_ids: list[str]) -> None:
        self.ids.extend(hub_ids)
        k = len(hub_ids)
        self.household = np.concatenate([self.household, np.zeros(k, dtype=np.int32)])
        self.limit_s = np.concatenate([self.limit_s, np.zeros(k, dtype=np.float32)])
        self.heard_at = np.concatenate([self.heard_at, np.full(k, np.nan)])
        self.registered = np.concatenate([self.registered, np.zeros(k, dtype=bool)])

    def row(self, hub_id: str, household_row: int, limit_s: float) -> int:
        """The hub's row, added if new (a hub heard before the registry named it)."""
        i = self.ids.get(hub_id)
        if i is None:
            self._extend([hub_id])
            i = len(self.ids) - 1
        self.household[i] = household_row
        self.limit_s[i] = limit_s
        return i

    def register(self, rows: Iterable[tuple[str, int, float]]) -> None:
        """Mark exactly these hubs (id, household row, limit) as registered."""
        hubs = list(rows)
        ids = [h for h, _, _ in hubs]
        index = self.ids.rows(ids)
        missing = np.flatnonzero(index < 0)
        if missing.size:
            new = list(dict.fromkeys(ids[k] for k in missing))
            first = len(self.ids)
            self._extend(new)
            added = {h: first + k for k, h in enumerate(new)}
            index[missing] = [added[ids[k]] for k in missing]
        self.registered[:] = False
        if index.size:
            self.household[index] = [r for _, r, _ in hubs]
            self.limit_s[index] = [limit for _, _, limit in hubs]
            self.registered[index] = True


def silent_hubs(hubs: HubTable, watching_since: Floats, checked: Floats,
                now: float) -> tuple[Bools, Floats]:
    """Which registered hubs are silent now, and since when (never before staff last closed an
    outage alert of the household: they checked then)."""
    since = np.where(np.isnan(hubs.heard_at), watching_since[hubs.household], hubs.heard_at)
    since = np.fmax(since, checked[hubs.household])
    silent = hubs.registered & (now - since > hubs.limit_s)
    return silent, since


def blind_households(hubs: HubTable, silent: Bools, n: int) -> Bools:
    """Households all of whose registered hubs are silent."""
    total = np.bincount(hubs.household[hubs.registered], minlength=n)[:n]
    quiet = np.bincount(hubs.household[silent], minlength=n)[:n]
    blind: Bools = (total > 0) & (quiet == total)
    return blind


def _is_welfare(ctx: Context, now: float) -> bool:
    return ctx.household.tier <= Tier.ORANGE and not ctx.is_away(now)


def hub_finding(ctx: Context, hub_ids: list[str], since: float, *, blind: bool, now: float,
                tz: ZoneInfo) -> Finding:
    """One household's silent hub(s), in words."""
    welfare = blind and _is_welfare(ctx, now)
    text, text_zh = hub_words(hub_ids, since, now, tz, welfare=welfare, blind=blind)
    return Finding(
        ctx.household.id, AlertKind.HUB_OFFLINE, Severity.URGENT if welfare else Severity.WARNING,
        since, text, {"hub_id": hub_ids[0], "hub_ids": hub_ids}, explanation_zh=text_zh,
    )


def device_finding(ctx: Context, *, blind: bool, now: float, tz: ZoneInfo,
                   after_s: float = 0.0) -> Finding | None:
    """The household's bridged devices unreachable for `after_s` or more, in words: a repair, or (a
    red or orange home that can give no sign at all) a welfare check. None if there are none: a
    device that drops out for a minute now and then is not an alert each time (found by a tester:
    a plug whose Wi-Fi dropped for 3 minutes every half hour opened and closed 24 in 12 hours)."""
    down = sorted((d for d in ctx.devices.down if now - d.since >= after_s),
                  key=lambda d: (d.since, d.hub_id, d.device))
    if not down:
        return None
    welfare = blind and _is_welfare(ctx, now)
    since = down[0].since
    names = ", ".join(d.label for d in down)
    at, gone, gone_zh = clock_time(since, tz, now=now), duration(now - since), duration_zh(now - since)
    if welfare:
        advice, advice_zh = ("we cannot see this home: please check on the elder",
                             "我们看不到这户的情况：请上门查看老人")
    elif blind:
        advice, advice_zh = ("no device of this home can give a sign; arrange a repair",
                             "这户没有任何设备能上报；请安排维修")
    else:
        advice, advice_zh = ("its other devices still report and the silence is judged from them; "
                             "arrange a repair", "其他设备仍在上报，按其判断是否有动静；请安排维修")
    text = f"device {names} unreachable since {at} ({gone}), its bridge says offline; {advice}"
    text_zh = f"设备 {names} 自{at}起{gone_zh}无法连接（网桥报告离线）；{advice_zh}"
    details = {"hub_id": down[0].hub_id, "hub_ids": sorted({d.hub_id for d in down}),
               "devices": [{"hub_id": d.hub_id, "bridge": d.bridge, "device": d.device, "since": d.since}
                           for d in down], "blind": blind}
    return Finding(ctx.household.id, AlertKind.HUB_OFFLINE,
                   Severity.URGENT if welfare else Severity.WARNING, since, text, details,
                   explanation_zh=text_zh)


def building_clusters(blind: list[tuple[Context, float]], *, window_s: float,
                      min_homes: int) -> list[list[tuple[Context, float]]]:
    """Groups of blind homes in one building that went quiet within `window_s` of each other."""
    by_building: dict[str, list[tuple[Context, float]]] = {}
    for ctx, since in blind:
        if ctx.household.building:
            by_building.setdefault(ctx.household.building, []).append((ctx, since))
    clusters = []
    for homes in by_building.values():
        homes.sort(key=lambda item: item[1])
        group = [homes[0]]
        for item in homes[1:]:
            if item[1] - group[-1][1] <= window_s:
                group.append(item)
                continue
            if len(group) >= min_homes:
                clusters.append(group)
            group = [item]
        if len(group) >= min_homes:
            clusters.append(group)
    return clusters


def building_finding(group: list[tuple[Context, float]], *, now: float, tz: ZoneInfo,
                     lead: Context | None = None) -> Finding:
    """One finding for a building whose homes went blind together, on its most vulnerable
    household (or on `lead`, the one it was raised on before, so the alert stays put)."""
    contexts = [ctx for ctx, _ in group]
    lead = lead or min(contexts, key=lambda c: (int(c.household.tier), c.household.id))
    since = min(since for _, since in group)
    welfare = [c for c in contexts if _is_welfare(c, now)]
    building = lead.household.building
    at, gone, gone_zh = clock_time(since, tz, now=now), duration(now - since), duration_zh(now - since)
    text = (f"{len(group)} homes in {building} went silent together at about {at} ({gone}): most "
            f"likely a power cut or network fault in the building, one event")
    text_zh = (f"{building}的{len(group)}户在{at}左右同时失去联系（{gone_zh}）："
               f"很可能是楼内停电或网络故障，算作一件事")
    if welfare:
        welfare.sort(key=lambda c: (int(c.household.tier), c.household.id))
        names = "; ".join(f"{c.household.alias or c.household.id} ({c.household.address or '-'})"
                          for c in welfare)
        text += f". We cannot see these red or orange homes, please check on them: {names}"
        text_zh += f"。我们看不到这些红色或橙色户的情况，请上门查看：{names}"
    else:
        text += "; arrange a check of the building's power and network"
        text_zh += "；请安排检查楼内的电力和网络"
    return Finding(
        lead.household.id, AlertKind.HUB_OFFLINE, Severity.URGENT if welfare else Severity.WARNING,
        since, text,
        {"building": building, "households": sorted(c.household.id for c in contexts),
         "hub_ids": [h.id for c in contexts for h in c.hubs]},
        explanation_zh=text_zh,
    )


class Outages:
    """Silent hubs and dark buildings, remembered from one tick to the next."""

    def __init__(self, settings: LearnedSettings, tz: ZoneInfo) -> None:
        self.settings = settings
        self.tz = tz
        self.buildings: dict[str, tuple[str, set[str]]] = {}
        """Building → (the household its outage finding is on, the homes in the outage)."""

    def findings(self, hubs: HubTable, table: HouseholdTable, context_of: dict[int, Context], *,
                 silent: Bools, since: Floats, blind: Bools, now: float) -> list[Finding]:
        """Silent hubs: per household, or one finding per building going dark together."""
        quiet: dict[int, list[int]] = {}
        for h in np.flatnonzero(silent):
            quiet.setdefault(int(hubs.household[h]), []).append(int(h))
        findings, dark = [], []
        dark_rows: dict[str, int] = {}
        for row, quiet_hubs in quiet.items():
            ctx = context_of.get(row)
            if ctx is None or not ctx.household.is_active:
                continue
            ids = [hubs.ids[h] for h in quiet_hubs]
            if blind[row]:
                dark.append((ctx, max(float(since[h]) for h in quiet_hubs), ids))
                dark_rows[ctx.household.id] = row
            else:
                findings.append(hub_finding(ctx, ids, min(float(since[h]) for h in quiet_hubs),
                                            blind=False, now=now, tz=self.tz))
        s = self.settings
        grouped, events = self._building_events(dark, table, context_of, now)
        findings += events
        hold_s = s.building_outage_window_min * 60
        for ctx, at, ids in dark:
            i = dark_rows[ctx.household.id]  # its row (no lookup by name)
            limit = float(table.hub_limit[i])
            if ctx.household.id in grouped:
                continue
            if ctx.household.building and now - at - limit < hold_s:
                continue  # wait a little: the rest of the building may be going dark too
            findings.append(hub_finding(ctx, ids, at, blind=True, now=now, tz=self.tz))
        return findings

    def _building_events(self, dark: list[tuple[Context, float, list[str]]],
                         table: HouseholdTable, context_of: dict[int, Context],
                         now: float) -> tuple[set[str], list[Finding]]:
        """Buildings whose homes went dark together: one finding each, on the same household
        for as long as any of its homes stays dark (they do not come back all at once)."""
        s = self.settings
        clusters = building_clusters([(c, at) for c, at, _ in dark],
                                             window_s=s.building_outage_window_min * 60,
                                             min_homes=s.building_outage_min_homes)
        by_id = {c.household.id: (c, at) for c, at, _ in dark}
        held = {c.household.id for g in clusters for c, _ in g}
        clusters = [g for g in clusters if str(g[0][0].household.building) in self.buildings
                    or self._settled(g, table, now)]  # let the rest of the building go dark too
        fresh = {str(g[0][0].household.building) for g in clusters}
        for building, (_, members) in list(self.buildings.items()):
            still = [by_id[m] for m in sorted(members) if m in by_id]
            if not still:
                del self.buildings[building]
            elif building not in fresh:
                clusters.append(still)
        findings = []
        for group in clusters:
            building = str(group[0][0].household.building)
            lead, members = self.buildings.get(building, (None, set()))
            row = table.find(lead) if lead is not None else None
            finding = building_finding(group, now=now, tz=self.tz,
                                       lead=context_of.get(row) if row is not None else None)
            self.buildings[building] = (finding.household_id,
                                         members | {c.household.id for c, _ in group})
            findings.append(finding)
        return held | {c.household.id for g in clusters for c, _ in g}, findings

    def _settled(self, group: list[tuple[Context, float]], table: HouseholdTable,
                 now: float) -> bool:
        """Whether the first home of a group has been blind for the building window."""
        ctx, first = min(group, key=lambda item: item[1])
        i = table.find(ctx.household.id)
        limit = float(table.hub_limit[i]) if i is not None else 0.0
        return now - first - limit >= self.settings.building_outage_window_min * 60
