"""`shouwang init`: a community's first run — its settings file, its secret and its first admin."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cli.bootstrap import ensure_secret, open_community_state
from cli.commands.common import DEFAULT_SETTINGS_FILE
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Role
from shouwang.settings import Settings
from shouwang.storage.audit import Actor
from shouwang.storage.credentials import MIN_PASSWORD

NEXT_STEPS = """
Next steps (from this folder, so `shouwang` finds {file}):
  shouwang grids add g-01 东园网格
  shouwang staff add wang.fang --name 王芳 --role grid_member --grid g-01 --webhook https://hooks.example.org/wang
  shouwang staff add zhou.hong --name 周红 --role duty_leader     # the top of every ladder
  shouwang staff password wang.fang
  shouwang households import households.csv      # id, colour, grid, hub (+ consent columns)
  shouwang run
Then sign in at the web page as {admin} with the password you just gave."""


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "init", help="set up a new community: settings file, secret key and the first admin",
        description="Set up a new community: write its settings file (name, time zone, where data "
                    "lives), generate its secret key, create the state store and its first admin. "
                    "Asks for what the flags do not give when run at a terminal.")
    p.add_argument("--community", help="the community's name, shown on the page, e.g. 利民社区")
    p.add_argument("--timezone", help="its time zone (default Asia/Shanghai)")
    p.add_argument("--data-dir", type=Path, help="where readings and state are kept (default shouwang-data)")
    p.add_argument("--admin", help="the first admin's username, e.g. admin")
    p.add_argument("--admin-name", help="the first admin's full name")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the admin's password from standard input (otherwise asked twice)")
    p.add_argument("--file", type=Path, default=DEFAULT_SETTINGS_FILE,
                   help=f"the settings file to write (default {DEFAULT_SETTINGS_FILE})")
    p.add_argument("--force", action="store_true", help="overwrite an existing settings file")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.file.exists() and not args.force:
        raise InvalidInput(f"{args.file} exists already; this community is set up (use --force to start over)")
    community = _ask(args.community, "community name (社区名称)", "--community")
    timezone = _ask(args.timezone, "time zone", "--timezone", default="Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {timezone!r}; use a name like Asia/Shanghai") from None
    data_dir = Path(_ask(str(args.data_dir) if args.data_dir else None, "data folder", "--data-dir",
                         default="shouwang-data"))
    admin = _ask(args.admin, "first admin's username", "--admin", default="admin")
    admin_name = _ask(args.admin_name, "first admin's full name", "--admin-name")
    password = _password(args.password_stdin)
    if len(password) < MIN_PASSWORD:  # refused before anything is written
        raise InvalidInput(f"the admin's password needs at least {MIN_PASSWORD} characters")
    # a dict, not StorageSettings(...): the environment's other storage settings (a PostgreSQL
    # state_url) still count; found by a tester, the first admin went into a SQLite file instead
    # and a relative data folder is the settings file's folder's, as every later command reads it
    given: dict[str, Any] = {"community": community, "timezone": timezone,
                             "storage": {"data_dir": data_dir if data_dir.is_absolute()
                                         else args.file.resolve().parent / data_dir}}
    settings = Settings(**given)
    state = open_community_state(settings)  # not over a community whose state store was lost
    ensure_secret(settings)  # generated now, kept beside the data with mode 0600
    try:
        now = time.time()
        member = state.registry.add_staff(username=admin, name=admin_name, role=Role.ADMIN, now=now)
        state.credentials.set_password(member.id, password, actor=Actor("cli"), now=now)
        token = state.registry.issue_token(member.id, name="init", now=now)
    finally:
        state.close()
    args.file.write_text(_toml(community, timezone, data_dir), encoding="utf-8")
    where = settings.storage.state_url or settings.storage.data_dir
    print(f"community {community} set up: settings in {args.file}, data in {where}")
    print(f"admin {admin} created; API token (shown once, keep it safe): {token}")
    print(NEXT_STEPS.format(file=args.file, admin=admin))
    return 0


def _ask(given: str | None, what: str, flag: str, *, default: str | None = None) -> str:
    if given:
        return given.strip()
    if not sys.stdin.isatty():
        if default is not None:
            return default
        raise InvalidInput(f"{flag} is needed (no terminal to ask for the {what})")
    answer = input(f"{what}{f' [{default}]' if default else ''}: ").strip()
    if not answer and default is None:
        raise InvalidInput(f"the {what} is needed; give it with {flag}")
    return answer or (default or "")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the admin's password; pipe it with --password-stdin")
    password = getpass.getpass("the admin's password: ")
    if getpass.getpass("again: ") != password:
        raise InvalidInput("the two passwords differ; nothing was set up")
    return password


def _toml(community: str, timezone: str, data_dir: Path) -> str:
    """The settings file; JSON strings are valid TOML basic strings."""
    return (
        "# Written by `shouwang init`; every setting is listed in README.md (Settings).\n"
        f"community = {json.dumps(community, ensure_ascii=False)}\n"
        f"timezone = {json.dumps(timezone)}\n\n"
        "[storage]\n"
        f"data_dir = {json.dumps(str(data_dir))}\n"
    )
