"""The web page in a real headless Chromium, against the whole running system.

A small simulated community runs on a fast clock; its red household's elder closed the door
11 hours ago and has not moved since. We sign in with the keyboard, see the red card fine, see it
turn to an alert when the silence reaches the fixed rule's 12 hours, acknowledge from the live
feed (the feed keeps its order), see it change, switch language (the live badge stays live), and
resolve from the household page with a note, which needs an outcome chosen and a confirmation and
shows up in the timeline at once. A household that does not exist, or is another grid's, gets a
plain "not found" screen with nothing of the last household on it.

Needs Debian's Chromium at /usr/bin/chromium and Playwright for Python; skipped without them.
Set SHOUWANG_SCREENSHOTS=docs/screenshots to refresh the screenshots in the README.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cli.bootstrap import ApiServer, System, build
from cli.demo import register
from dispatch.care_message import COLOUR_ZH
from shouwang.broker import free_port
from shouwang.clock import FastClock
from shouwang.contract.topics import reading_topic
from shouwang.domain.cover import Leave
from shouwang.domain.model import Role, Tier
from shouwang.domain.tier_advice import TierSuggestion
from shouwang.mqtt import MqttClient
from shouwang.settings import Settings
from shouwang.storage.audit import Actor
from shouwang.storage.consent import Consent
from simulator.incidents import Incident, IncidentKind
from simulator.population import build_homes, population
from simulator.publisher import Simulation
from tests.e2e.accessibility import axe_source, axe_source_if_installed, violations

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SPEED = 240.0  # clock seconds per wall second: an hour of silence passes in 15 s
RED_HOME = "sim-0001"
OTHER_GRID_HOME = "sim-0002"  # in g-02; wang.fang looks after g-01

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright for Python is not installed; "
                                      "pip install playwright (no browser download needed)")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not at /usr/bin/chromium; apt-get install -y chromium",
                allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.broker, pytest.mark.slow]


@dataclass
class Running:
    url: str
    password: str
    system: System
    settings: Settings

    def door_used(self, hours_ago: float) -> None:
        """The red home's door is used `hours_ago` clock hours before now (a sign of life)."""
        last_sign_of_life(self.settings, self.system.clock.now() - hours_ago * 3600)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    # The fixed rule: the card must be fine at first and turn at a known moment (12 hours); the
    # learned detector, the default, would already alert on an eleven-hour daytime silence. The
    # no-water rule is pushed out of the way: when the routine last ran water depends on the hour
    # the test runs, and an early "no water" alert would turn the card before the test looks.
    settings = Settings(demo=True, storage={"data_dir": tmp_path},
                        mqtt={"embedded_port": free_port()},
                        api={"port": free_port()}, dispatch={"retry_initial_s": 1.0},
                        detector={"algorithm": "fixed", "no_water_h": 48.0})
    now = within_one_month(time.time(), ZoneInfo(settings.timezone))
    clock = FastClock(now, SPEED)
    system = build(settings, clock=clock)
    simulation = None
    try:
        system.start_broker()
        homes = population(6, seed=7)
        start = now - 7 * 86400
        incidents = [Incident(RED_HOME, IncidentKind.INCAPACITATION, now - 11 * 3600)]
        community = register(system.state, homes, incidents, monitoring_since=start, now=now)
        system.start_services()
        api = ApiServer(system.app, "127.0.0.1", settings.api.port)
        api.start()
        system.add_stopper(api.stop)
        simulation = Simulation(build_homes(homes, start=start, tz=ZoneInfo(settings.timezone),
                                            incidents=incidents), mqtt=settings.mqtt, clock=clock)
        last_sign_of_life(settings, now - 11 * 3600)
        simulation.connect()
        simulation.backfill(clock.now())
        simulation.start()
        yield Running(api.url, community.password, system, settings)
    finally:
        if simulation is not None:
            simulation.stop()
        system.stop()


RUN_CLOCK_DAYS = 2.0
"""How far the fast clock may run during the test (it takes minutes; 240 times fast)."""


def within_one_month(now: float, tz: ZoneInfo) -> float:
    """`now`, or three days earlier when the fast clock would otherwise reach the next month
    during the test: the 369 figures are the month's, and a new month has none yet."""
    month = datetime.fromtimestamp(now, tz).month
    if datetime.fromtimestamp(now + RUN_CLOCK_DAYS * 86400, tz).month != month:
        return now - 3 * 86400
    return now


def last_sign_of_life(settings: Settings, at: float, *, hub_id: str = f"h-{RED_HOME}") -> None:
    """The elder opens and closes the door just as the incapacitation begins, so the silence
    starts at a known moment whatever the simulated routine did before."""
    hub = MqttClient(settings.mqtt, client_id="test-red-hub-door")
    hub.start()
    try:
        topic = reading_topic(settings.mqtt.topic_prefix, hub_id, "door")
        hub.publish(topic, json.dumps([{"ts": at, "value": 1}, {"ts": at + 1, "value": 0}]),
                    qos=1)
        assert hub.drain(10), "the broker did not take the door events"
    finally:
        hub.stop()


# Two escalations as the timeline API sends them, worded by the page's own timelineItem.
ESCALATIONS = """() => [
    [{ name: "赵敏", role: "grid_head" }, { name: "周主任", role: "duty_leader" }], []
].map((to) => timelineItem({ kind: "alert", at: new Date().toISOString(), details: {
    alert_id: 7, alert_kind: "inactivity", action: "escalated", actor: "dispatch",
    actor_name: null, escalated_to: to } }).childNodes[2].textContent)"""

# What dispatch and people add to an alert's trail now (a moved-on rung, a reminder, the family
# called and answering) and a colour change, as the timeline API sends them.
TRAIL = """(append) => {
  const family = { name: "林小红", relation: "女儿" };
  const items = [
    { action: "escalated", escalated_to: [{ name: "赵敏", role: "grid_head" }], moved_on: true },
    { action: "reminded", reminder: 2, reminded: [{ name: "赵敏", role: "grid_head" }] },
    { action: "family_called", family }, { action: "family_unreached", family },
    { action: "resolved", actor: "family: 林小红 (女儿)", family, outcome: "elder_fine" },
  ].map((d) => timelineItem({ kind: "alert", at: new Date().toISOString(), details: {
    alert_id: 8, alert_kind: "help", actor: "dispatch", actor_name: null, ...d } }));
  items.push(timelineItem({ kind: "colour", at: new Date().toISOString(), details: {
    action: "tier_changed", actor: "zhao", actor_name: "赵敏", from: "yellow", to: "orange",
    reason: "一个月三次求助" } }));
  if (append) document.getElementById("timeline").append(...items);
  return items.map((i) => i.childNodes[2].textContent);
}"""
TRAIL_ZH = ["警报 #8（求助按钮）：已升级至赵敏（网格长） · 上一级无人能联系上，立即升级",
            "警报 #8（求助按钮）：第 2 次提醒赵敏（网格长）",
            "警报 #8（求助按钮）：已通知家属林小红（女儿）",
            "警报 #8（求助按钮）：家属林小红（女儿）回复：联系不上",
            "警报 #8（求助按钮）：家属林小红（女儿）结案 · 老人安好",
            "赵敏将颜色从黄色改为橙色 · “一个月三次求助”"]
TRAIL_EN = ["Alert #8 (help button): escalated to 赵敏 (grid head) · at once, as nobody on the step "
            "before could be reached",
            "Alert #8 (help button): reminder 2 sent to 赵敏 (grid head)",
            "Alert #8 (help button): family member 林小红 (女儿) asked to call or go",
            "Alert #8 (help button): family member 林小红 (女儿) answered: could not reach them",
            "Alert #8 (help button): resolved by family member 林小红 (女儿) · elder fine",
            "Colour changed from yellow to orange by 赵敏 · “一个月三次求助”"]


def shoot(page: sync_api.Page, name: str, tmp: Path) -> None:
    target = os.environ.get("SHOUWANG_SCREENSHOTS")
    folder = Path(target) if target else tmp
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def test_a_red_card_turns_to_alert_and_changes_when_acknowledged(running: Running,
                                                                 tmp_path: Path) -> None:
    expect = sync_api.expect
    axe = axe_source_if_installed()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(running.url + "/")
            expect(page.locator("#signin")).to_be_visible()
            expect(page.locator("#signin-title")).to_have_text("登录")
            page.locator("#username").fill("leader")
            page.locator("#password").fill(running.password)
            page.keyboard.press("Enter")

            red = page.locator(f'#cards [data-household="{RED_HOME}"]')
            expect(red).to_be_visible()
            expect(page.locator("#unwatched-filter")).to_be_hidden()  # every home here is watched
            expect(red).to_have_class("card tier-red")
            expect(page.locator("#live")).to_have_text("实时", timeout=10_000)
            # Set-up takes a varying share of the silence on a busy machine (the clock runs
            # 240 times fast); a door event now leaves 1½ clock hours (22 s) before the 12 h rule
            # fires, and clears an alert that set-up was slow enough to let through already.
            running.door_used(hours_ago=10.5)
            expect(red).to_have_attribute("data-state", "ok", timeout=15_000)
            # A red elder silent for hours is not "all well": the card claims only what it knows.
            expect(red.locator(".status")).to_have_text("无未处理警报")

            expect(red).to_have_attribute("data-state", "alert", timeout=60_000)
            expect(red).to_contain_text("需要上门")
            expect(red.locator("[data-grid]")).not_to_contain_text(re.compile(r"g-0\d"))
            item = page.locator(f'#feed li[data-household="{RED_HOME}"]').first
            expect(item).to_be_visible()
            # No outcome is chosen for the user, and nothing resolves before one is.
            expect(item.locator("select")).to_have_value("")
            expect(item.locator('button[data-action="resolve"]')).to_be_disabled()
            expect(page.locator("#my-responses")).to_be_hidden()  # a leader's 369 are in the cockpit
            shoot(page, "dashboard.png", tmp_path)
            if axe:
                assert violations(page, axe) == []

            order = page.locator("#feed li").evaluate_all("items => items.map(i => i.dataset.alert)")
            while (buttons := page.locator(
                    f'#feed li[data-household="{RED_HOME}"][data-state="open"] '
                    'button[data-action="acknowledge"]')).count():
                waiting = buttons.count()  # counted before the press, which may finish at once
                buttons.first.focus()
                page.keyboard.press("Enter")  # no mouse needed
                expect(buttons).to_have_count(waiting - 1, timeout=10_000)
            expect(red).to_have_attribute("data-state", "acknowledged", timeout=10_000)
            expect(red).to_contain_text("已有人处理")
            # The feed says who acknowledged, so nobody else sets out for the same door.
            expect(page.locator(f'#feed li[data-household="{RED_HOME}"]').first).to_contain_text("已确认（周主任）")
            after = page.locator("#feed li").evaluate_all("items => items.map(i => i.dataset.alert)")
            assert after[:len(order)] == order or after[-len(order):] == order, \
                "acknowledging must not reorder the feed"
            assert page.evaluate("document.activeElement.tagName") == "SELECT", \
                "focus stays on the acknowledged item (its outcome)"

            page.locator("#lang").click()
            expect(red).to_contain_text("Someone is on it")
            expect(page.locator("#live")).to_have_text("live")
            page.locator("#lang").click()
            expect(page.locator("#live")).to_have_text("实时")

            red.click()
            expect(page.locator("#household")).to_be_visible()
            expect(page.locator("#chart svg rect").first).to_be_attached(timeout=10_000)
            # What is usual for this home sits behind the bars; the silence says what it missed.
            expect(page.locator("#chart svg rect.usual").first).to_be_attached()
            expect(page.locator("#chart svg rect.silence")).to_have_count(1)
            expect(page.locator("#chart-silence")).to_contain_text(re.compile(r"已安静 \d+ 小时( \d+ 分钟)?；按平常"))
            expect(page.locator('#timeline li[data-kind="alert"]').first).to_be_visible()
            here = page.locator("#household-alerts li")
            expect(here.first).to_be_visible()
            expect(here.first.locator(".why")).not_to_be_empty()
            expect(page.locator("#toast.show")).to_have_count(0, timeout=10_000)
            shoot(page, "household.png", tmp_path)
            if axe:
                assert violations(page, axe) == []
                page.emulate_media(color_scheme="dark")  # the night palette passes too
                assert violations(page, axe) == []
                page.emulate_media(color_scheme="light")

            # The relative time keeps moving while the page stays open (the clock runs fast).
            since = page.locator("#household-card [data-ago]")
            before = since.text_content()
            since.evaluate("n => { n.dataset.marked = 'yes'; }")
            expect(since).not_to_have_text(before or "", timeout=30_000)
            expect(since).to_have_attribute("data-marked", "yes")

            page.locator("#lang").click()
            expect(page.locator("#timeline")).to_contain_text(" by ")
            timeline = page.locator("#timeline").text_content() or ""
            assert not re.search(r"[由：、（）]", timeline), timeline
            assert "by detector" not in timeline and "by leader" not in timeline, timeline
            assert "raised by the system" in timeline, timeline
            assert not re.search(r"detector|dispatch|Resolved|Acknowledged", timeline), timeline
            lines = page.locator("#timeline li").evaluate_all(
                "items => items.map(i => i.childNodes[2].textContent)")
            assert all(not line[:1].islower() for line in lines), lines
            escalated = page.evaluate(ESCALATIONS)
            assert escalated == ["Alert #7 (no activity): escalated to 赵敏 (grid head), "
                                 "周主任 (duty leader)",
                                 "Alert #7 (no activity): escalated automatically"], escalated
            assert page.evaluate(TRAIL, False) == TRAIL_EN
            page.locator("#lang").click()
            escalated = page.evaluate(ESCALATIONS)
            assert escalated == ["警报 #7（长时间无活动）：已升级至赵敏（网格长）、周主任（值班领导）",
                                 "警报 #7（长时间无活动）：自动升级"], escalated
            assert page.evaluate(TRAIL, True) == TRAIL_ZH
            if axe:  # the new lines, shown in the timeline, pass too
                assert violations(page, axe) == []
            assert "通知系统" not in (page.locator("#timeline").text_content() or "")

            # The detector may send explanations in both languages; the page shows the right one.
            # As if the API sent both, in its answers and in its live events (an alert event
            # arriving meanwhile, an escalation say, must not bring the old text back).
            page.evaluate("""() => {
                const both = { en: "EN: quiet too long", zh: "中文：太久没有动静" };
                const real = window.fetch;
                window.fetch = async (...args) => {
                    const answer = await real(...args);
                    if (!String(args[0]).startsWith("/alerts?")) return answer;
                    const body = await answer.json();
                    for (const a of body.items) a.explanations = both;
                    return new Response(JSON.stringify(body), { status: answer.status });
                };
                const frame = window.handleFrame;
                window.handleFrame = (text) => frame(text.split("\\n").map((line) => {
                    if (!line.startsWith("data:")) return line;
                    const body = JSON.parse(line.slice(5));
                    if (body.alert) body.alert.explanations = both;
                    return "data: " + JSON.stringify(body);
                }).join("\\n"));
                for (const a of app.alerts.values()) a.explanations = both;
                renderAlerts();
            }""")
            expect(here.first.locator(".why")).to_have_text("中文：太久没有动静")
            page.locator("#lang").click()
            expect(here.first.locator(".why")).to_have_text("EN: quiet too long")
            page.locator("#lang").click()

            # Resolving: choose an outcome, write a note if you like, then confirm; cancelling
            # changes nothing.
            count = here.count()
            first = here.first
            resolved_id = int(first.get_attribute("data-alert") or 0)
            first.locator("select").select_option("elder_fine")
            first.locator("select").focus()
            page.keyboard.press("Tab")  # the note is next, by keyboard
            note = first.get_by_label("备注（可选）")
            expect(note).to_be_focused()
            page.keyboard.type("在椅子上睡着了")
            first.locator('button[data-action="resolve"]').click()
            confirm = first.locator('button[data-action="confirm-resolve"]')
            expect(confirm).to_be_focused()
            expect(first.locator(".confirm")).to_contain_text("老人安好")
            expect(first.locator(".confirm")).to_contain_text("在椅子上睡着了")
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")  # cancel
            expect(first.locator(".confirm")).to_have_count(0)
            expect(here).to_have_count(count)
            expect(note).to_have_value("在椅子上睡着了")
            first.locator('button[data-action="resolve"]').click()
            confirm.focus()
            page.keyboard.press("Enter")
            expect(here).to_have_count(count - 1, timeout=10_000)
            assert running.system.state.alerts.get(resolved_id).note == "在椅子上睡着了"
            # The timeline shows the resolution at once, note and all, without reloading.
            expect(page.locator('#timeline li[data-kind="alert"]').first).to_contain_text(
                "在椅子上睡着了", timeout=10_000)

            # Acting on an alert someone already closed: the page says so in its own language.
            page.evaluate("id => act(id, 'resolve', { outcome: 'elder_fine' })", resolved_id)
            expect(page.locator("#toast.show")).to_have_text("已有人处理过这条警报，页面已更新。")
            # A refused entry: the page's own words first, then the server's on what was wrong
            # (before, the server's English alone); a body the schema refuses, its words alone.
            refused = ("body => api('/households/" + RED_HOME + "/visits', { method: 'POST', body })"
                       ".then(() => 'accepted', problem)")
            assert page.evaluate(refused, {"at": "2099-01-01T00:00:00+08:00"}) == (
                "填写的内容不符合要求，请检查后重试。（详情：a visit cannot be in the future）")
            assert page.evaluate(refused, {"how": "letter"}) == "填写的内容不符合要求，请检查后重试。"

            # A household that does not exist: a plain "not found", nothing of the last one.
            page.evaluate("location.hash = '#/household/nope'")
            missing = page.locator("#missing")
            expect(missing).to_be_visible()
            expect(page.locator("#missing-title")).to_have_text("找不到这户住户")
            expect(page.locator("#missing-title")).to_be_focused()
            expect(page.locator("#household")).to_be_hidden()
            expect(page.locator("#visit-form")).to_be_hidden()
            expect(page.locator("#household-title")).to_be_empty()
            expect(page.locator("#timeline li")).to_have_count(0)
            expect(page.locator("#toast.show")).to_have_count(0, timeout=10_000)
            page.locator("#lang").click()
            expect(page.locator("#missing-title")).to_have_text("Household not found")
            page.locator("#lang").click()
            page.locator("#missing-back").focus()
            page.keyboard.press("Enter")
            expect(page.locator("#dashboard")).to_be_visible()

            phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            phone.goto(running.url + "/")
            phone.locator("#username").fill("wang.fang")
            phone.locator("#password").fill(running.password)
            phone.keyboard.press("Enter")
            expect(phone.locator("#cards .card").first).to_be_visible()
            expect(phone.locator("#cockpit-link")).to_be_hidden()  # the cockpit is the leaders'
            # ...but a grid member sees the 369 figures of their own households on the dashboard.
            expect(phone.locator("#my-responses-title")).to_have_text(
                re.compile(r"我负责住户的 369 限时响应（\d{4}-\d{2}）"))
            expect(phone.locator("#my-responses-line")).to_have_text(re.compile(r"本月 \d+ 条警报：3 小时内确认 "))
            if axe:
                assert violations(phone, axe) == []
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            phone.locator("#cards .card").first.click()
            expect(phone.locator("#chart svg text").first).to_be_attached(timeout=10_000)
            label = phone.locator("#chart svg text").first.bounding_box()
            assert label is not None and label["height"] >= 14, f"chart labels too small: {label}"
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390

            # A toast is one short line at the bottom, and the page's end scrolls clear of it.
            phone.locator("#visit-note").fill("精神不错")
            phone.locator("#visit-note").press("Enter")
            toast = phone.locator("#toast.show")
            expect(toast).to_have_text("走访已记录")
            expect(phone.locator('#timeline li[data-kind="visit"]').first).to_contain_text(
                "精神不错", timeout=10_000)
            # Scrolled and measured in one step: the live feed may redraw the timeline between two.
            box, last = phone.evaluate("""() => {
                window.scrollTo(0, document.documentElement.scrollHeight);
                const rect = (n) => { const r = n.getBoundingClientRect(); return { y: r.y, height: r.height }; };
                return [rect(document.querySelector("#toast.show")),
                        rect([...document.querySelectorAll("#timeline li")].at(-1))];
            }""")
            assert box["height"] <= 48 and box["y"] + box["height"] <= 844, box
            assert last["y"] + last["height"] <= box["y"], (last, box)

            # Another grid's household is "not found" for a grid member: no empty page, no form.
            phone.evaluate(f"location.hash = '#/household/{OTHER_GRID_HOME}'")
            expect(phone.locator("#missing")).to_be_visible()
            expect(phone.locator("#visit-form")).to_be_hidden()
            expect(phone.locator("#household-alerts-empty")).to_be_hidden()

            # A volunteer is never sent alerts: her card says so, not a false "no open alert".
            registry = running.system.state.registry
            volunteer = registry.add_staff(username="vol.liu", name="刘志愿", role=Role.VOLUNTEER,
                                           now=time.time())
            registry.update_staff(volunteer.id, household_ids=[RED_HOME])
            running.system.state.credentials.set_password(volunteer.id, running.password,
                                                           actor=Actor("test"), now=time.time())
            helper = browser.new_page(locale="zh-CN")
            helper.goto(running.url + "/")
            helper.locator("#username").fill("vol.liu")
            helper.locator("#password").fill(running.password)
            helper.keyboard.press("Enter")
            status = helper.locator(f'#cards [data-household="{RED_HOME}"] .status')
            expect(status).to_have_text("志愿者不查看警报")
        finally:
            browser.close()



def test_the_cockpit_shows_each_grid_and_the_list_behind_a_figure_on_desk_and_phone(
        running: Running, tmp_path: Path) -> None:
    expect = sync_api.expect
    axe = axe_source()
    # The other grid's home withdraws its consent: not watched, and marked so.
    now = running.system.clock.now()
    running.system.state.consent.record(Consent(OTHER_GRID_HOME, "家属", "son", False, False, now),
                                        actor=Actor("test"), now=now)
    # The red home's week as a learned detector would store it: its silence is weighed on its card.
    running.system.state.rhythm.save({RED_HOME: [1.5] * 168}, now=now)
    # Genuine alerts piled up at a cooler home: dispatch suggested a hotter colour (a person decides).
    cool = next(h for h in running.system.state.registry.households() if h.tier > Tier.ORANGE)
    hotter = Tier(int(cool.tier) - 1)
    running.system.state.care.suggest(TierSuggestion(cool.id, cool.tier, hotter, (1, 2, 3)), [], now=now)
    # A grid member on leave with nobody standing in: a gap in cover, said in the reader's language.
    member = running.system.state.registry.staff_by_username("wang.fang")
    running.system.state.cover.add_leave(Leave(member.id, now, now + 30 * 86400), actor=Actor("test"), now=now)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for size, name in (({"width": 1280, "height": 900}, "cockpit.png"),
                               ({"width": 390, "height": 844}, "cockpit-phone.png")):
                page = browser.new_page(viewport=size, locale="zh-CN")
                errors: list[str] = []
                page.on("console", lambda m, seen=errors: seen.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
                page.goto(running.url + "/")
                page.locator("#username").fill("leader")
                page.locator("#password").fill(running.password)
                page.keyboard.press("Enter")
                expect(page.locator(f'#cards [data-household="{RED_HOME}"] .usual-now')).to_contain_text(
                    re.compile(r"已安静 \d+ 小时.*；平常这段时间约有 \d+ 次生活迹象"))
                unwatched = page.locator(f'#cards [data-household="{OTHER_GRID_HOME}"]')
                expect(unwatched).to_have_attribute("data-state", "unwatched")
                expect(unwatched.locator(".status")).to_have_text("未在监测：尚未记录知情同意")
                page.get_by_label("只看未在监测的住户").check()
                expect(page.locator("#cards .card")).to_have_count(1)
                page.get_by_label("只看未在监测的住户").uncheck()
                expect(page.locator("#cards .card")).to_have_count(6)
                expect(page.locator(f'#cards [data-household="{RED_HOME}"] .visit-overdue')).to_contain_text(
                    "走访已逾期")
                if size["width"] > 600:  # (the desk's turn decides it below)
                    expect(page.locator(f'#cards [data-household="{cool.id}"] .suggestion')).to_have_text(
                        f"建议调为{COLOUR_ZH[hotter]}（最近 3 次真实警报）")
                page.locator("#cockpit-link").click()
                table = page.locator("#cockpit-grids .cockpit-table")
                expect(table).to_be_visible()
                expect(table.locator("tbody tr")).to_have_count(3)  # two grids and the whole community
                expect(table.locator("tr.total th")).to_have_text("全社区")
                gaps = page.locator("#cockpit-gaps-list")
                expect(gaps).to_contain_text(re.compile(r"wang\.fang 休假（.+）且没有代班人"))
                if size["width"] > 600:
                    page.locator("#lang").click()
                    expect(gaps).to_contain_text(re.compile(r"wang\.fang is on leave .+ with no deputy"))
                    page.locator("#lang").click()
                    expect(gaps).to_contain_text("没有代班人")
                # Nobody has visited the simulated homes, monitored for a week: the red ones are overdue.
                overdue = table.locator("tr.total a[href*='show=visits_overdue']")
                expect(overdue).to_be_visible()
                expect(table.locator("tr.total a[href*='show=unwatched']")).to_have_text("1")
                overdue.click()
                expect(page.locator("#cockpit-behind-title")).to_have_text("全社区 · 走访逾期")
                assert page.url.endswith("#/cockpit?show=visits_overdue")
                expect(page.locator("#cockpit-behind-list li a").first).to_be_visible()
                if size["width"] < 600:
                    # One column: each figure on its own row with its label beside it.
                    cell = table.locator("tbody tr").first.locator("td").nth(1)
                    assert cell.evaluate("c => getComputedStyle(c).display") == "flex"
                # 五色五访: each overdue visit with who claimed it; 369: two grids, five colours, all.
                expect(page.locator(f'#cockpit-visits li:has(a[href="#/household/{RED_HOME}"])')).to_contain_text(
                    "负责：")
                responses = page.locator("#cockpit-responses table")
                expect(responses.locator("tbody tr")).to_have_count(8)
                expect(page.locator("#responses-title")).to_have_text(re.compile(r"369 限时响应（\d{4}-\d{2}）"))
                shoot(page, name, tmp_path)
                assert violations(page, axe) == []
                if size["width"] > 600:
                    page.goto(f"{running.url}/#/household/{cool.id}")
                    reason = page.get_by_label("理由")
                    expect(reason).to_be_visible()
                    assert violations(page, axe) == []
                    reason.fill("三次警报都需要上门")
                    page.get_by_role("button", name=f"调为{COLOUR_ZH[hotter]}").click()
                    expect(page.locator("#toast")).to_have_text("颜色已调整")
                    expect(page.locator("#household-care-suggestion")).to_be_empty()
                    assert running.system.state.registry.household(cool.id).tier is hotter
                    page.goto(f"{running.url}/#/cockpit?show=visits_overdue")
                    expect(page.locator("#cockpit-behind-title")).to_have_text("全社区 · 走访逾期")
                page.locator("#cockpit-behind-list li a").first.click()
                expect(page.locator("#household")).to_be_visible()
                expect(page.locator("#timeline li").first).to_be_visible()
                assert violations(page, axe) == []
                shoot(page, name.replace("cockpit", "household"), tmp_path)
                # Nothing sticks out sideways: the page is exactly as wide as the screen.
                assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
                page.locator("#back").click()
                expect(page.locator("#dashboard")).to_be_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
                assert errors == [], errors
                page.close()
        finally:
            browser.close()
