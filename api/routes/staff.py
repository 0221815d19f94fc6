"""Staff: who works in the community, their roles, grids and passwords."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from api.deps import (
    Admin,
    Context,
    CurrentSession,
    CurrentStaff,
    ForgetsSessions,
    Now,
    StateDep,
    password_checked,
    require,
)
from api.receivers import refuse_internal
from api.schemas.common import AUTHED, BY_ID, CHANGES
from api.schemas.staff import ChannelIn, PasswordIn, StaffIn, StaffOut, StaffPatch
from api.trail import actor, note
from shouwang.domain import access
from shouwang.domain.channels import StaffChannel
from shouwang.domain.errors import Conflict, InvalidInput, NotFound
from shouwang.domain.model import Staff
from shouwang.domain.webhooks import check_channel, check_channels, check_webhook_url

router = APIRouter(prefix="/staff", tags=["staff"], dependencies=[ForgetsSessions])
SELF_FIELDS = frozenset({"name", "phone", "webhook_url", "notify_mqtt", "channels"})


def get_visible_staff(staff_id: Annotated[int, Path(ge=1, le=2**31 - 1)], staff: CurrentStaff,
                      state: StateDep) -> Staff:
    other = state.registry.staff(staff_id)
    if not access.can_see_staff(staff, other):
        raise NotFound("staff member", staff_id)
    return other


VisibleStaff = Annotated[Staff, Depends(get_visible_staff)]


def _check_webhook(url: str | None, *, allow_http: bool) -> list[str]:
    """Refuse an address no notification could reach; warn about plain http."""
    if url is None:
        return []
    if check_webhook_url(url, allow_http=allow_http).plain_http:
        return [f"webhook {url} is plain http: alerts (names, addresses) cross the network "
                "unencrypted; use https where the receiver can"]
    return []


def _channels(given: list[ChannelIn] | None, *, allow_http: bool, current: Staff | None = None,
              old_fields: bool) -> tuple[tuple[StaffChannel, ...] | None, list[str]]:
    """The list checked as every entrance checks it, with its plain-http warnings."""
    if given is None:
        return None, []
    if old_fields:
        raise InvalidInput("give either channels (the whole list) or webhook_url/notify_mqtt, not both")
    kept = {(c.kind, c.address): c.secret for c in (current.reached_by if current else ())}
    listed = check_channels(check_channel(
        c.kind, c.address, secret=c.secret if c.secret is not None else kept.get((c.kind, c.address.strip())),
        lang=c.lang, msgtype=c.msgtype, allow_http=allow_http) for c in given)
    return listed, [f"{c.kind.value} {c.shown_address} is plain http: alerts (names, addresses) cross "
                    "the network unencrypted; use https where the receiver can"
                    for c in listed if c.address.startswith("http://")]


@router.get("", response_model=list[StaffOut], responses=AUTHED,
            summary="Staff you work with (everyone, for admins and leaders)")
def list_staff(staff: CurrentStaff, state: StateDep) -> list[StaffOut]:
    return [StaffOut.of(s) for s in state.registry.all_staff() if access.can_see_staff(staff, s)]


@router.post("", response_model=StaffOut, status_code=201, responses=CHANGES,
             summary="Add a staff member (admins)")
def create_staff(body: StaffIn, admin: Admin, state: StateDep, now: Now) -> StaffOut:
    warnings = _check_webhook(body.webhook_url, allow_http=body.allow_http)
    channels, more = _channels(body.channels, allow_http=body.allow_http,
                               old_fields=bool({"webhook_url", "notify_mqtt"} & body.model_fields_set))
    member = state.registry.add_staff(
        username=body.username, name=body.name, role=body.role, grid_ids=body.grid_ids,
        phone=body.phone, webhook_url=body.webhook_url, notify_mqtt=body.notify_mqtt,
        channels=channels, now=now)
    warnings += more
    if body.household_ids:
        member = state.registry.update_staff(member.id, household_ids=body.household_ids)
    if body.password:
        state.credentials.set_password(member.id, body.password, actor=actor(admin), now=now)
    note(state, admin, "staff_added", "staff", member.id, now=now,
         details={"username": member.username, "role": member.role.value})
    return StaffOut.of(member, warnings)


@router.get("/{staff_id}", response_model=StaffOut, responses=BY_ID, summary="One staff member")
def get_staff(other: VisibleStaff) -> StaffOut:
    return StaffOut.of(other)


@router.patch("/{staff_id}", response_model=StaffOut, responses=CHANGES,
              summary="Change a staff member; you may change your own name, phone and channels")
def update_staff(other: VisibleStaff, body: StaffPatch, staff: CurrentStaff, state: StateDep,
                 now: Now) -> StaffOut:
    changes = body.model_dump(exclude_unset=True)
    allow_http = changes.pop("allow_http", False)
    if not access.manages_staff(staff):
        require(other.id == staff.id, "only admins change other staff")
        refused = sorted(set(changes) - SELF_FIELDS)
        require(not refused, f"only admins change {', '.join(refused)}")
    for key in ("name", "role", "notify_mqtt"):
        if key in changes and changes[key] is None:
            raise InvalidInput(f"'{key}' cannot be empty")
    if changes.get("role") is not None and other.id == staff.id:
        raise Conflict("you cannot change your own role; ask another admin")
    warnings = _check_webhook(changes.get("webhook_url"), allow_http=allow_http)
    if "channels" in changes:
        if changes["channels"] is None:
            raise InvalidInput("'channels' cannot be empty; give [] for none")
        changes["channels"], more = _channels(
            body.channels, allow_http=allow_http, current=other,
            old_fields=bool({"webhook_url", "notify_mqtt"} & set(changes)))
        warnings += more
    kept = [c.address for c in changes.get("channels") or () if c.address.startswith(("http://", "https://"))]
    refuse_internal(staff, [*([changes["webhook_url"]] if changes.get("webhook_url") else []), *kept])
    changed = state.registry.update_staff(other.id, **changes)
    details = {k: v for k, v in changes.items() if k not in ("phone", "channels")}
    if "channels" in changes:  # what kinds, never a secret or a robot's token
        details["channels"] = [c.kind.value for c in changes["channels"]]
    note(state, staff, "staff_changed", "staff", other.id, now=now, details=details)
    return StaffOut.of(changed, warnings)


@router.post("/{staff_id}/retire", response_model=StaffOut, responses=CHANGES,
             summary="Retire a staff member: no more alerts, every token revoked")
def retire_staff(other: VisibleStaff, admin: Admin, state: StateDep, now: Now) -> StaffOut:
    if other.id == admin.id:
        raise Conflict("you cannot retire yourself; ask another admin")
    retired = state.registry.retire_staff(other.id, now=now)
    note(state, admin, "staff_retired", "staff", other.id, now=now)
    return StaffOut.of(retired)


@router.put("/{staff_id}/password", status_code=204, responses=CHANGES,
            summary="Set a password: your own (give the current one) or, for admins, anyone's")
def set_password(other: VisibleStaff, body: PasswordIn, session: CurrentSession, request: Request,
                 context: Context, state: StateDep, now: Now) -> None:
    staff = session.staff
    if other.id == staff.id:
        # counted as a sign-in: a stolen session may not guess the password it would change
        has_one = access.manages_staff(staff) or password_checked(request, context, staff, body.current_password)
        require(has_one or access.manages_staff(staff),
                "give your current password to change it")
    else:
        require(access.manages_staff(staff), "only admins set other staff's passwords")
    # their other sign-in sessions end (yours, changing your own, goes on); an admin's reset of
    # someone else's ends their API tokens too
    own = other.id == staff.id
    state.credentials.set_password(other.id, body.new_password, actor=actor(staff), now=now,
                                   keep_session=session.token.id if own else None, with_api_tokens=not own)
