"""The `shouwang` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from cli.commands import api, care, db, evaluate, init, registry, roles, run, settings_cmd, simulate
from shouwang.domain.errors import ShouwangError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="shouwang",
        description="Shouwang (守望): watching over elders who live alone.",
    )
    top.add_argument("--settings", type=Path, metavar="FILE",
                     help="a TOML settings file (default: shouwang.toml in this folder, as `shouwang init` "
                          "writes it; environment variables SHOUWANG_* still win)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init.add_parser(commands)
    run.add_parser(commands)
    roles.add_parsers(commands)
    api.add_parser(commands)
    simulate.add_parser(commands)
    evaluate.add_parser(commands)
    registry.add_parsers(commands)
    settings_cmd.add_parser(commands)
    db.add_parser(commands)
    care.add_parser(commands)
    return top


EXTRAS = {"psycopg": ("postgres", "PostgreSQL"), "influxdb_client": ("influx", "InfluxDB"),
          "urllib3": ("influx", "InfluxDB")}
"""A missing module → (the extra that installs it, the store it is for)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except ShouwangError as exc:
        print(f"shouwang: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"].removeprefix("Value error, ")
            for e in exc.errors())
        print(f"shouwang: invalid settings ({problems}); see the Settings section of README.md",
              file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"shouwang: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # found by a tester: a traceback for a production store's driver
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"shouwang: the {extra[1]} driver is not installed: pip install -e '.[{extra[0]}]' in the "
              "project's folder (or pip install 'shouwang[" + extra[0] + "]')", file=sys.stderr)
        return 2
    except DBAPIError as exc:  # a store that cannot be reached: said in one line, not a traceback
        if not exc.connection_invalidated and not isinstance(exc, OperationalError):
            raise
        print(f"shouwang: the store cannot be reached: {str(exc.orig).strip().splitlines()[0][:300]}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
