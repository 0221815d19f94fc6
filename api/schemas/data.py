"""What the readings say: hourly use, signs of life per hour, a household's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class HourlyUse(BaseModel):
    hour: datetime = Field(description="start of the hour (UTC)")
    use: float = Field(description="m³ for water and gas, kWh for electricity, "
                                   "state changes for a door, movements for motion, presses for a button")
    readings: int


class SensorUse(BaseModel):
    sensor: str
    unit: str
    hours: list[HourlyUse]


class ReadingsOut(BaseModel):
    household_id: str
    start: datetime
    end: datetime
    sensors: list[SensorUse]

    model_config = {"json_schema_extra": {"examples": [{
        "household_id": "sim-0001", "start": "2025-11-22T00:00:00Z",
        "end": "2025-11-22T02:00:00Z", "sensors": [{"sensor": "water", "unit": "m3", "hours": [
            {"hour": "2025-11-22T00:00:00Z", "use": 0.012, "readings": 5},
            {"hour": "2025-11-22T01:00:00Z", "use": 0.0, "readings": 4}]}]}]}}


class SilenceOut(BaseModel):
    since: datetime = Field(description="the last sign of life")
    hours: float
    expected: float = Field(description="signs of life a usual day of this household brings in as long")


class ActivityOut(BaseModel):
    household_id: str
    start: datetime
    hours: int
    kinds: list[str]
    counts: dict[str, list[int]] = Field(description="per kind: signs of life in each hour from "
                                                     "start, oldest first")
    usual: dict[str, list[float]] = Field(
        default_factory=dict, description="per kind: this household's average signs of life in each local "
        "hour of the day (0-23) over the 28 days before, days with any life only")
    usual_days: int = Field(default=0, description="the days `usual` is the average of")
    silence: SilenceOut | None = Field(default=None, description="the silence going on now, if any")


class TimelineEvent(BaseModel):
    at: datetime
    kind: str = Field(description="sign_of_life, alert, visit, silence, consent, colour")
    text: str
    details: dict[str, Any]


class TimelineOut(BaseModel):
    household_id: str
    start: datetime
    end: datetime
    events: list[TimelineEvent]
