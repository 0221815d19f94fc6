"""Payloads of the MQTT contract v1: JSON object or array of up to 1,000 readings.

Each item is judged on its own, so one malformed reading never costs the good ones beside it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shouwang.contract.topics import ReadingTopic
from shouwang.domain.model import FINE_PRESS, HELP_PRESS, HubPresence, Reading, SensorKind

MAX_BATCH = 1000
PRESENCE_STATES = frozenset({"online", "offline"})
MAX_SEQ = 2**63 - 1  # a signed 64-bit integer column, on SQLite and PostgreSQL alike
MAX_TS = 1e11  # the year 5138: anything later is not a clock reading
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # for counting depth, an object is an array


@dataclass(frozen=True, slots=True)
class PayloadLimits:
    """How big and how deeply nested a payload may be before it is refused unread."""

    max_bytes: int = 262_144
    max_depth: int = 8


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused item: the category is counted, the reason is shown to people."""

    category: str
    reason: str
    item: str
    hub_id: str | None = None
    sensor: str | None = None


class DecodeError(ValueError):
    def __init__(self, category: str, reason: str) -> None:
        super().__init__(reason)
        self.category = category
        self.reason = reason


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _number(item: dict[str, Any], key: str, *, required: bool) -> float | None:
    raw = item.get(key)
    if raw is None:
        if required:
            raise DecodeError("bad_value", f"'{key}' is missing")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise DecodeError("bad_value", f"'{key}' must be a number, got {_short(raw, 40)}")
    try:
        value = float(raw)
    except OverflowError:
        raise DecodeError("bad_value", f"'{key}' is out of range, got {_short(str(raw), 40)}") from None
    if not math.isfinite(value):
        raise DecodeError("bad_value", f"'{key}' must be finite, got {raw}")
    return value


def parse_ts(raw: Any) -> float:
    """UNIX seconds (number) or an RFC 3339 string with an offset."""
    if isinstance(raw, bool):
        raise DecodeError("bad_timestamp", "'ts' must be UNIX seconds or an RFC 3339 string")
    if isinstance(raw, int | float):
        try:
            ts = float(raw)
        except OverflowError:
            raise DecodeError("bad_timestamp", f"'ts' is out of range, got {_short(str(raw), 40)}") from None
    elif isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise DecodeError("bad_timestamp", f"'ts' {_short(raw, 40)} is not RFC 3339") from None
        if parsed.tzinfo is None:
            raise DecodeError("bad_timestamp", f"'ts' {raw} has no UTC offset; add Z or +08:00")
        ts = parsed.timestamp()
    elif raw is None:
        raise DecodeError("bad_timestamp", "'ts' is missing")
    else:
        raise DecodeError("bad_timestamp", "'ts' must be UNIX seconds or an RFC 3339 string")
    if not 0.0 <= ts <= MAX_TS:  # also refuses NaN and infinities
        raise DecodeError("bad_timestamp", f"'ts' must be UNIX seconds from 0 to {MAX_TS:.0f}, "
                          f"got {_short(str(raw), 40)}")
    return ts


def decode_item(topic: ReadingTopic, item: Any) -> Reading:
    if not isinstance(item, dict):
        raise DecodeError("malformed", f"a reading must be a JSON object, got {_short(item, 40)}")
    claimed = item.get("hub_id")
    if claimed is not None and claimed != topic.hub_id:
        raise DecodeError(
            "hub_mismatch", f"reading claims hub {_short(claimed, 64)} but came on {topic.hub_id}'s topic"
        )
    ts = parse_ts(item.get("ts"))
    value = _number(item, "value", required=True)
    assert value is not None
    if topic.kind is SensorKind.DOOR:
        if value not in (0.0, 1.0):
            raise DecodeError("bad_value", f"door value must be 1 (open) or 0 (closed), got {value}")
    elif topic.kind is SensorKind.MOTION:
        if value not in (0.0, 1.0):
            raise DecodeError("bad_value", f"motion value must be 1 (movement seen) or 0 (cleared), got {value}")
    elif topic.kind is SensorKind.BUTTON:
        if value not in (HELP_PRESS, FINE_PRESS):
            raise DecodeError("bad_value", f"button value must be {HELP_PRESS:g} (help) or {FINE_PRESS:g} "
                                           f"(I am fine), got {value}")
    elif value < 0:
        raise DecodeError("bad_value", f"{topic.kind} register cannot be negative, got {value}")
    power = _number(item, "power_w", required=False)
    if power is not None and (power < 0 or topic.kind is not SensorKind.ELECTRICITY):
        raise DecodeError("bad_value", "'power_w' must be >= 0 and only on electricity")
    seq = item.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ):
        raise DecodeError("bad_value", f"'seq' must be an integer from 0 to 2**63-1, got {_short(str(seq), 40)}")
    reset = item.get("reset", False)
    if not isinstance(reset, bool):
        raise DecodeError("bad_value", "'reset' must be true or false")
    return Reading(topic.hub_id, topic.sensor, topic.kind, ts, value, power, seq, reset)


def nests_deeper(payload: bytes, limit: int) -> bool:
    """Whether a JSON text nests arrays and objects deeper than `limit`, counted before parsing
    (the parser itself recurses). Escaped backslashes and quotes go first, so every quote left
    opens or closes a string, and what lies between them (brackets in text) is left out."""
    text = payload.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    brackets = b"".join(text.split(b'"')[::2]).translate(_ONE_KIND)
    peeled = brackets
    for _ in range(limit):  # each round peels the innermost level (and only it), at C speed
        peeled = peeled.replace(b"[]", b"")
    if not peeled:
        return False
    depth = 0  # too deep, or unbalanced (the parser will say so): count, stopping past the limit
    for byte in brackets:
        depth += 1 if byte == ord("[") else -1
        if depth > limit:
            return True
    return False


_DECODER = json.JSONDecoder()
"""What `json.loads` decodes with, called without its per-call checks."""


def _text(payload: bytes) -> str:
    """The payload as text, in the encoding `json.loads` would detect. A document opening with a
    bracket and no NUL after it is UTF-8 to `json.detect_encoding` (JSON's own rule): that, a
    hub's every payload, is decided here without it."""
    if payload[:1] in (b"{", b"[") and payload[1:2] != b"\x00":
        return payload.decode("utf-8", "surrogatepass")
    return payload.decode(json.detect_encoding(payload), "surrogatepass")


def load_json(payload: bytes, limits: PayloadLimits, what: str = "payload") -> Any:
    """The JSON document in `payload`, refused before parsing when too big or too deeply nested."""
    if len(payload) > limits.max_bytes:
        raise DecodeError("too_large", f"{what} is {len(payload)} bytes; at most {limits.max_bytes}")
    if payload.count(b"[") + payload.count(b"{") > limits.max_depth and nests_deeper(payload, limits.max_depth):
        raise DecodeError("too_deep", f"{what} nests deeper than {limits.max_depth} levels")
    try:
        return _DECODER.decode(_text(payload))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, huge integers
        raise DecodeError("malformed", f"{what} is not JSON: {_short(str(exc), 200)}") from None


def decode_readings(
    topic: ReadingTopic, payload: bytes, limits: PayloadLimits = PayloadLimits()
) -> tuple[list[Reading], list[Rejection]]:
    """Every good reading in the payload, and a rejection for each bad one; never raises."""
    try:
        document = load_json(payload, limits)
    except DecodeError as exc:
        return [], [Rejection(exc.category, exc.reason, _short(payload[:400].decode("utf-8", "replace")))]
    items = document if isinstance(document, list) else [document]
    if not items:  # so that every message leaves a trace: readings, or a letter saying why not
        return [], [Rejection("malformed", "the message holds no readings (an empty array)", "[]")]
    if len(items) > MAX_BATCH:
        return [], [Rejection("too_many", f"{len(items)} readings in one message; at most {MAX_BATCH}",
                              f"[{len(items)} items]")]
    good: list[Reading] = []
    bad: list[Rejection] = []
    for item in items:
        try:
            good.append(decode_item(topic, item))
        except DecodeError as exc:
            bad.append(Rejection(exc.category, exc.reason, _short(item)))
        except Exception as exc:  # a bug of ours must cost only this item (and show in its letter)
            bad.append(Rejection("internal", f"could not decode this reading: {_short(repr(exc), 300)}",
                                 _short(item)))
    return good, bad


def decode_presence(hub_id: str, payload: bytes, limits: PayloadLimits = PayloadLimits()) -> HubPresence:
    document = load_json(payload, limits, "status")
    if not isinstance(document, dict) or not isinstance(state := document.get("state"), str) \
            or state not in PRESENCE_STATES:
        raise DecodeError("bad_value", 'status must be {"state": "online" | "offline", ...}')
    ts = parse_ts(document["ts"]) if document.get("ts") is not None else None
    battery = _number(document, "battery", required=False)
    if battery is not None and 1.0 < battery <= 100.0:
        battery /= 100.0  # a percentage, as many hubs say it (found by a tester: refused whole)
    if battery is not None and not 0.0 <= battery <= 1.0:
        raise DecodeError("bad_value", f"battery must be a share (0-1) or a percentage (0-100), got {battery}")
    return HubPresence(hub_id, state, ts, battery)
