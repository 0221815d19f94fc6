"""Households from the spreadsheets communities already keep, validated row by row.

Columns (header row required; order free): id, colour, grid, hub — required (hub may be empty:
a household whose hub is not fitted yet);
alias, address, building, grid_name, caseworker (a username), report_interval_s — optional;
consent_by (who agreed to sensing: the elder or a relative), consent_relationship (default
self), consent_date (YYYY-MM-DD, default the day of import) and share_with_family (yes/no) record
the household's consent, without which it is not monitored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import date

from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import Tier, check_hub_id, check_id

REQUIRED = ("id", "colour", "grid", "hub")
REGISTRY = ("alias", "address", "building", "grid_name", "caseworker", "report_interval_s")
"""The optional columns an export carries (consent is kept with its history, not in the sheet)."""
OPTIONAL = (*REGISTRY, "consent_by", "consent_relationship", "consent_date", "share_with_family")
YES = frozenset({"yes", "y", "true", "1", "是", "同意"})
NO = frozenset({"", "no", "n", "false", "0", "否", "不同意"})


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet run a cell as a formula (OWASP's list, the tab and carriage return too)."""


def cell(value: object) -> str:
    """A value for a CSV cell a spreadsheet opens: one that would start a formula is kept text
    with a leading apostrophe (found by a tester: the cockpit's CSVs wrote an alias of
    `=HYPERLINK(...)` as it was, and the exports let a tab or a carriage return before `=` by)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def uncell(text: str) -> str:
    """A cell as `cell` wrote it, read back: an export imports as it was (found by a tester: the
    apostrophe became part of names, phones and addresses)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def spreadsheet_text(raw: bytes, *, source: str) -> str:
    """The text of a CSV file as spreadsheets save it: UTF-8 (with or without Excel's byte-order
    mark), or GB18030/GBK, which Excel writes for "CSV (逗号分隔)" on a Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{source} is neither UTF-8 nor GBK text; save it from the spreadsheet as "
                       "\"CSV UTF-8\" and import it again")


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    line: int
    id: str
    tier: Tier
    grid_id: str
    hub_id: str | None
    """None: no hub fitted yet (a household registered before its hub, as the API allows)."""
    alias: str | None = None
    address: str | None = None
    building: str | None = None
    grid_name: str | None = None
    caseworker: str | None = None
    report_interval_s: float = 900.0
    consent_by: str | None = None
    consent_relationship: str = "self"
    consent_date: date | None = None
    share_with_family: bool = False
    columns: frozenset[str] = frozenset(REQUIRED)
    """The file's columns: a re-import leaves a household's fields the file has no column for
    as they are (found by a tester: an installer's sheet of hubs emptied a red household's
    caseworker, alias and address)."""


def parse(text: str) -> list[HouseholdRow]:
    """Every row, or InvalidInput listing every problem with its line number."""
    rows, problems = check(text)
    if problems:
        raise InvalidInput(nothing_imported(problems))
    return rows


def nothing_imported(problems: list[tuple[int, str]]) -> str:
    lines = [f"line {line}: {problem}" for line, problem in sorted(problems)]
    return "nothing imported; fix these rows:\n  " + "\n  ".join(lines)


def check(text: str) -> tuple[list[HouseholdRow], list[tuple[int, str]]]:
    """The rows that parse, and (line, problem) for each that does not."""
    if "\x00" in text:  # PostgreSQL refuses it in text: said here, not a 500 at the store
        raise InvalidInput("the file holds a NUL character (\\u0000); save it again as CSV UTF-8")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(f"the CSV header lacks {', '.join(missing)}; it needs "
                           f"{', '.join(REQUIRED)} and may have {', '.join(OPTIONAL)}")
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        raise InvalidInput(f"unknown CSV columns {', '.join(unknown)}")
    rows: list[HouseholdRow] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in enumerate(reader, start=2):
        if None in raw:  # more cells than the header: found by a tester, a traceback (and a 500)
            problems.append((line, f"{len(header) + len(raw[None])} cells but the header has "
                             f"{len(header)} columns (a comma inside a cell must be quoted)"))
            continue
        record = {(k or "").strip().lower(): uncell((v or "").strip()) for k, v in raw.items()}
        if not any(record.values()):
            continue  # a spreadsheet's empty row saved as ",,,"
        for key, column in (("household", "id"), ("hub", "hub")):
            value = record.get(column)
            if value and (key, value) in seen:
                problems.append((line, f"{key} {value} repeats line {seen[(key, value)]}"))
            elif value:
                seen[(key, value)] = line
        try:
            rows.append(replace(_row(line, record), columns=frozenset(header)))
        except (InvalidInput, ValueError) as exc:
            problems.append((line, str(exc)))
    return rows, problems


def _row(line: int, r: dict[str, str]) -> HouseholdRow:
    for column in REQUIRED:
        if not r.get(column) and column != "hub":  # found by a tester: a household exported without
            raise InvalidInput(f"column {column}: empty")  # a hub (the API allows it) did not re-import
    try:
        interval = float(r["report_interval_s"]) if r.get("report_interval_s") else 900.0
    except ValueError:
        raise InvalidInput(f"column report_interval_s: {r['report_interval_s']!r} is not a number of "
                           "seconds (10-3600)") from None
    if not 10 <= interval <= 3600:
        raise InvalidInput(f"column report_interval_s: must be 10-3600 seconds, got {interval:g}")
    try:
        tier = Tier.parse(r["colour"])
    except ValueError as exc:
        raise InvalidInput(f"column colour: {exc}") from None
    sharing = (r.get("share_with_family") or "").lower()
    if sharing not in YES | NO:
        raise InvalidInput(f"column share_with_family: must be yes or no, got {sharing!r}")
    try:
        given = date.fromisoformat(r["consent_date"]) if r.get("consent_date") else None
    except ValueError:
        raise InvalidInput(f"column consent_date: {r['consent_date']!r} is not a date like 2026-11-23") from None
    if (given or sharing in YES) and not r.get("consent_by"):
        raise InvalidInput("column consent_by: who agreed is needed to record consent")
    check_id("column id: household id", r["id"])
    check_id("column grid: grid id", r["grid"])
    if r["hub"]:
        try:
            check_hub_id(r["hub"])
        except InvalidInput as e:
            raise InvalidInput(f"column hub: {e}") from None
    return HouseholdRow(
        line=line, id=r["id"], tier=tier, grid_id=r["grid"], hub_id=r["hub"] or None,
        alias=r.get("alias") or None, address=r.get("address") or None,
        building=r.get("building") or None,
        grid_name=r.get("grid_name") or None, caseworker=r.get("caseworker") or None,
        report_interval_s=interval, consent_by=r.get("consent_by") or None,
        consent_relationship=r.get("consent_relationship") or "self", consent_date=given,
        share_with_family=sharing in YES,
    )
