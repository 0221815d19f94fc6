"""Topics of the MQTT contract v1, as pure values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shouwang.domain import model
from shouwang.domain.model import SensorKind

MAX_HUB_ID = 64  # the hub id columns' width, on SQLite and PostgreSQL alike
HUB_ID = model.HUB_ID
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
    """Every topic under the hubs, of any depth, so a topic with a level missing or one too many
    reaches the gateway and is dead-lettered instead of never being heard."""
    return f"{prefix}/hubs/#"


def staff_topic(prefix: str, staff_id: int) -> str:
    return f"{prefix}/staff/{staff_id}/alerts"


Rights = tuple[tuple[str, str], ...]
"""("read" or "write", a topic filter): what an MQTT login may do, as Mosquitto's ACL says it."""


def role_rights(prefix: str) -> dict[str, Rights]:
    """What each of Shouwang's own roles may do on the broker: only what it needs."""
    return {"gateway": (("read", hub_subscription(prefix)),),
            "detector": (("read", hub_subscription(prefix)),),
            "dispatch": (("write", f"{prefix}/staff/+/alerts"),),
            "simulator": (("write", hub_subscription(prefix)),)}


STAFF_LOGIN = re.compile(r"staff-([1-9][0-9]{0,17})")
"""A staff member's phone app logs in as `staff-<staff id>`. Found by a tester: the app's login
was the bare staff id, which is also a valid hub id, so hub `2` (a device in an elder's home)
read every alert sent to staff member 2, names, addresses and acknowledgement links included.
Hub ids may not begin with `staff-` (`model.check_hub_id`), so the two never meet."""


def staff_login(staff_id: int) -> str:
    return f"staff-{staff_id}"


def login_rights(prefix: str, username: str) -> Rights:
    """Any other login: a staff member's phone app (`staff-<staff id>`) reads only its own alerts;
    a hub (its username is its hub id) publishes only under its own id."""
    staff = STAFF_LOGIN.fullmatch(username)
    if staff is not None:
        return (("read", staff_topic(prefix, int(staff.group(1)))),)
    if not HUB_ID.fullmatch(username) or username.lower().startswith("staff-"):
        # found by a tester: a login `+` or `#` became a wildcard and wrote under every hub (a faked
        # help press opened an urgent alert), and `staff-02` read staff member 2's alerts
        return ()
    return (("write", f"{prefix}/hubs/{username}/#"),)


def hub_id_from(topic: str, prefix: str) -> str | None:
    """The hub a topic names, if it names one, even when the rest is wrong."""
    parts = topic.split("/")
    base = prefix.split("/")
    if parts[: len(base)] == base and len(parts) > len(base) + 1 and parts[len(base)] == "hubs":
        return parts[len(base) + 1][:MAX_HUB_ID] or None  # cut to fit the dead letters' hub column
    return None


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def parse(topic: str, prefix: str) -> ReadingTopic | StatusTopic:
    """`shouwang/v1/hubs/h-1/water` → ReadingTopic; `.../status` → StatusTopic."""
    head = f"{prefix}/hubs/"
    if not topic.startswith(head):
        raise TopicError(f"topic {_cut(topic)!r} is not under {head}")
    rest = topic[len(head):].split("/")
    if len(rest) != 2:
        raise TopicError(f"topic {_cut(topic)!r} must be {head}{{hub_id}}/{{sensor}}")
    hub_id, sensor = rest
    if not HUB_ID.fullmatch(hub_id):
        raise TopicError(f"hub id {_cut(hub_id)!r} is not valid (letters, digits, _ . -; up to 64)")
    if sensor == "status":
        return StatusTopic(hub_id)
    kind_name, _, suffix = sensor.partition(".")
    try:
        kind = SensorKind(kind_name)
    except ValueError:
        kinds = ", ".join(k.value for k in SensorKind)
        raise TopicError(f"sensor {_cut(sensor)!r} is not one of {kinds} (or e.g. door.balcony)") from None
    if "." in sensor and not SENSOR_SUFFIX.fullmatch(suffix):
        raise TopicError(f"sensor name {_cut(sensor)!r} has an invalid suffix after the dot")
    return ReadingTopic(hub_id, sensor, kind)
