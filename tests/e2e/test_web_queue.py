"""The order page while the order waits in the queue (its place and wait), and a shed
submission (429) on the booking form, in headless Chromium at desktop width and at 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from open12306.config import Settings
from open12306.sales.domain.slow_queue import SlowQueueRule, SubmissionRates
from tests.e2e.test_web_passenger import add_passenger, book_first_second_class, day, register
from tests.e2e.test_web_passenger import search as search_trips
from tests.e2e.web_support import Site, launch_chromium, passenger_tab, serve
from tests.unit.accounts_support import resident_id

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="module")
def site(demo_settings: Settings) -> Iterator[Site]:
    yield from serve(demo_settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    yield from passenger_tab(browser, site)


def to_booking(page: Any, site: Site, name: str, serial: str) -> None:
    """Search, register, save a passenger and come back to the booking form."""
    from playwright.sync_api import expect

    search_trips(page, day(site, 4))
    book_first_second_class(page)
    register(page)
    page.get_by_role("link", name="添加乘车人 Add a passenger").click()
    add_passenger(page, name, resident_id(serial))
    expect(page.locator("#passenger-list")).to_contain_text(name)
    page.go_back()
    expect(page).to_have_url(re.compile("#/book$"))
    page.locator("#book-form").get_by_role("checkbox").first.check()


def shoot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENS / f"{name}-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px)"


def test_a_slow_queued_order_shows_its_place_and_wait(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    intake = site.container.orders.intake
    kept = intake.rates
    # one submission from this address already counted: the rider's is over the limit and
    # waits in the slow queue (10 minutes), so the page shows it queued
    intake.rates = SubmissionRates(SlowQueueRule(max_per_address=1, delay_seconds=600))
    intake.rates.record("someone-else", "127.0.0.1", site.container.clock.now())
    try:
        to_booking(page, site, "排队甲", "11010119880202401")
        page.get_by_role("button", name="提交订单 Submit order").click()
        place = page.locator("#queue-place")
        expect(place).to_contain_text(re.compile(r"排队中: 第 \d+ 位"))
        expect(place).to_contain_text(
            re.compile(r"预计等待约 (9|10) 分钟")
        )  # the slow queue's delay
        expect(place).to_contain_text(re.compile(r"In the queue: position \d+, \d+ ahead"))
        expect(page.locator("#order-detail .badge").first).to_contain_text("排队")
        shoot(page, "order-queued")
    finally:
        intake.rates = kept


def test_a_shed_submission_says_when_to_try_again(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    intake = site.container.orders.intake
    kept = intake.max_pending
    to_booking(page, site, "排队乙", "11010119880202402")
    intake.max_pending = 0  # the intake is full: every new submission is shed
    try:
        page.get_by_role("button", name="提交订单 Submit order").click()
        alert = page.locator("#book-form [role=alert]").first
        expect(alert).to_contain_text(re.compile(r"系统繁忙, 请 \d+ 秒后重试"))
        shoot(page, "booking-busy")
    finally:
        intake.max_pending = kept
    page.get_by_role("button", name="提交订单 Submit order").click()  # the same attempt again
    expect(page.locator("#order-detail .badge").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/order/\w+"))
