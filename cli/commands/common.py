"""What every command does first: load settings and configure logging."""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

from dispatch.gaps import Gap
from shouwang import logs
from shouwang.domain.errors import ShouwangError
from shouwang.domain.webhooks import check_webhook_url
from shouwang.settings import Settings
from shouwang.storage import audit
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.state import StateStore

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


class NoStore(ShouwangError):
    """A command that works on a community found no community's store where the settings point."""


def open_state(args: argparse.Namespace, settings: Settings) -> StateStore:
    """The community's state store, for a command that works on one. Where nothing says where the
    community is (no settings file, no store named in the environment) and no store lies at the
    default place, the command is refused instead of creating one: run outside the community's
    folder, it made an empty store of its own and listed nothing, or registered into a store no
    `shouwang run` reads."""
    url = settings.storage.state_database_url()
    named = settings_file(args) is not None or bool(settings.storage.model_fields_set)
    if not named and url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise NoStore(f"there is no community here: no shouwang.toml in {Path.cwd()} and no store at "
                      f"{url.removeprefix('sqlite:///')}; run this in the community's folder (where "
                      "`shouwang init` wrote shouwang.toml), give --settings FILE, or set a community up "
                      "with `shouwang init`" + (
                          f"; `shouwang run --demo` keeps its own in {DEMO_DIR}/: for it, "
                          f"start the command with SHOUWANG_STORAGE__DATA_DIR={DEMO_DIR}"
                          if (Path(DEMO_DIR) / "state.db").is_file() else ""))
    from cli.bootstrap import open_community_state  # the roles' composition, only when needed

    return open_community_state(settings)


CLI = Actor("cli")


def noted(state: StateStore, action: str, entity: str, entity_id: object,
          details: dict[str, Any] | None = None) -> None:
    """An audit entry for a change made here, as the API records its own (found by a tester:
    staff, grids, hubs and imports changed on the command line left no trace in the trail)."""
    with writing(state.engine) as db:
        audit.record(db, at=time.time(), actor=CLI, action=action, entity=entity, entity_id=entity_id,
                     details=details)


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns: a Chinese character takes two."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)
