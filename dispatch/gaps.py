"""What would leave an alert without someone to answer it, said in Chinese and English, pure.

Gaps in coverage (the registry: a grid without its member, nobody on duty at all), in cover (the
roster's open hours, leave with nobody standing in, a ladder naming someone gone) and in channels
(staff nobody can reach). `shouwang run` names them at start, `shouwang roster list` and
`GET /cover` list them, and the cockpit page shows them in the language its reader chose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dispatch.ladders import LadderPolicy
from dispatch.policy import TOP_RUNG, default_rung_staff
from shouwang.domain.channels import find
from shouwang.domain.cover import WEEKDAYS, Cover
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Household, Role, Staff, Tier
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True, slots=True)
class Gap:
    en: str
    zh: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _listed(names: Sequence[str], sep: str) -> str:
    return sep.join(names[:5]) + (" …" if len(names) > 5 else "")


def coverage_gaps(households: Sequence[Household], roster: Sequence[Staff]) -> list[Gap]:
    """What in the registry would leave an alert without its proper first recipient."""
    gaps = []
    if not any(s.active and s.role is Role.DUTY_LEADER for s in roster):
        gaps.append(Gap("no duty leader is registered: escalations stop at the grid head "
                        "(add one with `shouwang staff add ... --role duty_leader`)",
                        "尚未登记值班领导：警报升级到网格长为止"
                        "（用 `shouwang staff add ... --role duty_leader` 添加）"))
    uncovered = sorted({h.grid_id for h in households if not default_rung_staff(0, h, roster)})
    if uncovered:
        gaps.append(Gap(f"grid {', '.join(uncovered)} has no grid member: its alerts go straight up the ladder "
                        "(add one with `shouwang staff add ... --role grid_member --grid ...`)",
                        f"网格 {'、'.join(uncovered)} 没有网格员：其警报直接往上一级报"
                        "（用 `shouwang staff add ... --role grid_member --grid ...` 添加）"))
    unladdered = sorted({h.grid_id for h in households
                         if not any(default_rung_staff(r, h, roster) for r in range(TOP_RUNG + 1))})
    if unladdered:
        admins = [s.username for s in roster if s.active and s.role is Role.ADMIN]
        whom = f"only the admins ({', '.join(admins)})" if admins else "NOBODY"
        whom_zh = f"只通知管理员（{'、'.join(admins)}）" if admins else "无人接收"
        gaps.append(Gap(f"grid {', '.join(unladdered)} has no grid member, grid head or duty leader: its "
                        f"alerts reach {whom}",
                        f"网格 {'、'.join(unladdered)} 没有网格员、网格长或值班领导：其警报{whom_zh}"))
    for member in roster:
        if member.active and member.webhook_url:
            try:
                check_webhook_url(member.webhook_url, allow_http=True)
            except InvalidWebhook as exc:
                fix = f"`shouwang staff update {member.username} --webhook URL`"
                gaps.append(Gap(f"{exc}: {member.username}'s webhook notifications are given up at once; "
                                f"fix it with {fix}",
                                f"{member.username} 的 webhook 地址无法送达（{exc}）：发往该地址的通知会立即放弃；"
                                f"用 {fix} 改正"))
    if not any(s.active and s.role is Role.ADMIN for s in roster):
        gaps.append(Gap("no admin is registered: an alert whose ladder reaches nobody has nobody left to go "
                        "to, and nobody can manage staff over the API (add one with `shouwang staff add ... "
                        "--role admin`)",
                        "尚未登记管理员：阶梯上无人可通知的警报将无人接收，也无人能通过 API 管理人员"
                        "（用 `shouwang staff add ... --role admin` 添加）"))
    caseworkers = {s.id for s in roster if s.active and s.role is Role.CASEWORKER}
    unclaimed = [h.id for h in households if h.tier is Tier.RED and h.caseworker_id not in caseworkers]
    if unclaimed:
        gaps.append(Gap(f"{len(unclaimed)} red household(s) have no caseworker (or a retired one): "
                        f"{_listed(unclaimed, ', ')}",
                        f"{len(unclaimed)} 户红色户没有社工认领（或认领的社工已离职）：{_listed(unclaimed, '、')}"))
    return gaps


def hour_ranges(hours: Sequence[int], lang: str = "en") -> list[str]:
    """Hours of the week as ranges: "mon 00:00–08:00, tue 18:00–wed 08:00" ("周一 00:00–08:00");
    every hour of the week is "all week" ("全周"), not "mon 00:00–mon 00:00"."""
    if len(set(hours)) >= 168:
        return ["全周" if lang == "zh" else "all week"]
    ranges: list[list[int]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + 1
        else:
            ranges.append([hour, hour + 1])
    if len(ranges) > 1 and ranges[0][0] == 0 and ranges[-1][1] == 168:  # across Sunday midnight
        ranges[0][0] = ranges.pop()[0] - 168
    days = WEEKDAYS_ZH if lang == "zh" else WEEKDAYS
    out = []
    for start, end in ranges:
        same_day = start // 24 == (end - 1) // 24 and end % 24 != 0
        last = f"{end % 24:02d}:00" if same_day else f"{days[end % 168 // 24]} {end % 24:02d}:00"
        out.append(f"{days[start % 168 // 24]} {start % 24:02d}:00–{last}")
    return out


def cover_gaps(policy: LadderPolicy, households: Sequence[Household], roster: Sequence[Staff],
               cover: Cover, *, now: float, date: Callable[[float], str]) -> list[Gap]:
    """Holes in the roster and the leave: hours nobody is on duty, leave with nobody standing in,
    ladders naming someone who cannot be called."""
    gaps = []
    active = {s.id: s for s in roster if s.active}
    if cover.has_roster:
        open_hours = [h for h in range(168) if not any(i in active for i in cover.on_duty_hour(h))]
        if open_hours:
            gaps.append(Gap(f"the duty roster has nobody on duty {', '.join(hour_ranges(open_hours))}: "
                            "escalations then reach every duty leader (`shouwang roster add USER DAY FROM-TO`)",
                            f"值班表在 {'、'.join(hour_ranges(open_hours, 'zh'))} 无人值班：这些时段的升级"
                            "会通知所有值班领导（`shouwang roster add USER DAY FROM-TO`）"))
    for leave in cover.leaves:
        person = active.get(leave.staff_id)
        name = person.username if person else f"staff {leave.staff_id}"
        start, end = date(leave.starts_at), date(leave.ends_at)
        if leave.deputy_id is None:
            gaps.append(Gap(f"{name} is on leave {start} to {end} with no deputy: what they would receive "
                            f"goes to the duty leader on duty (`shouwang staff leave {name} --from … --to … "
                            "--deputy OTHER`)",
                            f"{name} 休假（{start} 至 {end}）且没有代班人：本应发给其的通知改发给当班的值班领导"
                            f"（`shouwang staff leave {name} --from … --to … --deputy OTHER`）"))
        elif leave.deputy_id not in active:
            gaps.append(Gap(f"{name}'s deputy while on leave {start} to {end} is not active staff: what they "
                            "would receive goes to the duty leader on duty",
                            f"{name} 休假（{start} 至 {end}）期间的代班人已不在职：本应发给其的通知改发给"
                            "当班的值班领导"))
    usernames = {s.username for s in active.values()}
    wanted = {name.removeprefix("staff:") for ladder in policy.configured() for step in ladder.steps
              for name in step.who if name.startswith("staff:")}
    for username in sorted(wanted - usernames):
        gaps.append(Gap(f"a ladder in the settings names staff:{username}, who is not active staff: "
                        "that step calls the others on it, or falls through",
                        f"设置中的升级阶梯指定了 staff:{username}，但此人不是在职工作人员："
                        "这一步只通知其余的人，或顺延到下一步"))
    return gaps


def channel_gaps(roster: Sequence[Staff], *, sms_gateway: bool) -> list[Gap]:
    """Who could not be told at all, or only through a gateway that is not configured."""
    gaps = []
    silent = [s.username for s in roster if s.active and not s.reached_by]
    if silent:
        gaps.append(Gap(f"{_listed(silent, ', ')} {'has' if len(silent) == 1 else 'have'} no channel: their "
                        "alerts reach nobody (`shouwang staff update USER --channel ...`)",
                        f"{_listed(silent, '、')} 没有任何通知渠道：发给其的警报无人收到"
                        "（`shouwang staff update USER --channel ...`）"))
    if not sms_gateway:
        texted = [s.username for s in roster if s.active and find(s.reached_by, Channel.SMS)]
        if texted:
            gaps.append(Gap(f"no SMS gateway is configured (SHOUWANG_DISPATCH__SMS_GATEWAY_URL), so the sms "
                            f"channels of {_listed(texted, ', ')} fail",
                            f"尚未配置短信网关（SHOUWANG_DISPATCH__SMS_GATEWAY_URL），{_listed(texted, '、')} "
                            "的短信渠道会发送失败"))
    return gaps
