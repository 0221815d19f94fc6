"""The fixed rules communities use today: the baseline every learned detector must beat.

No sign of life for 12 hours, no water for 12 hours, a hub silent past its reporting
interval, water running over an hour, gas over two hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from detector.context import Context
from detector.explain import SIGN_WORDS, clock_time, duration
from detector.signs import HomeState, SignOfLife
from shouwang.domain.alerts import AlertKind, Finding, Severity
from shouwang.domain.model import SensorKind, Tier
from shouwang.settings import DetectorSettings

OTHER_LIFE_AFTER_WATER_S = 3600.0


def silence_start(last: float | None, home: HomeState | None, ctx: Context, now: float,
                  kind: AlertKind = AlertKind.INACTIVITY) -> float:
    """When the silence began: the last sign, else when we began to listen; never while away,
    and never before staff last closed an alert of this kind."""
    if last is None:
        heard = home.first_seen_at if home and home.first_seen_at is not None else now
        last = max(ctx.watching_since, heard)
    away = ctx.household.away_until
    if away is not None and away < now:
        last = max(last, away)
    return ctx.counted_from(kind, last)


def hub_offline(
    home: HomeState | None, ctx: Context, now: float, *, after_s: float, tz: ZoneInfo
) -> tuple[list[Finding], bool]:
    """A finding per silent hub, and whether any hub is still heard (else we are blind)."""
    findings = []
    heard = False
    for hub in ctx.hubs:
        seen = home.hub_seen_at.get(hub.id) if home else None
        since = ctx.counted_from(AlertKind.HUB_OFFLINE, seen if seen is not None else ctx.watching_since)
        limit = max(after_s, 3 * hub.report_interval_s)
        if now - since <= limit:
            heard = True
            continue
        welfare = ctx.household.tier <= Tier.ORANGE
        advice = "we cannot see this home: please check on the elder" if welfare else (
            "a device fault or power cut; arrange a repair")
        last = (f"since {clock_time(since, tz, now=now)}" if seen is not None
                else "since monitoring began")
        findings.append(Finding(
            ctx.household.id, AlertKind.HUB_OFFLINE,
            Severity.URGENT if welfare else Severity.WARNING, since,
            f"hub {hub.id} has sent nothing {last} ({duration(now - since)}); {advice}",
            {"hub_id": hub.id},
        ))
    return findings, heard


def running(
    home: HomeState | None, ctx: Context, now: float, *, kind: SensorKind, limit_s: float,
    tz: ZoneInfo,
) -> list[Finding]:
    if home is None or kind not in home.runs:
        return []
    alert = AlertKind.WATER_RUNNING if kind is SensorKind.WATER else AlertKind.GAS_RUNNING
    since, until = home.runs[kind]
    since = ctx.counted_from(alert, since)
    if until - since < limit_s:
        return []
    return [Finding(
        ctx.household.id, alert, Severity.URGENT, since,
        f"{kind.value} has been running without a break since {clock_time(since, tz, now=now)} "
        f"({duration(until - since)}); usual use stops within {duration(limit_s)}",
        {"run_s": until - since},
    )]


class FixedRules:
    """Practice today, as a detector. It learns nothing."""

    name = "fixed-12h"

    def __init__(self, settings: DetectorSettings, tz: ZoneInfo, *, seed: int = 0) -> None:
        self._s = settings
        self._tz = tz
        self.seed = seed

    def learn_one(self, sign: SignOfLife) -> None:
        return None

    def learn(self, signs: Iterable[SignOfLife]) -> None:
        return None

    def observe(self, home: HomeState, *, hub_id: str, at: float) -> None:
        return None

    def history_days(self, household_id: str) -> int:
        return 0

    def assess(
        self, now: float, homes: Mapping[str, HomeState], contexts: Mapping[str, Context]
    ) -> list[Finding]:
        findings: list[Finding] = []
        for household_id, ctx in contexts.items():
            if ctx.household.is_active:
                findings.extend(self.assess_one(now, homes.get(household_id), ctx))
        return findings

    def assess_one(self, now: float, home: HomeState | None, ctx: Context) -> list[Finding]:
        s, tz = self._s, self._tz
        findings, heard = hub_offline(home, ctx, now, after_s=s.hub_offline_after_s, tz=tz)
        findings += running(home, ctx, now, kind=SensorKind.WATER,
                            limit_s=s.water_run_max_min * 60, tz=tz)
        findings += running(home, ctx, now, kind=SensorKind.GAS, limit_s=s.gas_run_max_min * 60,
                            tz=tz)
        if not heard or ctx.is_away(now):
            return findings
        last_sign = home.last_sign_at if home else None
        since = silence_start(last_sign, home, ctx, now)
        if now - since >= s.inactivity_h * 3600:
            what = (f"last: {SIGN_WORDS[home.last_sign_kind.value]}"
                    if home and home.last_sign_kind and last_sign is not None else "none seen yet")
            findings.append(Finding(
                ctx.household.id, AlertKind.INACTIVITY, Severity.URGENT, since,
                f"no water, power, gas or door since {clock_time(since, tz, now=now)} "
                f"({duration(now - since)}; {what}); the fixed rule alerts after "
                f"{duration(s.inactivity_h * 3600)} without a sign of life",
            ))
        findings += self._no_water(now, home, ctx)
        return findings

    def _no_water(self, now: float, home: HomeState | None, ctx: Context) -> list[Finding]:
        """Water silent for 12 h while other signs of life went on for at least an hour after
        it (otherwise it is the same silence as the inactivity rule's, and one alert is enough)."""
        if home is None or home.last_sign_at is None:
            return []
        water_since = silence_start(home.last_water_at, home, ctx, now, AlertKind.NO_WATER)
        if now - water_since < self._s.no_water_h * 3600:
            return []
        if home.last_sign_at - water_since < OTHER_LIFE_AFTER_WATER_S:
            return []
        return [Finding(
            ctx.household.id, AlertKind.NO_WATER, Severity.URGENT, water_since,
            f"no water drawn since {clock_time(water_since, self._tz, now=now)} "
            f"({duration(now - water_since)}), though other signs of life went on until "
            f"{clock_time(home.last_sign_at, self._tz, now=now)}",
        )]
