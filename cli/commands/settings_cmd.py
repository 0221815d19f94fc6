"""`shouwang settings`: the settings in effect, or the README's table of every setting."""

from __future__ import annotations

import argparse
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cli.commands.common import load_settings
from shouwang import settings_doc


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "settings", help="show the settings in effect (secrets hidden), or every setting's table",
        description="Show the settings in effect after the environment and --settings file, with "
                    "secrets hidden; --markdown prints the table of every setting that README.md carries.")
    p.add_argument("--markdown", action="store_true",
                   help="print the README's settings table (every setting, its default and meaning)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.markdown:
        print(settings_doc.markdown())
        return 0
    settings = load_settings(args)
    shown = settings.model_dump(mode="json")  # SecretStr values dump as '**********'
    for group, key in (("mqtt", "url"), ("storage", "state_url")):
        shown[group][key] = _without_password(shown[group][key])
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


def _without_password(url: str | None) -> str | None:
    """A URL with its password (if any) starred out."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:*****@{host}"))
