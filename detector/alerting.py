"""From one tick's findings to alerts: open the new, clear the ended, one household at a time.

A household whose judging, opening or clearing fails is logged (one line, with its id and the
error) and skipped; every other household is still judged and alerted. An alert the detector no
longer finds clears itself only on evidence newer than its silence (`detector.restart.may_clear`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from zoneinfo import ZoneInfo

from detector.base import Detector
from detector.context import Context
from detector.explain import cleared_reason
from detector.restart import may_clear
from detector.signs import HomeState
from shouwang.domain.alerts import Alert, AlertKind, AlertState, Finding
from shouwang.metrics import Metrics
from shouwang.storage.alerts import AlertStore

log = logging.getLogger("detector.service")
JUDGED_KINDS = frozenset(AlertKind) - {AlertKind.UNUSUAL_DAY, AlertKind.HELP}
"""Kinds whose alerts clear themselves when the finding goes; a note waits for its visit, and a
press of the help button for staff who went."""
Unresolved = dict[tuple[str, AlertKind], Alert]


def assess(detector: Detector, now: float, homes: Mapping[str, HomeState],
           contexts: Mapping[str, Context]) -> tuple[list[Finding], set[str]]:
    """The detector's findings, and the households it could not judge. If it fails, the
    households are judged in halves until each failing one is alone, logged and skipped (a few
    calls per failing household); if it fails with none at all, nobody was judged."""
    try:
        return detector.assess(now, homes, contexts), set()
    except Exception as exc:
        if not _about_households(detector, now, homes):
            log.warning("detector.assess_failed households=%d error=%r; no findings this tick",
                        len(contexts), exc)
            return [], set(contexts)
        log.warning("detector.assess_failed households=%d error=%r; judging them apart",
                    len(contexts), exc)
    unjudged: set[str] = set()
    return _apart(detector, now, homes, contexts, list(contexts), unjudged), unjudged


def _apart(detector: Detector, now: float, homes: Mapping[str, HomeState],
           contexts: Mapping[str, Context], ids: list[str], unjudged: set[str]) -> list[Finding]:
    findings = []
    for part in (ids[: len(ids) // 2], ids[len(ids) // 2:]):
        try:
            findings += detector.assess(now, homes, {h: contexts[h] for h in part})
        except Exception as exc:
            if len(part) > 1:
                findings += _apart(detector, now, homes, contexts, part, unjudged)
            elif part:
                log.warning("detector.household_failed household=%s error=%r", part[0], exc)
                unjudged.update(part)
    return findings


def _about_households(detector: Detector, now: float, homes: Mapping[str, HomeState]) -> bool:
    """Whether the detector works with no household to judge: then its failure was about some
    household, worth finding by halving; else halving would only repeat it, 2n times."""
    try:
        detector.assess(now, homes, {})
    except Exception:
        return False
    return True


class Alerting:
    def __init__(self, alerts: AlertStore, metrics: Metrics, tz: ZoneInfo,
                 on_alert: Callable[[Alert], None] | None) -> None:
        self._alerts = alerts
        self._metrics = metrics
        self._tz = tz
        self._on_alert = on_alert

    def apply(self, findings: list[Finding], unresolved: Unresolved,
              homes: Mapping[str, HomeState], contexts: Mapping[str, Context], now: float,
              unjudged: set[str], silenced: Callable[[Finding], bool] | None = None) -> None:
        """Open an alert per new finding; clear those unresolved whose finding went (but not
        of households the detector could not judge: their findings are unknown, not gone).
        A `silenced` finding (maintenance) opens nothing, yet still is not an ended condition."""
        found = set()
        for finding in findings:
            found.add((finding.household_id, finding.kind))
            if silenced is not None and silenced(finding):
                continue
            bulkhead(finding.household_id, partial(self._open, finding, unresolved, now))
        for key, alert in list(unresolved.items()):
            if key in found or alert.state is not AlertState.OPEN or alert.kind not in JUDGED_KINDS:
                continue
            if alert.household_id in unjudged:
                continue
            bulkhead(alert.household_id,
                      partial(self._clear, alert, unresolved, homes, contexts, now))

    def open_now(self, finding: Finding, now: float) -> None:
        """Open an alert between ticks (a help press), unless one of its kind is unresolved."""
        alert = self._alerts.open(finding, now=now)
        if alert is not None:
            self._opened(alert)

    def _open(self, finding: Finding, unresolved: Unresolved, now: float) -> None:
        key = (finding.household_id, finding.kind)
        if key in unresolved:
            return
        alert = self._alerts.open(finding, now=now)
        if alert is None:
            return
        unresolved[key] = alert
        self._opened(alert)

    def _opened(self, alert: Alert) -> None:
        self._metrics.alerts_opened.labels(kind=alert.kind.value).inc()
        log.info("detector.alert_opened id=%s household=%s kind=%s why=%r",
                 alert.id, alert.household_id, alert.kind, alert.explanation)
        if self._on_alert is not None:
            self._on_alert(alert)

    def _clear(self, alert: Alert, unresolved: Unresolved, homes: Mapping[str, HomeState],
               contexts: Mapping[str, Context], now: float) -> None:
        household_id = alert.household_id
        ctx = contexts.get(household_id)
        if not may_clear(alert, homes, ctx, now):
            return  # not found now (a restart, a detector's lapse), but nothing shows it ended
        reason = cleared_reason(alert, homes.get(household_id), ctx, self._tz, now)
        if self._alerts.clear(household_id, alert.kind, reason=reason, now=now):
            del unresolved[(household_id, alert.kind)]
            log.info("detector.alert_cleared id=%s household=%s reason=%r",
                     alert.id, household_id, reason)
            if self._on_alert is not None:
                self._on_alert(alert)


def bulkhead(household_id: str, step: Callable[[], None]) -> None:
    """One household's failure is logged and skipped; every other household is judged."""
    try:
        step()
    except Exception as exc:
        log.warning("detector.household_failed household=%s error=%r", household_id, exc)
