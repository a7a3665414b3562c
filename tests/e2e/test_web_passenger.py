"""The passenger web app in a real browser (headless Chromium), against the real server.

Each test is one passenger's journey through the page only: search, account, passengers,
order, the sandbox cashier, tickets and what can be done with them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from open12306.config import Settings
from tests.e2e.web_support import Site, launch_chromium, passenger_tab, serve
from tests.unit.accounts_support import resident_id

PASSWORD = "rail-pass-2026"
_serial = itertools.count(301)


@pytest.fixture(scope="module")
def site(demo_settings: Settings) -> Iterator[Site]:
    yield from serve(demo_settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    yield from passenger_tab(browser, site)


def day(site: Site, offset: int) -> str:
    return (site.container.window.today() + timedelta(days=offset)).isoformat()


def search(page: Any, when: str) -> None:
    from playwright.sync_api import expect

    page.get_by_label("出发地 From").fill("北京")
    page.get_by_label("目的地 To").fill("上海")
    page.get_by_label("出发日期 Date").fill(when)
    page.get_by_label("含中转 Include transfers").check()
    page.get_by_role("button", name="查询 Search").click()
    expect(page.locator("#search-results tr[data-train]").first).to_be_visible()


def book_first_second_class(page: Any) -> None:
    row = page.locator("#search-results tr[data-train]").first
    row.get_by_role("button", name=re.compile("二等座")).click()


def register(page: Any) -> str:
    from playwright.sync_api import expect

    username = f"webrider_{next(_serial)}"
    page.get_by_label("用户名 Username").fill(username)
    page.get_by_label("密码 Password").fill(PASSWORD)
    page.get_by_role("button", name="注册 Register").click()
    expect(page.locator("#account-link")).to_contain_text(username)
    return username


def add_passenger(page: Any, name: str, number: str, *, refused: bool = False) -> None:
    """Save a passenger and wait until the list shows it (unless the form is to refuse it)."""
    from playwright.sync_api import expect

    page.get_by_label("姓名 Name").fill(name)
    page.get_by_label("证件号码 Document number").fill(number)
    page.get_by_role("button", name="保存 Save passenger").click()
    if not refused:
        expect(page.locator("#passenger-list")).to_contain_text(name)


def order_held(page: Any) -> str:
    """Tick the only passenger, submit, and wait for the seats: the order number."""
    from playwright.sync_api import expect

    page.locator("#book-form").get_by_role("checkbox").first.check()
    page.get_by_role("button", name="提交订单 Submit order").click()
    expect(page.locator("#pay-box")).to_be_visible()
    expect(page.locator("#order-detail .badge").first).to_have_text(re.compile("Awaiting payment"))
    match = re.search(r"#/order/(\w+)", page.url)
    assert match, page.url
    return match.group(1)


def test_search_register_book_pay_with_alipay_then_qr_change_and_refund(
    page: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    search(page, day(site, 3))
    expect(page.get_by_role("heading", name="中转方案 Transfers")).to_be_visible()
    expect(page.locator("#search-results .transfer").first).to_contain_text("中转 Transfer")
    first_row = page.locator("#search-results tr[data-train]").first
    expect(first_row).to_contain_text("二等座")
    expect(first_row).to_contain_text(re.compile(r"¥\d+\.\d\d"))
    expect(first_row).to_contain_text(re.compile(r"余 \d+"))

    book_first_second_class(page)  # not logged in: the page asks for that first
    expect(page).to_have_url(re.compile("#/account$"))
    register(page)
    expect(page).to_have_url(re.compile("#/book$"))
    expect(page.locator("#book-trip")).to_contain_text("二等座")

    expect(page.locator("#book-passengers")).to_contain_text("No saved passengers yet")
    page.get_by_role("link", name="添加乘车人 Add a passenger").click()
    add_passenger(page, "王小明", "110101199001011234", refused=True)  # wrong check character
    number_field = page.get_by_label("证件号码 Document number")
    expect(page.locator("#p-id-number-error")).to_have_text(
        "the resident ID check character is wrong"
    )
    expect(number_field).to_have_attribute("aria-invalid", "true")
    add_passenger(page, "王小明", resident_id("11010119880101301"))
    expect(page.locator("#passenger-list")).to_contain_text("王小明")
    expect(page.locator("#p-id-number-error")).to_be_empty()

    page.go_back()
    expect(page).to_have_url(re.compile("#/book$"))
    order = order_held(page)
    seats = page.locator("#order-detail table").first
    expect(seats).to_contain_text(re.compile(r"\d+ 车"))
    expect(page.locator("#pay-box")).to_contain_text(
        re.compile(r"pay by \d{4}-\d\d-\d\d \d\d:\d\d")
    )

    page.get_by_role("button", name="支付宝 Pay with Alipay").click()
    page.wait_for_url(re.compile("/paysandbox/"))
    expect(page.get_by_text("Alipay — sandbox cashier")).to_be_visible()
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url(re.compile(f"#/order/{order}$"))
    tickets = page.locator("#tickets")
    expect(tickets).to_be_visible()
    expect(page.locator("#order-detail .badge").first).to_have_text(re.compile("Paid"))
    ticket_row = tickets.locator("tr[data-ticket]")
    expect(ticket_row).to_contain_text(re.compile(rf"{order}\d+"))
    expect(ticket_row).to_contain_text(re.compile(r"\d+ 车 / \w+"))
    expect(ticket_row).to_contain_text("北京")  # the boarding station where the gate checks

    ticket_row.get_by_role("button", name="二维码 QR code").click()
    qr = page.get_by_role("img", name=re.compile("E-ticket QR code"))
    expect(qr).to_be_visible()
    expect(qr).to_have_js_property("complete", True)  # an <img> shows its alt text before then
    assert qr.evaluate("img => img.naturalWidth") > 0
    expect(page.locator(".ticket-panel")).to_contain_text("check-in window")

    ticket_row.get_by_role("button", name="改签 Change").click()
    page.get_by_label("新日期 New date").fill(day(site, 4))
    page.get_by_role("button", name="查找车次 Find trains").click()
    page.get_by_role("button", name=re.compile("^改签到 Change to")).first.click()
    offer = page.locator(".change-offer")
    expect(offer).to_contain_text(re.compile(r"新票价 New fare ¥\d+\.\d\d"))
    offer.get_by_role("button", name="确认改签 Confirm the change").click()
    notice = page.locator("#order-notice")
    expect(notice).to_contain_text("改签成功")
    expect(notice).to_contain_text(re.compile(r"新票价 new fare ¥\d+\.\d\d"))
    expect(notice).to_contain_text(re.compile(r"手续费 fee ¥\d+\.\d\d"))
    expect(page.locator("#tickets .badge", has_text="Changed")).to_have_count(1)

    live = page.locator("#tickets tr[data-ticket]", has=page.locator(".badge.issued"))
    live.get_by_role("button", name="退票 Refund").click()
    page.get_by_role("button", name="确认退票 Confirm refund").click()
    expect(notice).to_contain_text("退票成功")
    expect(notice).to_contain_text(re.compile(r"fee ¥\d+\.\d\d, 退回 returned ¥\d+\.\d\d"))
    expect(page.locator("#tickets .badge", has_text="Refunded")).to_have_count(1)

    page.get_by_role("link", name="我的订单 My orders").click()
    listed = page.locator(f'#orders-list li[data-order="{order}"]')
    expect(listed).to_contain_text("Paid")
    expect(listed).to_contain_text("Refunded")
    expect(listed).to_contain_text(re.compile(r"实付 paid ¥\d+\.\d\d · 已退 returned ¥\d+\.\d\d"))


def test_wechat_pay_by_qr_and_errors_shown_where_they_belong(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.get_by_label("出发地 From").fill("北京")
    page.get_by_label("目的地 To").fill("上海")
    page.get_by_label("出发日期 Date").fill("2020-01-01")
    page.get_by_role("button", name="查询 Search").click()
    expect(page.locator("#search-date-error")).to_contain_text("has passed")
    expect(page.locator("#search-results tr")).to_have_count(0)

    page.get_by_role("link", name=re.compile("Log in")).click()
    register(page)
    page.get_by_role("link", name="乘车人 Passengers").click()
    add_passenger(page, "李小红", resident_id("31010119900307302"))
    expect(page.locator("#passenger-list")).to_contain_text("李小红")

    page.get_by_role("link", name="车票查询 Search").click()
    search(page, day(site, 5))
    book_first_second_class(page)
    page.locator("#book-form").get_by_role("checkbox").first.uncheck()
    page.get_by_role("button", name="提交订单 Submit order").click()  # nobody ticked
    expect(page.locator('#book-form [data-error-for="passengers"]')).to_contain_text("1 to 5")
    order = order_held(page)

    page.get_by_role("button", name="微信支付 Pay with WeChat Pay").click()
    qr = page.get_by_role("img", name="微信支付二维码 WeChat Pay QR code")
    expect(qr).to_be_visible()
    expect(qr).to_have_js_property("complete", True)  # an <img> shows its alt text before then
    assert qr.evaluate("img => img.naturalWidth") > 0
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=re.compile("WeChat Pay sandbox cashier")).click()
    cashier = opened.value
    expect(cashier.get_by_text("WeChat Pay — sandbox cashier")).to_be_visible()
    cashier.get_by_role("button", name="Pay").click()
    expect(cashier.get_by_text("Paid")).to_be_visible()
    cashier.close()

    expect(page.locator("#order-detail .badge").first).to_have_text(re.compile("Paid"))
    expect(page.locator("#tickets tr[data-ticket]")).to_contain_text(re.compile(rf"{order}\d+"))
    expect(page.get_by_role("status").first).to_contain_text("tickets issued")


def test_a_dearer_change_shows_the_difference_and_pays_it_where_the_order_was_paid(
    page: Any, site: Site, tmp_path: Any
) -> None:
    """Second class paid with Alipay, changed to first class on the same train: the page
    prices it first, offers the channels with Alipay (the order's) chosen, and the
    difference is paid at the Alipay cashier, not charged to the credit line."""
    from playwright.sync_api import expect

    search(page, day(site, 5))
    book_first_second_class(page)
    register(page)
    expect(page.locator("#book-passengers")).to_contain_text("No saved passengers yet")
    page.get_by_role("link", name="添加乘车人 Add a passenger").click()
    add_passenger(page, "李小红", resident_id(f"11010119900202{next(_serial):03d}"))
    page.go_back()
    order = order_held(page)
    page.get_by_role("button", name="支付宝 Pay with Alipay").click()
    page.wait_for_url(re.compile("/paysandbox/"))
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(f"#/order/{order}$"))
    ticket_row = page.locator("#tickets tr[data-ticket]")
    expect(ticket_row).to_have_count(1)
    train = page.locator("#tickets tr[data-ticket] td").nth(2).inner_text().split()[0]

    ticket_row.get_by_role("button", name="改签 Change").click()
    page.get_by_label("席别 Class").select_option("first")
    page.get_by_role("button", name="查找车次 Find trains").click()
    same = page.get_by_role("button", name=re.compile(f"^改签到 Change to {train} "))
    same.click()
    offer = page.locator(".change-offer")
    expect(offer).to_contain_text(re.compile(r"需补差价 To pay: ¥\d+\.\d\d"))
    alipay = offer.get_by_role("radio", name=re.compile("支付宝 Alipay"))
    expect(alipay).to_be_checked()
    expect(offer.get_by_role("radio", name=re.compile("信用额度 Credit line"))).not_to_be_checked()
    page.screenshot(path=str(tmp_path / "change-offer-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "change-offer-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    offer.get_by_role("button", name="确认改签 Confirm the change").click()
    page.wait_for_url(re.compile("/paysandbox/"))
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(f"#/order/{order}$"))
    expect(page.locator("#tickets .badge", has_text="Changed")).to_have_count(1)
    expect(page.locator("#order-notice")).to_contain_text("改签成功")
    number = order
    view = site.container.orders.store.get(number)
    assert view is not None
    moved = [t for t in view.order.tickets if t.changes == 1]
    assert [t.trip.seat_class.value for t in moved] == ["first"]
    account = view.order.account
    assert site.container.orders.store.credit_used(account) == 0


def test_a_date_typed_before_the_calendar_arrives_is_kept(browser: Any, site: Site) -> None:
    """The search view asks the server for the calendar again when it is shown; a date the
    passenger types meanwhile is theirs: it is not replaced by today when the answer comes."""
    from playwright.sync_api import expect

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    held: list[Any] = []
    seen = {"calendar": 0}

    def calendar(route: Any) -> None:
        seen["calendar"] += 1
        if seen["calendar"] == 1:
            route.continue_()  # the page's first look: before anything is shown
        else:
            held.append(route)

    context.route("**/api/v1/calendar", calendar)
    tab = context.new_page()
    try:
        tab.goto(site.url + "/")
        field = tab.get_by_label("出发日期 Date")
        expect(field).to_be_visible()
        for _ in range(200):  # a bounded wait for the view's own request
            if held:
                break
            tab.wait_for_timeout(50)
        assert held, "the search view asks for the calendar when shown"
        field.fill("2020-01-01")
        for route in held:
            route.continue_()
        expect(tab.locator("#search-date-hint")).to_contain_text("today")
        expect(field).to_have_value("2020-01-01")
        tab.get_by_label("出发地 From").fill("北京")
        tab.get_by_label("目的地 To").fill("上海")
        tab.get_by_role("button", name="查询 Search").click()
        expect(tab.locator("#search-date-error")).to_contain_text("has passed")
    finally:
        context.close()
