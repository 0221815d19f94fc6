"""What every command does first: load settings and configure logging."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path
from typing import Any

from dispatch.gaps import Gap
from shouwang import logs
from shouwang.domain.webhooks import check_webhook_url
from shouwang.settings import Settings

DEMO_DIR = "shouwang-demo-data"
"""Where `shouwang run --demo` keeps its data, apart from a real community's."""

DEFAULT_SETTINGS_FILE = Path("shouwang.toml")
"""The settings file `shouwang init` writes, read by every command run beside it without --settings."""


def positive(kind: type[int] | type[float]) -> Any:
    """An argparse type: a number of `kind` above 0, or a clear usage error."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r}: must be above 0")
        return value
    parse.__name__ = kind.__name__  # what argparse calls the type in its messages
    return parse


def checked_webhook(url: str, *, allow_http: bool) -> str:
    """A webhook address as given at the command line: refused (InvalidWebhook) unless it is one,
    plain http only with --allow-http, and then warned about."""
    address = check_webhook_url(url, allow_http=allow_http)
    if address.plain_http:
        print(f"warning: webhook {address.url} is plain http: alerts (names, addresses) cross the "
              "network unencrypted; use https where the receiver can", file=sys.stderr)
    return address.url


def gap_lines(gap: Gap, lead: str) -> list[str]:
    """A gap for the terminal, Chinese first (the duty leader's language) and the English beneath,
    aligned: the CLI has no language setting, and whoever reads a start-up banner must understand it."""
    return [f"{lead}{gap.zh}", f"{' ' * len(lead)}{gap.en}"]


def settings_file(args: argparse.Namespace) -> Path | None:
    """--settings, else shouwang.toml in the current folder when there is one."""
    given: Path | None = getattr(args, "settings", None)
    if given is not None:
        return given
    return DEFAULT_SETTINGS_FILE if DEFAULT_SETTINGS_FILE.is_file() else None


def load_settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    settings = Settings.load(settings_file(args), **overrides)
    logs.configure(settings.log_level, as_json=settings.log_json)
    return settings


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns: a Chinese character takes two."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)
