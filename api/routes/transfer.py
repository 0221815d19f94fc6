"""The registry as the spreadsheets communities keep: CSV export and import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from fastapi.responses import Response

from api.deps import Admin, Context, ForgetsSessions, Now, RegistryManager, StateDep
from api.schemas.common import AUTHED
from api.schemas.households import ImportReportOut
from api.trail import note
from shouwang import registry_csv
from shouwang.domain.channels import check_phone
from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import USERNAME, Role, check_id, grids_problem
from shouwang.domain.webhooks import check_channels, parse_channel
from shouwang.registration import import_households
from shouwang.registry_csv import cell, uncell
from shouwang.storage.state import StateStore

router = APIRouter(tags=["import and export"])
Table = Literal["households", "hubs", "grids", "staff"]
CSV_BODY = Annotated[bytes, Body(media_type="text/csv", max_length=5_000_000,
                                 description="UTF-8 (with or without a byte-order mark) or GBK/GB18030, "
                                 "as Excel saves \"CSV (逗号分隔)\" on a Chinese Windows",
                                 examples=["id,colour,grid,hub,alias\nh-1,red,g-01,h-0001,王秀英\n"])]
STAFF_COLUMNS = ("username", "name", "role", "grids", "phone")
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"example": "id,colour,grid,hub\nsim-0001,red,g-01,h-1\n"}},
          "description": "UTF-8 CSV with a header row"},
    **AUTHED,
}


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()


def _tables(state: StateStore, table: Table) -> tuple[Sequence[str], list[list[object]]]:
    registry = state.registry
    if table == "grids":
        return ("id", "name"), [[g.id, g.name] for g in registry.grids()]
    if table == "hubs":
        return (("id", "household_id", "report_interval_s"),
                [[h.id, h.household_id, h.report_interval_s] for h in registry.hubs()])
    if table == "staff":
        return (*STAFF_COLUMNS, "active"), [
            [s.username, s.name, s.role.value, ";".join(sorted(s.grid_ids)), s.phone, s.active]
            for s in registry.all_staff()]
    names = {g.id: g.name for g in registry.grids(include_retired=True)}
    usernames = {s.id: s.username for s in registry.all_staff()}
    hubs: dict[str, list[Any]] = {}
    for hub in registry.hubs():
        hubs.setdefault(hub.household_id, []).append(hub)
    rows: list[list[object]] = []
    for h in registry.households():
        for hub in hubs.get(h.id) or [None]:
            rows.append([h.id, h.tier.colour, h.grid_id, hub.id if hub else "", h.alias,
                         h.address, h.building, names.get(h.grid_id),
                         usernames.get(h.caseworker_id) if h.caseworker_id else "",
                         hub.report_interval_s if hub else ""])
    # found by a tester: the header listed the consent columns too, the rows stopped before them
    return registry_csv.REQUIRED + registry_csv.REGISTRY, rows


@router.get("/exports/{table}.csv", response_class=Response, responses=CSV_RESPONSE,
            summary="The registry as CSV (admins and duty leaders); households re-import as is")
def export_csv(table: Table, staff: RegistryManager, state: StateDep, now: Now) -> Response:
    header, rows = _tables(state, table)
    note(state, staff, "exported", "registry", table, now=now, details={"rows": len(rows)})
    return Response("\ufeff" + _csv(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{table}.csv"'})


@router.post("/imports/households", response_model=ImportReportOut, responses=AUTHED,
             summary="Add or update households and their hubs from CSV")
def import_households_csv(body: CSV_BODY, staff: RegistryManager, state: StateDep,
                          now: Now, context: Context) -> ImportReportOut:
    # decoded as the CLI decodes a file: found by a tester, Excel's GBK got a bare "unicode" error
    report = import_households(state, registry_csv.spreadsheet_text(body, source="the CSV sent"),
                               now=now, tz=context.tz)
    note(state, staff, "imported", "registry", "households", now=now,
         details={"added": report.added, "updated": report.updated, "changed": list(report.changed)})
    return ImportReportOut(added=report.added, updated=report.updated,
                           hubs_added=report.hubs_added, grids_added=report.grids_added,
                           consents_recorded=report.consents_recorded, changed=list(report.changed))


@router.post("/imports/staff", response_model=ImportReportOut, responses=AUTHED,
             dependencies=[ForgetsSessions],
             summary="Add or update staff from CSV: username,name,role,grids,phone,channels (admins)",
             description="grids apart by ';'; channels apart by spaces, each KIND:ADDRESS[#OPTIONS] as "
             "`shouwang staff add --channel` takes it (https only); an empty channels cell keeps theirs.")
def import_staff_csv(sent: CSV_BODY, admin: Admin, state: StateDep, now: Now) -> ImportReportOut:
    body = registry_csv.spreadsheet_text(sent, source="the CSV sent")
    if "\x00" in body:  # PostgreSQL refuses it in text: said here, not a 500 at the store
        raise InvalidInput("the file holds a NUL character (\\u0000); save it again as CSV UTF-8")
    reader = csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if header[:3] != list(STAFF_COLUMNS[:3]):
        raise InvalidInput(f"the CSV header must start {','.join(STAFF_COLUMNS[:3])} and may "
                           f"go on {','.join(STAFF_COLUMNS[3:])},channels")
    parsed = []
    for line, raw in enumerate(reader, start=2):
        if None in raw:
            raise InvalidInput(f"nothing imported: line {line}: more cells than the header has columns "
                               "(a comma inside a cell must be quoted)")
        row = {(k or "").strip().lower(): uncell((v or "").strip()) for k, v in raw.items()}
        try:
            role = Role(row.get("role", ""))
        except ValueError:
            raise InvalidInput(f"line {line}: role must be one of "
                               f"{', '.join(r.value for r in Role)}") from None
        if not row.get("username") or not row.get("name"):
            raise InvalidInput(f"line {line}: username and name are required")
        grids = [g for g in (row.get("grids") or "").split(";") if g]
        try:  # whitespace apart, as a URL never holds a space; plain http is refused here
            channels = check_channels(parse_channel(spec, allow_http=False)
                                      for spec in (row.get("channels") or "").split()) or None
            # Every check a write makes, made before any row is written (found by a tester: a bad
            # phone on line 3 answered 422 after line 2's new member had been added).
            check_id("username", row["username"], USERNAME)
            phone = check_phone(row.get("phone") or None)
            problem = grids_problem(role, grids)
            if problem is not None:
                raise InvalidInput(problem)
        except InvalidInput as exc:
            raise InvalidInput(f"nothing imported: line {line}: {exc}") from None
        parsed.append((row["username"], row["name"], role, grids, phone, channels))
    known = {g.id for g in state.registry.grids()}
    unknown = sorted({g for *_, grids, _phone, _channels in parsed for g in grids} - known)
    if unknown:
        raise InvalidInput(f"nothing imported: grid {', '.join(unknown)} does not exist; "
                           "add it first (POST /grids)")
    added = updated = 0
    for username, name, role, grids, phone, channels in parsed:
        try:
            member = state.registry.staff_by_username(username)
        except NotFound:
            state.registry.add_staff(username=username, name=name, role=role,
                                     grid_ids=grids, phone=phone, channels=channels, now=now)
            added += 1
            continue
        state.registry.update_staff(member.id, name=name, role=role, grid_ids=grids, phone=phone,
                                    channels=channels)
        updated += 1
    note(state, admin, "imported", "registry", "staff", now=now,
         details={"added": added, "updated": updated})
    return ImportReportOut(added=added, updated=updated)
