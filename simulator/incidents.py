"""Scripted incidents: what happens to a simulated home, kept as ground truth."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path


class IncidentKind(enum.StrEnum):
    INCAPACITATION = "incapacitation"
    AWAY = "away"
    HUB_POWER_LOSS = "hub_power_loss"
    NETWORK_OUTAGE = "network_outage"
    TAP_RUNNING = "tap_running"
    GAS_LEFT_ON = "gas_left_on"
    HELP_PRESS = "help_press"
    """The elder presses the help button at the incident's start (a button report, value 1)."""


@dataclass(frozen=True, slots=True)
class Incident:
    home_id: str
    kind: IncidentKind
    start: float
    end: float | None = None

    def covers(self, ts: float) -> bool:
        return self.start <= ts and (self.end is None or ts < self.end)

    def to_json(self) -> dict[str, object]:
        return asdict(self) | {"kind": self.kind.value}


def write_ground_truth(path: Path, incidents: Iterable[Incident]) -> None:
    """One JSON object per line, so a long run can be read while it grows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for incident in incidents:
            out.write(json.dumps(incident.to_json()) + "\n")


def read_ground_truth(path: Path) -> list[Incident]:
    incidents = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            incidents.append(Incident(raw["home_id"], IncidentKind(raw["kind"]), raw["start"],
                                      raw.get("end")))
    return incidents
