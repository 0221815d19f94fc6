"""One-time links in notifications: acknowledge (then resolve) an alert from a phone, unsigned in.

Opening the link only shows the alert (a chat app's link preview must not acknowledge anything);
the button on the page does. Each link works once per action, for its recipient only, while that
person still looks after the household, and until it expires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from typing import TypeVar
from urllib.parse import parse_qs

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.context import ApiContext
from api.deps import Context
from api.routes.alerts import acknowledger
from shouwang.domain import access, ack_links
from shouwang.domain.ack_links import AckLink, InvalidLink
from shouwang.domain.alerts import Alert, AlertState, Outcome
from shouwang.domain.errors import Conflict, ShouwangError
from shouwang.domain.model import Household, Staff

router = APIRouter(prefix="/ack", include_in_schema=False)
T = TypeVar("T")
log = logging.getLogger(__name__)
KINDS = {"inactivity": "长时间无活动", "no_water": "长时间未用水", "hub_offline": "设备离线",
         "water_running": "水长流", "gas_running": "燃气长开", "unusual_day": "异常的一天",
         "help": "求助"}
OUTCOMES = {Outcome.ELDER_FINE: "老人安好", Outcome.NEEDED_HELP: "需要帮助", Outcome.HOSPITALISED: "已送医",
            Outcome.WAS_AWAY: "外出未归", Outcome.DEVICE_FAULT: "设备故障", Outcome.FALSE_ALARM: "误报",
            Outcome.DIED: "已去世"}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _page(title: str, *body: str, status: int = 200) -> HTMLResponse:
    html = ("<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{escape(title)} · 守望</title><link rel='stylesheet' href='/static/app.css'></head>"
            f"<body><main id='main' class='ack-page'><h1>{escape(title)}</h1>{''.join(body)}</main></body></html>")
    return HTMLResponse(html, status_code=status)  # no-store, like every answer (app.py)


def _open(context: Context, token: str) -> tuple[AckLink, Alert, Household, Staff]:
    """The link's alert, household and recipient, or Refused saying why it cannot be used."""
    if context.secret is None:
        raise Refused(404, "这个社区没有开启通知里的确认链接。请登录页面处理。")
    try:
        link = ack_links.read(context.secret, token, now=context.clock.now())
    except InvalidLink as exc:
        raise Refused(410 if exc.expired else 403, "链接已过期，请登录页面处理这条警报。" if exc.expired
                      else "这个链接无效，请打开通知里的原链接，或登录页面处理。") from None
    try:
        alert = context.state.alerts.get(link.alert_id)
        household = context.state.registry.household(alert.household_id)
        recipient = context.state.registry.staff(link.staff_id)
    except ShouwangError:
        raise Refused(404, "找不到这条警报。请登录页面查看。") from None
    now = context.clock.now()
    if not access.looks_after(recipient, household, leaves=lambda: context.state.cover.leaves(ending_after=now),
                              staff_of=context.state.registry.staff, now=now):
        raise Refused(403, "这个链接的收件人已不再负责这户住户，链接不能再用。")
    return link, alert, household, recipient


def _about(alert: Alert, household: Household) -> str:
    state = {AlertState.OPEN: "未处理", AlertState.ACKNOWLEDGED: "已有人处理", AlertState.RESOLVED: "已结案"}
    return (f"<p class='ack-home'><strong>{escape(household.alias or household.id)}</strong>"
            f" · {escape(household.address or '')}</p>"
            f"<p>{escape(KINDS.get(alert.kind.value, alert.kind.value))} · {state[alert.state]}</p>"
            f"<p class='why'>{escape(alert.explanations.get('zh', alert.explanation))}</p>")


def _resolve_form(token: str) -> str:
    options = "".join(f"<option value='{o.value}'>{label}</option>" for o, label in OUTCOMES.items())
    return (f"<form method='post' action='/ack/{escape(token)}/resolve' class='ack-form'>"
            "<label for='outcome'>结果</label><select id='outcome' name='outcome' required>"
            f"<option value=''>请选择结果…</option>{options}</select>"
            "<label for='note'>备注（可选）</label><input id='note' name='note' maxlength='2000'>"
            "<button type='submit' class='primary'>结案</button></form>")


def spend(context: ApiContext, link: AckLink, action: str, act: Callable[[], T], *,
          used: str = "这个链接已经用过了。请登录页面查看这条警报。") -> T:
    """`act` for a link not yet used for `action`, the use kept only if `act` succeeded (found by
    an attacker: a link was spent first, and when what followed failed, dispatch escalating at
    that moment or a colleague resolving, it was used up with nothing done)."""
    if not context.state.ack_links.use(link, action=action, now=context.clock.now()):
        raise Refused(409, used)
    try:
        return act()
    except Exception as exc:  # a store's error too (found by a tester: "database is locked" spent it)
        try:
            context.state.ack_links.release(link, action=action)
        except Exception:  # the store away: the page says to try again all the same
            log.warning("ack_link.not_released alert=%s action=%s", link.alert_id, action, exc_info=True)
        if not isinstance(exc, ShouwangError):
            raise Refused(503, "暂时无法处理，请稍后再按一次（链接还可以再用）。") from None
        raise Refused(409, "这条警报刚刚有了变化，这次没有成功（链接还可以再用）：请重新打开链接查看。"
                      + (f"（{exc}）" if isinstance(exc, Taken) else "")) from None


class Taken(Conflict):
    """Someone else acknowledged the alert while this link was being used."""


@router.get("/{token}", response_class=HTMLResponse)
def show(token: str, context: Context) -> HTMLResponse:
    try:
        _, alert, household, _ = _open(context, token)
    except Refused as refused:
        return _page("无法使用这个链接", f"<p>{escape(refused.message)}</p>", status=refused.status)
    if alert.state is AlertState.OPEN:
        action = (f"<form method='post' action='/ack/{escape(token)}' class='ack-form'>"
                  "<button type='submit' class='primary'>我来处理</button></form>"
                  "<p class='quiet'>按下后，升级停止，其他人会知道您在处理。</p>")
    elif alert.state is AlertState.ACKNOWLEDGED:
        action = _resolve_form(token)
    else:
        action = "<p>这条警报已经结案。</p>"
    return _page("守望警报", _about(alert, household), action)


@router.post("/{token}", response_class=HTMLResponse)
def acknowledge(token: str, context: Context) -> HTMLResponse:
    try:
        link, alert, household, recipient = _open(context, token)
        if alert.state is AlertState.RESOLVED:
            raise Refused(409, "这条警报已经结案，不需要再确认。")
        if alert.acknowledged_by is not None and alert.acknowledged_by != recipient.id:
            # found by a tester: the link said "acknowledged" to a second person, and was spent,
            # while the alert stayed another's; two went thinking they had it (the API says 409)
            raise Refused(409, f"这条警报已由{acknowledger(context.state, alert) or '其他人'}确认处理。"
                          "如果您也在帮忙，请登录页面留下备注。")

        def take() -> Alert:
            changed = context.state.alerts.acknowledge(alert.id, staff=recipient, now=context.clock.now())
            if changed.acknowledged_by != recipient.id:  # a colleague, a moment before
                raise Taken(f"已由{acknowledger(context.state, changed) or '其他人'}确认处理")
            return changed
        changed = spend(context, link, "acknowledge", take)
    except Refused as refused:
        return _page("无法使用这个链接", f"<p>{escape(refused.message)}</p>", status=refused.status)
    return _page("已确认，升级已停止", _about(changed, household), "<h2>看过之后，在这里结案</h2>",
                 _resolve_form(token))


@router.post("/{token}/resolve", response_class=HTMLResponse)
async def resolve(token: str, request: Request, context: Context) -> HTMLResponse:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    chosen, note = (form.get("outcome") or [""])[0], (form.get("note") or [""])[0].strip()[:2000]
    return await anyio.to_thread.run_sync(lambda: _resolve(token, context, chosen, note))


def _resolve(token: str, context: ApiContext, chosen: str, note: str) -> HTMLResponse:
    try:
        link, alert, household, recipient = _open(context, token)
        outcome = next((o for o in OUTCOMES if o.value == chosen), None)
        if outcome is None:
            raise Refused(422, "请选择一个结果再结案。")
        if alert.state is AlertState.RESOLVED:
            raise Refused(409, "这条警报已经结案。")
        changed = spend(context, link, "resolve", lambda: context.state.alerts.resolve(
            alert.id, staff=recipient, outcome=outcome, note=note or None, now=context.clock.now()))
    except Refused as refused:
        return _page("无法结案", f"<p>{escape(refused.message)}</p>", status=refused.status)
    return _page("已结案", _about(changed, household), f"<p>结果：{OUTCOMES[outcome]}</p>")
