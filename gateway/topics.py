"""Topics of the MQTT contract v1, as pure values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shouwang.domain.model import SensorKind

HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SENSOR_SUFFIX = re.compile(r"^[a-z0-9_-]{1,32}$")


class TopicError(ValueError):
    """The topic is not one the contract defines."""


@dataclass(frozen=True, slots=True)
class ReadingTopic:
    hub_id: str
    sensor: str
    kind: SensorKind


@dataclass(frozen=True, slots=True)
class StatusTopic:
    hub_id: str


def reading_topic(prefix: str, hub_id: str, sensor: str) -> str:
    return f"{prefix}/hubs/{hub_id}/{sensor}"


def status_topic(prefix: str, hub_id: str) -> str:
    return f"{prefix}/hubs/{hub_id}/status"


def hub_subscription(prefix: str) -> str:
    return f"{prefix}/hubs/+/+"


def staff_topic(prefix: str, staff_id: int) -> str:
    return f"{prefix}/staff/{staff_id}/alerts"


def hub_id_from(topic: str, prefix: str) -> str | None:
    """The hub a topic names, if it names one, even when the rest is wrong."""
    parts = topic.split("/")
    base = prefix.split("/")
    if parts[: len(base)] == base and len(parts) > len(base) + 1 and parts[len(base)] == "hubs":
        return parts[len(base) + 1] or None
    return None


def parse(topic: str, prefix: str) -> ReadingTopic | StatusTopic:
    """`shouwang/v1/hubs/h-1/water` → ReadingTopic; `.../status` → StatusTopic."""
    head = f"{prefix}/hubs/"
    if not topic.startswith(head):
        raise TopicError(f"topic {topic!r} is not under {head}")
    rest = topic[len(head):].split("/")
    if len(rest) != 2:
        raise TopicError(f"topic {topic!r} must be {head}{{hub_id}}/{{sensor}}")
    hub_id, sensor = rest
    if not HUB_ID.match(hub_id):
        raise TopicError(f"hub id {hub_id!r} is not valid (letters, digits, _ . -; up to 64)")
    if sensor == "status":
        return StatusTopic(hub_id)
    kind_name, _, suffix = sensor.partition(".")
    try:
        kind = SensorKind(kind_name)
    except ValueError:
        kinds = ", ".join(k.value for k in SensorKind)
        raise TopicError(f"sensor {sensor!r} is not one of {kinds} (or e.g. door.balcony)") from None
    if "." in sensor and not SENSOR_SUFFIX.match(suffix):
        raise TopicError(f"sensor name {sensor!r} has an invalid suffix after the dot")
    return ReadingTopic(hub_id, sensor, kind)
