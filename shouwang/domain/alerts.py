"""Alerts and their lifecycle: open → acknowledged → resolved, as pure transitions."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

from shouwang.domain.errors import AlertAlreadyResolved, Conflict, InvalidInput


class AlertKind(enum.StrEnum):
    INACTIVITY = "inactivity"
    NO_WATER = "no_water"
    HUB_OFFLINE = "hub_offline"
    WATER_RUNNING = "water_running"
    GAS_RUNNING = "gas_running"
    UNUSUAL_DAY = "unusual_day"
    """A low-severity note for the next visit: a day unlike the household's usual days."""
    HELP = "help"


class AlertState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(enum.StrEnum):
    URGENT = "urgent"
    WARNING = "warning"
    NOTE = "note"


class Outcome(enum.StrEnum):
    ELDER_FINE = "elder_fine"
    NEEDED_HELP = "needed_help"
    HOSPITALISED = "hospitalised"
    DIED = "died"
    WAS_AWAY = "was_away"
    DEVICE_FAULT = "device_fault"
    FALSE_ALARM = "false_alarm"
    # Only the system sets this: life resumed, the hub came back or the flow stopped
    # before anyone acknowledged the alert.
    CLEARED_ITSELF = "cleared_itself"


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector concluded about one household at one moment."""

    household_id: str
    kind: AlertKind
    severity: Severity
    since: float
    explanation: str
    details: dict[str, Any] = field(default_factory=dict)
    explanation_zh: str | None = None
    """The same explanation in Simplified Chinese, the language of the people who act on it."""

    def stored_details(self) -> dict[str, Any]:
        if self.explanation_zh is None:
            return self.details
        return {**self.details, "explanation_zh": self.explanation_zh}


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    household_id: str
    kind: AlertKind
    state: AlertState
    severity: Severity
    opened_at: float
    since: float
    explanation: str
    escalation_level: int = 0
    notified_level: int = -1
    next_escalation_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: int | None = None
    resolved_at: float | None = None
    resolved_by: int | None = None
    outcome: Outcome | None = None
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_resolved(self) -> bool:
        return self.state is AlertState.RESOLVED

    @property
    def explanations(self) -> dict[str, str]:
        """The explanation by language ("en", "zh"); English where no translation was stored."""
        return {"en": self.explanation, "zh": self.details.get("explanation_zh") or self.explanation}


def acknowledge(alert: Alert, *, staff_id: int, now: float) -> Alert:
    """Someone is on it: escalation stops. Acknowledging twice is harmless."""
    if alert.is_resolved:
        raise AlertAlreadyResolved(alert.id)
    if alert.state is AlertState.ACKNOWLEDGED:
        return alert
    return dataclasses.replace(
        alert,
        state=AlertState.ACKNOWLEDGED,
        acknowledged_at=now,
        acknowledged_by=staff_id,
        next_escalation_at=None,
    )


def resolve(
    alert: Alert, *, staff_id: int | None, outcome: Outcome, note: str | None, now: float
) -> Alert:
    """Close the alert with what was found; only the system may say it cleared itself."""
    if outcome is Outcome.CLEARED_ITSELF and staff_id is not None:
        raise InvalidInput("outcome 'cleared_itself' is set by the system; choose what you found")
    if alert.is_resolved:
        raise AlertAlreadyResolved(alert.id)
    return dataclasses.replace(
        alert,
        state=AlertState.RESOLVED,
        resolved_at=now,
        resolved_by=staff_id,
        outcome=outcome,
        note=note,
        next_escalation_at=None,
    )


def clears_itself(alert: Alert) -> bool:
    """Only an alert nobody has taken yet resolves itself when its condition ends."""
    return alert.state is AlertState.OPEN


def escalate(alert: Alert, *, waits_s: tuple[float, ...], now: float) -> Alert:
    """Climb one rung; the next rung is due after the ladder's next wait, if any, counted from
    when this rung was due: a rung climbed late (dispatch was down) leaves the next where the
    ladder puts it, not a whole wait after the restart (found by an attacker: 30 minutes down, a
    red alert's duty leader, due 20 minutes in, was called 45 minutes in). A rung climbed early
    (every delivery of the step failed) counts from now."""
    if alert.state is not AlertState.OPEN:
        raise Conflict(f"alert {alert.id} is {alert.state}; only open alerts escalate")
    level = alert.escalation_level + 1
    due = alert.next_escalation_at
    since = due if due is not None and due <= now else now
    next_at = since + waits_s[level] if level < len(waits_s) else None
    return dataclasses.replace(alert, escalation_level=level, next_escalation_at=next_at)
