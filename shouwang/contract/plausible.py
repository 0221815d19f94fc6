"""What a household meter can physically do: readings beyond it are faults or forgeries.

A household water meter (DN15) passes at most about 3 m³/h, a household gas meter (G4–G6)
6–10 m³/h, a household supply 10–45 kW; the limits in settings leave room above those. A
reading beyond them is refused and never becomes the register's baseline, so one outlier cannot
make every later honest reading look like a register running backwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shouwang.domain.model import Reading, SensorKind

SHORTEST_INTERVAL_S = 60.0
"""Rates are judged over at least a minute, so a register ticking one step within a second of
the last reading is not a burst."""


def _default_rates() -> dict[SensorKind, float]:
    return {SensorKind.WATER: 10.0, SensorKind.GAS: 16.0, SensorKind.ELECTRICITY: 60.0}


@dataclass(frozen=True, slots=True)
class Plausible:
    """Per sensor kind, the most a register can rise per hour (m³/h; kWh/h, i.e. kW), the
    largest register value, and the most instantaneous power (W)."""

    max_rate_per_h: Mapping[SensorKind, float] = field(default_factory=_default_rates)
    max_register: float = 1e7
    max_power_w: float = 60_000.0

    def problem(self, reading: Reading, last_ts: float | None, last_value: float | None) -> str | None:
        """Why `reading` is physically impossible after the register's newest (`last_*`), if it is."""
        if reading.kind.is_register and reading.value > self.max_register:
            return f"{reading.sensor} register {reading.value:.6g} exceeds any meter's ({self.max_register:.6g})"
        if reading.power_w is not None and reading.power_w > self.max_power_w:
            return f"power {reading.power_w:.6g} W exceeds a household supply ({self.max_power_w:.6g} W)"
        rate = self.max_rate_per_h.get(reading.kind)
        if rate is None or last_ts is None or last_value is None or reading.reset or reading.ts <= last_ts:
            return None
        hours = max(reading.ts - last_ts, SHORTEST_INTERVAL_S) / 3600
        rise = reading.value - last_value
        if rise > rate * hours:
            return (f"{reading.sensor} register rose {rise:.6g} in {(reading.ts - last_ts) / 60:.1f} min, "
                    f"{rise / hours:.6g} per hour; no household meter passes more than {rate:g}")
        return None
