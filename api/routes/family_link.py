"""A family member's one-time link: what is happening at their relative's home, and their answer.

"Reached her, she is fine" resolves the alert (the trail names them); "could not reach her" is
recorded and told to nobody's relief: the ladder goes on. Opening the link changes nothing (a
chat app's preview must not answer); each answer works once, while the contact is on the
household's ladder and until the link expires.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import Context
from api.routes.ack_link import KINDS, Refused, _page, spend
from shouwang.domain import ack_links
from shouwang.domain.ack_links import AckLink, InvalidLink
from shouwang.domain.alerts import Alert, AlertState, Outcome
from shouwang.domain.cover import FamilyContact
from shouwang.domain.errors import ShouwangError
from shouwang.domain.model import Household
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.consent import SHARE_WITH_FAMILY
from shouwang.storage.database import writing

router = APIRouter(prefix="/family", include_in_schema=False)
WHAT = {**KINDS, "help": "按下了求助按钮"}


def family_actor(contact: FamilyContact) -> Actor:
    return Actor(f"family: {contact.name} ({contact.relation})")


def _open(context: Context, token: str) -> tuple[AckLink, Alert, Household, FamilyContact]:
    if context.secret is None:
        raise Refused(404, "这个社区没有开启通知里的链接。")
    try:
        link = ack_links.read(context.secret, token, now=context.clock.now(), audience=ack_links.FAMILY)
    except InvalidLink as exc:
        raise Refused(410 if exc.expired else 403, "链接已过期。" if exc.expired
                      else "这个链接无效，请打开短信里的原链接。") from None
    try:
        alert = context.state.alerts.get(link.alert_id)
        household = context.state.registry.household(alert.household_id)
        contact = context.state.family.get(link.staff_id)
    except ShouwangError:
        raise Refused(404, "找不到这条提醒。") from None
    if not contact.active or contact.household_id != household.id:
        raise Refused(403, "这个链接的联系人已不在这户的紧急联系人中，链接不能再用。")
    # Found by a privacy tester: after the elder withdrew sharing with family, a link sent before
    # still showed her name, address and the alert's explanation, and could close the alert.
    if not household.is_active:
        raise Refused(403, "这户已不再由社区守望，链接不能再用。")
    consent = context.state.consent
    if not (consent.has_consent(household.id) and consent.has_consent(household.id, SHARE_WITH_FAMILY)):
        raise Refused(403, "老人已不同意把提醒告诉家人，这个链接不能再用；有事请联系社区。")
    return link, alert, household, contact


def _about(alert: Alert, household: Household) -> str:
    return (f"<p class='ack-home'><strong>{escape(household.alias or household.id)}</strong>"
            f" · {escape(household.address or '')}</p>"
            f"<p>{escape(WHAT.get(alert.kind.value, alert.kind.value))}</p>"
            f"<p class='why'>{escape(alert.explanations.get('zh', alert.explanation))}</p>")


@router.get("/{token}", response_class=HTMLResponse)
def show(token: str, context: Context) -> HTMLResponse:
    try:
        _, alert, household, contact = _open(context, token)
    except Refused as refused:
        return _page("无法使用这个链接", f"<p>{escape(refused.message)}</p>", status=refused.status)
    if alert.state is AlertState.RESOLVED:
        return _page("守望提醒", _about(alert, household), "<p>这件事已经处理好了，谢谢您。</p>")
    return _page("守望提醒", f"<p>{escape(contact.name)}您好，社区工作人员也已收到通知。</p>",
                 _about(alert, household),
                 f"<form method='post' action='/family/{escape(token)}/fine' class='ack-form'>"
                 "<button type='submit' class='primary'>联系上了，老人没事</button></form>"
                 f"<form method='post' action='/family/{escape(token)}/unreached' class='ack-form'>"
                 "<button type='submit'>联系不上</button></form>")


@router.post("/{token}/fine", response_class=HTMLResponse)
def fine(token: str, context: Context) -> HTMLResponse:
    try:
        link, alert, household, contact = _open(context, token)
        if alert.state is AlertState.RESOLVED:
            raise Refused(409, "这件事已经处理好了，谢谢您。")
        changed = spend(context, link, "family", lambda: context.state.alerts.resolve_by_family(
            alert.id, actor=family_actor(contact), contact_id=contact.id, outcome=Outcome.ELDER_FINE,
            note=f"{contact.name}（{contact.relation}）联系上了，老人没事", now=context.clock.now()),
            used="这个链接已经用过了。")
    except Refused as refused:
        return _page("无法使用这个链接", f"<p>{escape(refused.message)}</p>", status=refused.status)
    return _page("谢谢您", _about(changed, household), "<p>已告诉社区工作人员：老人没事。</p>")


@router.post("/{token}/unreached", response_class=HTMLResponse)
def unreached(token: str, context: Context) -> HTMLResponse:
    try:
        link, alert, household, contact = _open(context, token)
        if not context.state.ack_links.use(link, action="family", now=context.clock.now()):
            raise Refused(409, "这个链接已经用过了。")
        with writing(context.state.engine) as db:
            trail.record(db, at=context.clock.now(), actor=family_actor(contact), action="family_unreached",
                         entity="alert", entity_id=alert.id, details={"family_contact_id": contact.id})
    except Refused as refused:
        return _page("无法使用这个链接", f"<p>{escape(refused.message)}</p>", status=refused.status)
    return _page("谢谢您", _about(alert, household), "<p>已记下：联系不上。社区工作人员会继续上门查看。</p>")
