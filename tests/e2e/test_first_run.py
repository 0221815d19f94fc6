"""A community's first run, in a real headless Chromium: `shouwang init`, a CSV import, the system
started from the settings file init wrote, then the cockpit, a household's chart with its usual
band, and an alert acknowledged from the live feed, on a desk and on a phone, with axe-core
finding nothing wrong on any page and the browser console silent.

Needs Debian's Chromium and Playwright for Python (skipped without them); axe-core from
`npm ci --prefix tests/e2e/axe` (skipped without it).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cli.bootstrap import ApiServer, System, build
from cli.main import main
from shouwang.broker import free_port
from shouwang.clock import FastClock
from shouwang.settings import Settings
from simulator.incidents import Incident, IncidentKind
from simulator.population import SimHousehold, build_homes, population
from simulator.publisher import Simulation
from tests.e2e.accessibility import axe_source, violations
from tests.e2e.test_web_page import CHROMIUM, CHROMIUM_ARGS, last_sign_of_life

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not at /usr/bin/chromium; apt-get install -y chromium",
                allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.broker, pytest.mark.slow]
SPEED = 240.0
PASSWORD = "the admin's own passphrase"
SILENT_H = 11.8  # the red elder's door closed this long ago; the 12-hour rule fires 0.2 h later


@dataclass
class Community:
    url: str
    system: System
    red: str


def spreadsheet(homes: list[SimHousehold]) -> str:
    """The households as a community keeps them, consent columns and all."""
    rows = ["id,colour,grid,grid_name,hub,alias,address,consent_by,consent_date"]
    names = {"g-01": "东园网格", "g-02": "西园网格"}
    rows += [f"{h.home_id},{h.tier.colour},{h.grid_id},{names[h.grid_id]},{h.hub_id},{h.alias},{h.address},"
             f"{h.alias},2026-11-01" for h in homes]
    return "\n".join(rows) + "\n"


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Community]:
    monkeypatch.chdir(tmp_path)
    for name in ("SHOUWANG_COMMUNITY", "SHOUWANG_STORAGE__DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["init", "--community", "利民社区", "--admin", "admin", "--admin-name", "李主任",
                 "--password-stdin"]) == 0
    homes = population(4, seed=7)
    (tmp_path / "households.csv").write_text(spreadsheet(homes), encoding="utf-8")
    assert main(["households", "import", "households.csv"]) == 0
    for n, grid in enumerate(("g-01", "g-02"), start=1):
        assert main(["staff", "add", f"member{n}", "--name", f"网格员{n}", "--role", "grid_member",
                     "--grid", grid]) == 0
    red = next(h for h in homes if h.tier.colour == "red")
    settings = Settings.load(tmp_path / "shouwang.toml", mqtt={"embedded_port": free_port()},
                             api={"port": free_port()}, dispatch={"retry_initial_s": 1.0},
                             detector={"algorithm": "fixed", "no_water_h": 48.0})
    now = time.time()
    clock = FastClock(now, SPEED)
    system = build(settings, clock=clock)
    simulation = None
    try:
        system.start_broker()
        system.start_services()
        api = ApiServer(system.app, "127.0.0.1", settings.api.port)
        api.start()
        system.add_stopper(api.stop)
        incidents = [Incident(red.home_id, IncidentKind.INCAPACITATION, now - SILENT_H * 3600)]
        simulation = Simulation(build_homes(homes, start=now - 7 * 86400, tz=ZoneInfo(settings.timezone),
                                            incidents=incidents), mqtt=settings.mqtt, clock=clock)
        last_sign_of_life(settings, now - SILENT_H * 3600, hub_id=red.hub_id)
        simulation.connect()
        simulation.backfill(clock.now())
        simulation.start()
        yield Community(api.url, system, red.home_id)
    finally:
        if simulation is not None:
            simulation.stop()
        system.stop()


def test_init_import_cockpit_chart_and_acknowledging_on_a_desk_and_a_phone(community: Community) -> None:
    expect = sync_api.expect
    axe = axe_source()
    assert community.system.settings.community == "利民社区"  # from the file init wrote
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for size in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
                page = browser.new_page(viewport=size, locale="zh-CN")
                errors: list[str] = []
                page.on("console", lambda m, seen=errors: seen.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
                page.goto(community.url + "/")
                expect(page.locator("#community")).to_have_text("利民社区")
                page.locator("#username").fill("admin")
                page.locator("#password").fill(PASSWORD)
                page.keyboard.press("Enter")
                expect(page.locator("#cards .card")).to_have_count(4)
                item = page.locator(f'#feed li[data-household="{community.red}"]').first
                expect(item).to_be_visible(timeout=60_000)  # the 12-hour rule, 0.2 clock hours on
                assert violations(page, axe) == []

                page.locator("#cockpit-link").click()
                table = page.locator(".cockpit-table")
                expect(table.locator("tr.total a[href*='show=open_alerts']")).to_be_visible()
                table.locator("tr.total a[href*='show=open_alerts']").click()
                expect(page.locator(f"#cockpit-behind-list a[href='#/household/{community.red}']")).to_be_visible()
                assert violations(page, axe) == []

                page.locator(f"#cockpit-behind-list a[href='#/household/{community.red}']").first.click()
                expect(page.locator("#chart svg rect.usual").first).to_be_attached(timeout=10_000)
                # 11 or 12 hours on a quiet machine; the fast clock runs on while a loaded one renders
                expect(page.locator("#chart-silence")).to_contain_text(re.compile(r"已安静 1\d 小时"))
                assert violations(page, axe) == []
                assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]

                page.locator("#back").click()
                button = page.locator(f'#feed li[data-household="{community.red}"][data-state="open"] '
                                      'button[data-action="acknowledge"]')
                if button.count():  # the desk acknowledged it already when the phone looks
                    button.first.click()
                expect(page.locator(f'#feed li[data-household="{community.red}"]').first).to_contain_text(
                    "已确认（李主任）", timeout=10_000)
                assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
                assert errors == [], errors
                page.close()
        finally:
            browser.close()
