"""The installer's view on the household page, in a real browser: each mapped device with its last
message and battery, and the devices not mapped yet. Needs Debian's Chromium at /usr/bin/chromium and
Playwright for Python; skipped without them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.bootstrap import ApiServer, build
from cli.demo import register
from shouwang.broker import free_port
from shouwang.domain.devices import DeviceSighting
from shouwang.settings import Settings
from simulator.devices import DOOR, meter_id
from simulator.population import demo_equipped, population
from tests.e2e.test_web_page import CHROMIUM, CHROMIUM_ARGS, sync_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page_url(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    settings = Settings(demo=True, storage={"data_dir": tmp_path}, api={"port": free_port()})
    system = build(settings)
    now = time.time()
    homes = demo_equipped(population(2, seed=7))
    equipped = next(h for h in homes if h.bridged)
    community = register(system.state, homes, [], monitoring_since=now - 86400, now=now)
    system.state.devices.heard([
        DeviceSighting(equipped.hub_id, "z2m", DOOR, now - 86000, now - 300, 40, 0.93),
        DeviceSighting(equipped.hub_id, "wmbus", meter_id(equipped.hub_id), now - 86000, now - 60, 90),
        DeviceSighting(equipped.hub_id, "z2m", "0x00158d0001a2b3c4", now - 3600, now - 120, 4)])
    system.state.devices.record_presence(equipped.hub_id, "z2m", DOOR, online=False, at=now - 200)
    api = ApiServer(system.app, "127.0.0.1", settings.api.port)
    api.start()
    try:
        yield api.url, community.password, equipped.home_id
    finally:
        api.stop()
        system.stop()


def test_the_household_page_shows_devices_their_battery_and_those_waiting(
        page_url: tuple[str, str, str]) -> None:
    url, password, home = page_url
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(url + "/")
            page.locator("#username").fill("leader")
            page.locator("#password").fill(password)
            page.keyboard.press("Enter")
            expect(page.locator("#cards")).to_be_visible()
            page.goto(f"{url}/#/household/{home}")
            devices = page.locator("#devices")
            expect(devices).to_be_visible()
            entrance = devices.locator("li", has_text=DOOR)
            expect(entrance).to_contain_text("开关门")
            expect(entrance).to_contain_text("电量 93%")
            expect(entrance).to_contain_text("已离线")
            expect(devices.locator("li", has_text="fine button")).to_contain_text("平安键")
            expect(devices.locator("li", has_text="help")).to_contain_text("尚未收到消息")
            expect(page.locator("#unmapped-block")).to_be_visible()
            expect(page.locator("#unmapped")).to_contain_text("0x00158d0001a2b3c4")
            expect(page.locator("#unmapped")).to_contain_text("4 条消息")
            expect(page.locator("#unmapped-hint")).to_contain_text("shouwang hubs devices h-sim-0002 add")
            page.locator("#lang").click()
            page.goto(f"{url}/#/household/{home}")
            expect(page.locator("#devices li", has_text=DOOR)).to_contain_text("battery 93%")
        finally:
            browser.close()
