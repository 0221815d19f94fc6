"""A staff member's notification channels: an ordered list of where and how they are reached.

Each entry is one kind (a generic webhook, a WeCom, DingTalk or Feishu group robot, a phone number
reached through the community's SMS/voice gateway, their MQTT topic) with its address and options.
Entries are checked where they are entered (`shouwang.domain.webhooks.check_channel`); this module
holds the value itself, its stored form and what may be shown of it (never a secret in full).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shouwang.domain.delivery import Channel
from shouwang.domain.errors import InvalidInput

LANGUAGES = ("zh", "en")
MSGTYPES = ("text", "markdown")
ROBOTS = frozenset({Channel.WECOM, Channel.DINGTALK, Channel.FEISHU})
SIGNED_ROBOTS = frozenset({Channel.DINGTALK, Channel.FEISHU})
"""Robots whose service documents a signing secret (WeCom's robot has none: its key is in the URL)."""
_ROBOT_TOKEN = re.compile(r"((?:key|access_token)=)([^&#]+)|(/hook/)([^/?#]+)")


@dataclass(frozen=True, slots=True)
class StaffChannel:
    kind: Channel
    address: str = ""
    """The URL for webhook and robots, the phone number for SMS; empty for MQTT (the topic is theirs)."""
    secret: str | None = None
    """A DingTalk or Feishu robot's signing secret."""
    lang: str = "zh"
    msgtype: str = "text"
    """For robots: a plain text message (rings on every phone) or markdown."""

    def as_json(self) -> dict[str, Any]:
        """The stored form (the secret included: it is needed to sign)."""
        stored: dict[str, Any] = {"kind": self.kind.value, "address": self.address, "lang": self.lang}
        if self.secret:
            stored["secret"] = self.secret
        if self.msgtype != "text":
            stored["msgtype"] = self.msgtype
        return stored

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> StaffChannel:
        return cls(Channel(stored["kind"]), str(stored.get("address") or ""),
                   stored.get("secret") or None, str(stored.get("lang") or "zh"),
                   str(stored.get("msgtype") or "text"))

    @property
    def shown_address(self) -> str:
        """The address as lists and answers show it: a robot's token cut short (it lets anyone post)."""
        if self.kind not in ROBOTS:
            return self.address
        return _ROBOT_TOKEN.sub(lambda m: (m[1] or m[3]) + _cut(m[2] or m[4]), self.address)

    @property
    def shown_secret(self) -> str | None:
        return None if not self.secret else _cut(self.secret)

    def describe(self) -> str:
        """One line for `staff list` and the CLI's answers; never the secret in full."""
        parts = [f"{self.kind.value}:{self.shown_address}" if self.address else self.kind.value]
        if self.secret:
            parts.append(f"secret {self.shown_secret}")
        if self.lang != "zh":
            parts.append(self.lang)
        if self.msgtype != "text":
            parts.append(self.msgtype)
        return " ".join(parts)


def _cut(token: str) -> str:
    return token[:4] + "…" if len(token) > 6 else "…"


def legacy(webhook_url: str | None, notify_mqtt: bool) -> tuple[StaffChannel, ...]:
    """The channels a staff member registered before channel lists had: their webhook, their MQTT."""
    found = [StaffChannel(Channel.WEBHOOK, webhook_url)] if webhook_url else []
    if notify_mqtt:
        found.append(StaffChannel(Channel.MQTT))
    return tuple(found)


def with_legacy(channels: Sequence[StaffChannel], *, webhook_url: str | bool | None = False,
                notify_mqtt: bool | None = None) -> tuple[StaffChannel, ...]:
    """The list after the old fields changed: `--webhook URL` ('' / None removes it), `--(no-)mqtt`.

    `webhook_url=False` means it was not given. An existing entry keeps its place and options.
    """
    result = list(channels)
    if webhook_url is not False:
        at = next((i for i, c in enumerate(result) if c.kind is Channel.WEBHOOK), None)
        if not webhook_url:
            result = [c for c in result if c.kind is not Channel.WEBHOOK]
        elif at is None:
            result.insert(0, StaffChannel(Channel.WEBHOOK, str(webhook_url)))
        else:
            result[at] = replace(result[at], address=str(webhook_url))
    if notify_mqtt is not None:
        has = any(c.kind is Channel.MQTT for c in result)
        if notify_mqtt and not has:
            result.append(StaffChannel(Channel.MQTT))
        elif not notify_mqtt:
            result = [c for c in result if c.kind is not Channel.MQTT]
    return tuple(result)


MIN_PHONE_DIGITS = 5
"""A phone number shown to colleagues: as written (spaces, dashes, an extension), with at least
this many digits (12345, the government's hotline, is the shortest that is called)."""


def check_phone(text: str | None) -> str | None:
    """A staff member's phone as given, stripped (None or empty: none); InvalidInput if it holds
    no phone number at all."""
    if text is None or not text.strip():
        return None
    if sum(c.isdigit() for c in text) < MIN_PHONE_DIGITS:
        raise InvalidInput(f"phone {text.strip()!r} is not a phone number, e.g. 13800000000")
    short = mobile_problem(text)
    if short is not None:
        raise InvalidInput(f"phone {text.strip()!r}: {short}")
    return text.strip()


def mobile_problem(number: str) -> str | None:
    """Why `number` cannot be a mainland mobile it looks like, if so: one starting with 1 (after
    +86) has 11 digits. Found by a tester: 1380000000, a digit short, was taken, and every text
    to it would have failed (a landline, 010-…, or a number abroad is not judged)."""
    text = number.strip()
    digits = "".join(c for c in text if c.isdigit())
    prefixed = text.startswith("00") and not text.startswith("000")  # 0086…: the international prefix
    international = text.startswith("+") or prefixed
    if prefixed:
        digits = digits[2:]
    if international and digits.startswith("0"):
        return "no country code begins with 0: give +86 and the number, or the number alone"
    # found by testers: +86 00000, 0086 0000000 and +1 0000000 were taken past the country code
    china = not international or digits.startswith("86")
    national = digits if not international else digits[2:] if china else digits[1:]
    if china and national.startswith("10") and international and len(national) != 10:
        return f"a Beijing number has 10 digits after +86, this has {len(national)}"
    if china and national.startswith("1") and not (international and national.startswith("10")) \
            and len(national) != 11:
        return f"a mobile number has 11 digits, this has {len(national)}"
    if set(national) <= {"0"}:
        return "a telephone number is not only zeros"
    if len(national) < (6 if international else 7):
        return f"a telephone number has at least 7 digits, this has {len(national)}"
    return None


def mention_number(phone: str) -> str:
    """The number as a group robot matches a member by: digits only, without +86 (found by a
    tester: "138 0000 0001" and "+86 138-0000-0001" were sent as written, and the @-mention that
    rings the phone matched nobody, while the robot still answered that all was well)."""
    text = phone.strip()
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("00"):
        digits = digits[2:]
    if (text.startswith("+") or text.startswith("00")) and digits.startswith("86"):
        digits = digits[2:]
    return digits


def legacy_fields(channels: Iterable[StaffChannel]) -> dict[str, Any]:
    """The old columns kept in step with the list, for what still reads them."""
    listed = list(channels)
    webhook = next((c.address for c in listed if c.kind is Channel.WEBHOOK), None)
    return {"webhook_url": webhook, "notify_mqtt": any(c.kind is Channel.MQTT for c in listed)}


def find(channels: Iterable[StaffChannel], kind: Channel) -> StaffChannel | None:
    return next((c for c in channels if c.kind is kind), None)
