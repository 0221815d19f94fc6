"""What every command does first: load settings and configure logging."""

from __future__ import annotations

import argparse
from typing import Any

from shouwang import logs
from shouwang.settings import Settings

DEMO_DIR = "shouwang-demo-data"
"""Where `shouwang run --demo` keeps its data, apart from a real community's."""


def load_settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    settings = Settings.load(args.settings, **overrides)
    logs.configure(settings.log_level, as_json=settings.log_json)
    return settings
