"""The passenger page's dates and its cancel button, in a browser far from China.

The server's clock is injected at a late UTC hour (23:30 UTC, 07:30 the next morning in
Beijing) and the browser's clock is set to the same instant in Los Angeles (15:30 the day
before) or on Kiritimati (UTC+14, 13:30): the date picker must still default to the operator's
today, start there and end with the pre-sale window, and a held unpaid order can be cancelled
from its page, its seats back on sale. At desktop width and at 390 px.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from open12306.config import Settings
from open12306.shared.clock import FixedClock
from tests.e2e.test_web_passenger import add_passenger, order_held, register, search
from tests.e2e.web_support import Site, launch_chromium, serve
from tests.unit.accounts_support import resident_id

SERVER_NOW = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
TODAY = date(2027, 3, 2)  # the operator's (Beijing) date at SERVER_NOW
ZONE = ZoneInfo("Asia/Shanghai")
PRESALE_DAYS = 15
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
BROWSERS = [
    ("America/Los_Angeles", DESKTOP, 15),  # the browser's local hour at SERVER_NOW
    ("America/Los_Angeles", PHONE, 15),
    ("Pacific/Kiritimati", DESKTOP, 13),
    ("Pacific/Kiritimati", PHONE, 13),
]
_people = itertools.count(101)


@pytest.fixture(scope="module")
def site(demo_settings: Settings) -> Iterator[Site]:
    settings = replace(demo_settings, timezone="Asia/Shanghai", presale_days=PRESALE_DAYS)
    yield from serve(settings, clock=FixedClock(SERVER_NOW))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: OPEN12306_SCREENSHOT_DIR to keep them, else the test's tmp."""
    chosen = os.environ.get("OPEN12306_SCREENSHOT_DIR")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser: Any, site: Site, zone: str, viewport: dict[str, int]) -> tuple[Any, Any]:
    context = browser.new_context(locale="zh-CN", timezone_id=zone, viewport=viewport)
    context.clock.install(time=SERVER_NOW)  # the same instant as the server, another zone
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site.url + "/")
    return context, (page, errors)


def fits(page: Any, viewport: dict[str, int]) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page is {width} px wide in {viewport['width']} px"


@pytest.mark.parametrize(("zone", "viewport", "local_hour"), BROWSERS)
def test_dates_are_the_operators_and_an_unpaid_order_is_cancelled(
    browser: Any,
    site: Site,
    shots: Path,
    zone: str,
    viewport: dict[str, int],
    local_hour: int,
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    last = TODAY + timedelta(days=PRESALE_DAYS - 1)
    name = f"{zone.split('/')[1].lower()}-{viewport['width']}"
    context, (page, errors) = open_page(browser, site, zone, viewport)
    try:
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == zone
        assert page.evaluate("new Date().getHours()") == local_hour  # the browser's own day

        field = page.get_by_label("出发日期 Date")
        expect(field).to_have_value(TODAY.isoformat())
        expect(field).to_have_attribute("min", TODAY.isoformat())
        expect(field).to_have_attribute("max", last.isoformat())
        hint = page.locator("#search-date-hint")
        expect(hint).to_contain_text(f"北京时间 Beijing time 今天 today {TODAY}")
        expect(hint).to_contain_text(f"on sale {TODAY} – {last}")
        page.screenshot(path=shots / f"{name}-1-search.png", full_page=True)
        fits(page, viewport)

        page.get_by_label("出发地 From").fill("北京")
        page.get_by_label("目的地 To").fill("上海")
        field.fill((TODAY - timedelta(days=1)).isoformat())  # the browser's today in LA
        page.get_by_role("button", name="查询 Search").click()
        expect(page.locator("#search-date-error")).to_contain_text("has passed")

        page.get_by_role("link", name=re.compile("Log in")).click()
        register(page)
        page.get_by_role("link", name="乘车人 Passengers").click()
        add_passenger(page, "赵小川", resident_id(f"51010719920211{next(_people):03d}"))
        expect(page.locator("#passenger-list")).to_contain_text("赵小川")
        page.get_by_role("link", name="车票查询 Search").click()
        expect(field).to_have_value(TODAY.isoformat())  # the search view asks the server again
        search(page, (TODAY + timedelta(days=1)).isoformat())
        row = page.locator("#search-results tr[data-train]").first
        train = row.get_attribute("data-train")
        seat = row.locator(".seat", has_text="二等座")
        before = int(re.search(r"余 (\d+)", seat.inner_text()).group(1))  # type: ignore[union-attr]
        page.screenshot(path=shots / f"{name}-2-results.png")
        row.screenshot(path=shots / f"{name}-2-first-train.png")
        fits(page, viewport)
        seat.get_by_role("button", name=re.compile("预订 Book")).click()
        order = order_held(page)
        expect(page.locator("#pay-countdown")).to_have_text(re.compile(r"^(30|[12]\d|[1-9]):\d\d$"))
        held_at = SERVER_NOW.astimezone(ZONE)  # 30 minutes to pay, shown in Beijing time
        pay_by = (held_at + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
        expect(page.locator("#pay-box")).to_contain_text(f"pay by {pay_by}")
        taken = page.locator("#order-detail table").first.locator("tbody tr").first
        coach, seat_label = (taken.locator("td").nth(i).inner_text() for i in (1, 2))
        page.screenshot(path=shots / f"{name}-3-held.png", full_page=True)
        fits(page, viewport)

        page.get_by_role("button", name="取消订单 Cancel order").click()
        box = page.locator("#cancel-box")
        expect(box).to_contain_text("Cancel this order?")
        page.screenshot(path=shots / f"{name}-4-confirm.png", full_page=True)
        box.get_by_role("button", name="不取消 Keep the order").click()  # changed my mind
        expect(page.locator("#order-detail .badge").first).to_have_text(re.compile("Awaiting"))
        page.get_by_role("button", name="取消订单 Cancel order").click()
        box.get_by_role("button", name="确认取消订单 Confirm cancel").click()

        expect(page.locator("#order-detail .badge").first).to_have_text(re.compile("Cancelled"))
        notice = page.locator("#order-notice")
        expect(notice).to_contain_text(f"订单已取消 Order {order} cancelled")
        expect(notice).to_contain_text(f"Seats back on sale: {coach} {seat_label}")
        expect(notice).to_contain_text(f"{train} 二等座 Second 当前余票 now {before} left")
        expect(page.locator("#pay-box")).to_have_count(0)
        expect(page.locator("#cancel-box")).to_have_count(0)
        page.screenshot(path=shots / f"{name}-5-cancelled.png", full_page=True)
        fits(page, viewport)

        page.get_by_role("link", name="我的订单 My orders").click()
        listed = page.locator(f'#orders-list li[data-order="{order}"]')
        expect(listed).to_contain_text("Cancelled")
    finally:
        context.close()
    assert errors == [], f"script errors on the page: {errors}"
