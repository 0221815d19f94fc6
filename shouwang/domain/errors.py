"""The root of every error Shouwang raises on purpose, and its named kinds."""

from __future__ import annotations


class ShouwangError(Exception):
    """Something a user or operator can act on; the message says what to do."""


class NotFound(ShouwangError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} was not found")
        self.what = what
        self.key = key


class Conflict(ShouwangError):
    """The request contradicts what is stored (a duplicate, a finished alert)."""


class AlertAlreadyResolved(Conflict):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} is already resolved")
        self.alert_id = alert_id


class InvalidInput(ShouwangError):
    """A value a user gave cannot be used."""


class UnsafeSettings(ShouwangError):
    """The settings would expose elders' data; refused outside --demo."""
