"""A household's timeline: signs of life, alerts, visits, silences, consent and colour, newest first.

Pure: the route gathers the rows, this orders and words them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from detector.signs import SignOfLife
from shouwang.domain.alerts import Alert
from shouwang.domain.model import Staff, Visit
from shouwang.storage.audit import AuditEntry
from shouwang.storage.consent import Consent
from shouwang.storage.silences import Silence

GROUP_S = 15 * 60.0
ALERT_ACTIONS = {"opened", "escalated", "acknowledged", "assigned", "commented", "resolved",
                 "cleared", "reminded", "family_called", "family_unreached", "family_delivery_failed"}
"""What the household's staff see of an alert's trail: what people did and whom dispatch asked
(each delivery's success is the delivery list's, not the timeline's; a family's failed one is
shown, as nobody else would tell that the relative never heard)."""
COLOUR_ACTIONS = {"tier_changed", "tier_suggested", "tier_suggestion_declined"}


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    kind: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)


def group_signs(signs: Sequence[SignOfLife]) -> list[Event]:
    """Signs close together become one event ("water x3, door") so a day stays readable."""
    events: list[Event] = []
    bunch: list[SignOfLife] = []
    for sign in sorted(signs, key=lambda s: s.ts):
        if bunch and sign.ts - bunch[-1].ts > GROUP_S:
            events.append(_bunch(bunch))
            bunch = []
        bunch.append(sign)
    if bunch:
        events.append(_bunch(bunch))
    return events


def _bunch(bunch: list[SignOfLife]) -> Event:
    kinds = Counter(s.kind.value for s in bunch)
    words = ", ".join(k if n == 1 else f"{k} x{n}" for k, n in kinds.items())
    return Event(bunch[0].ts, "sign_of_life", f"signs of life: {words}",
                 {"kinds": dict(kinds), "until": bunch[-1].ts})


def alert_events(alerts: Iterable[Alert], entries: Iterable[AuditEntry],
                 staff: Iterable[Staff] = ()) -> list[Event]:
    """Alert history; `staff` lets the page say who acted (a name, not a login) and whom an
    escalation or a reminder reached."""
    names = {s.username: s.name for s in staff}
    people = {s.id: s for s in staff}
    known = {str(a.id): a for a in alerts}
    entries = list(entries)
    reached = _reached(entries)
    relatives = _relatives(entries)
    events = []
    for e in entries:
        alert = known.get(e.entity_id)
        if alert is None or e.action not in ALERT_ACTIONS:
            continue
        text = f"alert {alert.id} ({alert.kind.value}) {e.action} by {e.actor}"
        if e.action == "opened":
            text = f"alert {alert.id} opened: {alert.explanation}"
        details: dict[str, Any] = {"alert_id": alert.id, "alert_kind": alert.kind.value,
                                   "action": e.action, "actor": e.actor,
                                   "actor_name": names.get(e.actor)}
        if e.action in ("resolved", "cleared"):
            details["outcome"] = alert.outcome.value if alert.outcome else None
        if e.action == "resolved":
            details["note"] = alert.note
        if e.action == "escalated":
            ids = reached.get((e.entity_id, e.details.get("level")), [])
            details["escalated_to"] = _people(ids, people)
            # Why it climbed before its wait (failed channels, addresses in them) stays in the trail.
            details["moved_on"] = bool(e.details.get("reason"))
        if e.action == "reminded":
            details["reminder"] = e.details.get("reminder")
            details["reminded"] = _people([s for s, _ in e.details.get("recipients", [])], people)
        relative = relatives.get(e.details.get("contact_id", e.details.get("family_contact_id")))
        if relative is not None:
            details["family"] = relative
        events.append(Event(e.at, "alert", text, details))
    return events


def _people(ids: Iterable[int], people: dict[int, Staff]) -> list[dict[str, str]]:
    seen: list[int] = []
    for i in ids:
        if i in people and i not in seen:
            seen.append(i)
    return [{"name": people[i].name, "role": people[i].role.value} for i in seen]


def _relatives(entries: Iterable[AuditEntry]) -> dict[Any, dict[str, str]]:
    """The family contacts an alert called, by contact id, as the call recorded them (a contact
    removed since is still named where they answered)."""
    return {e.details["contact_id"]: {"name": e.details.get("name", ""), "relation": e.details.get("relation", "")}
            for e in entries if e.action == "family_called" and "contact_id" in e.details}


def colour_events(entries: Iterable[AuditEntry], staff: Iterable[Staff] = ()) -> list[Event]:
    """The household's colour: suggested by dispatch, changed or kept by a person, and why."""
    names = {s.username: s.name for s in staff}
    events = []
    for e in entries:
        if e.action not in COLOUR_ACTIONS:
            continue
        details = {"action": e.action, "actor": e.actor, "actor_name": names.get(e.actor),
                   "from": e.details.get("from"), "to": e.details.get("to"), "reason": e.details.get("reason")}
        change = f" from {details['from']} to {details['to']}" if details["to"] else ""
        events.append(Event(e.at, "colour", f"colour {e.action.removeprefix('tier_')}{change} by {e.actor}",
                            details))
    return events


def _reached(entries: Iterable[AuditEntry]) -> dict[tuple[str, Any], list[int]]:
    """Whom dispatch routed each rung to, (alert id, level) to staff ids, each once."""
    reached: dict[tuple[str, Any], list[int]] = {}
    for e in entries:
        if e.action != "routed":
            continue
        ids = reached.setdefault((e.entity_id, e.details.get("level")), [])
        for staff_id, _channel in e.details.get("recipients", []):
            if staff_id not in ids:
                ids.append(staff_id)
    return reached


def timeline(*, signs: Sequence[SignOfLife], alerts: Iterable[Alert],
             alert_entries: Iterable[AuditEntry], visits: Iterable[Visit],
             silences: Iterable[Silence], consents: Iterable[Consent], start: float,
             end: float, staff: Sequence[Staff] = (),
             household_entries: Iterable[AuditEntry] = ()) -> list[Event]:
    staff_names = {s.id: s.name for s in staff}
    events = group_signs(signs) + alert_events(alerts, alert_entries, staff)
    events += colour_events(household_entries, staff)
    events += [Event(v.at, "visit", f"{'called' if v.how == 'call' else 'visited'}"
                                    f"{': ' + v.note if v.note else ''}",
                     {"staff_id": v.staff_id,
                      "staff_name": None if v.staff_id is None else staff_names.get(v.staff_id),
                      "note": v.note, "how": v.how}) for v in visits]
    for s in silences:
        events.append(Event(s.starts_at, "silence", f"away until {s.until:.0f}",
                            {"silence_id": s.id, "until": s.until, "reason": s.reason,
                             "cancelled_at": s.cancelled_at}))
    for c in consents:
        what = "sensing" if c.sensing else "no sensing"
        events.append(Event(c.given_at, "consent", f"consent by {c.given_by}: {what}",
                            {"sensing": c.sensing, "share_with_family": c.share_with_family}))
    return sorted((e for e in events if start <= e.at < end), key=lambda e: -e.at)
