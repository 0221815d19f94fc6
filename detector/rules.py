"""The fixed rules communities use today: the baseline every learned detector must beat.

No sign of life for 12 hours, no water for 12 hours, a hub silent past its reporting
interval, water running over an hour, gas over two hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from detector.context import Context
from detector.explain import (
    ALL_KINDS,
    SIGN_WORDS,
    SIGN_WORDS_ZH,
    duration,
    duration_zh,
    hub_words,
    no_water_words,
    quiet_since,
    running_words,
    since_words,
)
from detector.outages import device_finding
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
    if ctx.devices.back_at is not None:  # a device came back: counted from then
        last = max(last, ctx.devices.back_at)
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
        if ctx.down is not None and seen is not None and seen >= ctx.down[0] - limit:
            since = max(since, ctx.down[1])  # the detector was down, not the hub
        if now - since <= limit:
            heard = heard or hub.id not in ctx.devices.hubs_down  # its devices give no sign
            continue
        welfare = ctx.household.tier <= Tier.ORANGE
        text, text_zh = hub_words([hub.id], since, now, tz, welfare=welfare, blind=True,
                                  ever_heard=seen is not None)
        findings.append(Finding(
            ctx.household.id, AlertKind.HUB_OFFLINE,
            Severity.URGENT if welfare else Severity.WARNING, since, text, {"hub_id": hub.id},
            explanation_zh=text_zh,
        ))
    return findings, heard


def running(
    home: HomeState | None, ctx: Context, now: float, *, kind: SensorKind, limit_s: float,
    tz: ZoneInfo,
) -> list[Finding]:
    if home is None or kind not in home.runs:
        return []
    alert = AlertKind.WATER_RUNNING if kind is SensorKind.WATER else AlertKind.GAS_RUNNING
    started, until = home.runs[kind]
    since = ctx.counted_from(alert, started)
    if until - since < limit_s:
        return []
    text, text_zh = running_words(kind.value, since, until - since, now, tz, limit_s=limit_s,
                                  learned=False, started=started)
    return [Finding(ctx.household.id, alert, Severity.URGENT, since, text,
                    {"run_s": until - since}, explanation_zh=text_zh)]


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
        device = (device_finding(ctx, blind=not heard, now=now, tz=tz, after_s=s.hub_offline_after_s)
                  if not findings else None)
        findings += [device] if device is not None else []
        findings += running(home, ctx, now, kind=SensorKind.WATER,
                            limit_s=s.water_run_max_min * 60, tz=tz)
        findings += running(home, ctx, now, kind=SensorKind.GAS, limit_s=s.gas_run_max_min * 60,
                            tz=tz)
        if not heard or ctx.is_away(now):
            return findings
        last_sign = home.last_sign_at if home else None
        since = silence_start(last_sign, home, ctx, now)
        if now - since >= s.inactivity_h * 3600:
            away = ctx.household.away_until
            quiet = quiet_since(since, last_sign=last_sign,
                                checked=ctx.checked.get(AlertKind.INACTIVITY),
                                away_end=away if away is not None and away < now else None,
                                last_kind=home.last_sign_kind.value if home and home.last_sign_kind
                                else None)
            said, said_zh = since_words(ALL_KINDS, since, now, tz, quiet)
            kind = home.last_sign_kind.value if home and home.last_sign_kind else None
            named = kind is not None and kind != "visit" and last_sign is not None  # visits: said
            last_en = f"last: {SIGN_WORDS[kind]}; " if named and kind else ""
            last_zh = f"最后一次是{SIGN_WORDS_ZH[kind]}；" if named and kind else ""
            limit, limit_zh = duration(s.inactivity_h * 3600), duration_zh(s.inactivity_h * 3600)
            findings.append(Finding(
                ctx.household.id, AlertKind.INACTIVITY, Severity.URGENT, since,
                f"{said}; {last_en}the fixed rule alerts after {limit} without a sign of life",
                {"last_sign_at": quiet.last_sign, "counted_from": quiet.reason},
                explanation_zh=f"{said_zh}；{last_zh}固定规则在{limit_zh}没有生活迹象后报警",
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
        text, text_zh = no_water_words(water_since, home.last_sign_at, now, self._tz)
        return [Finding(ctx.household.id, AlertKind.NO_WATER, Severity.URGENT, water_since, text,
                        explanation_zh=text_zh)]
