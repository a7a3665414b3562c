"""The real server on loopback, paid through the sandbox it mounts (embedded mode), also at
a counter with a payment code, cancelled and refunded whole.

uvicorn serves ``create_app(build(settings))`` on a free port; everything below goes over HTTP:
account, passenger, order, the channel's cashier page and its Pay button, the sandbox's
asynchronous notification back to ``/api/v1/payments/notify/{channel}`` (verified by the real
SDK), tickets, and a refund the sandbox records.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from open12306.bootstrap import Container, build
from open12306.config import Settings
from open12306.http.app import create_app
from open12306.payments.adapters.sandbox.config import sandbox_admin_token
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
from open12306.payments.ports import RefundState
from open12306.payments.ports import TradeState as ChannelState
from tests.integration.payments_support import LiveServer, cashier_actions, wait_for
from tests.unit.accounts_support import resident_id

PASSWORD = "rail-pass-2026"
_serial = itertools.count(101)


@dataclass
class Live:
    """The running server, its container (for the providers) and an HTTP client."""

    container: Container
    http: httpx.Client
    url: str


class _Late:
    """An ASGI app set after the port is known (the app needs its own public URL)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def live(demo_settings: Settings) -> Iterator[Live]:
    yield from serve_live(demo_settings)


def serve_live(settings: Settings) -> Iterator[Live]:
    """The app built from ``settings`` under uvicorn on a free loopback port, and a client."""
    late = _Late()
    server = LiveServer(late)
    settings = replace(settings, host="127.0.0.1", port=server.port)
    container = build(settings)
    late.app = create_app(container)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            yield Live(container, http, server.url)
    finally:
        server.stop()


def signed_up(live: Live) -> tuple[dict[str, str], str]:
    """A fresh account with one saved adult passenger: auth header and passenger id."""
    serial = next(_serial)
    credentials = {"username": f"rider_{serial}", "password": PASSWORD}
    assert live.http.post("/api/v1/accounts", json=credentials).status_code == 201
    token = live.http.post("/api/v1/sessions", json=credentials).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    number = resident_id(f"11010119880101{serial:03d}")
    saved = live.http.post(
        "/api/v1/passengers",
        json={"name": "王小明", "id_type": "resident_id", "id_number": number},
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    return headers, saved.json()["id"]


def held_order(live: Live, headers: dict[str, str], passenger: str, offset: int) -> dict[str, Any]:
    """Find a Beijing-Shanghai train with second class seats and order one seat: held."""
    day = (live.container.window.today() + timedelta(days=offset)).isoformat()
    found = live.http.get("/api/v1/search", params={"from": "北京", "to": "上海", "date": day})
    assert found.status_code == 200, found.text
    row = next(
        r
        for r in found.json()["trains"]
        if any(c["class"] == "second" and c["remaining"] > 0 for c in r["classes"])
    )
    body = {
        "train": row["train"],
        "date": day,
        "from": row["from"]["code"],
        "to": row["to"]["code"],
        "seat_class": "second",
        "passengers": [passenger],
    }
    queued = live.http.post("/api/v1/orders", json=body, headers=headers)
    assert queued.status_code == 202, queued.text
    order = wait_state(live, headers, queued.json()["number"], "held")
    assert order["amount_fen"] > 0 and order["pay_deadline"]
    return order


def wait_state(live: Live, headers: dict[str, str], number: str, state: str) -> dict[str, Any]:
    """Read the order; while it is not in ``state``, long-poll for its next change."""
    url = f"/api/v1/orders/{number}"
    seen: dict[str, Any] = live.http.get(url, headers=headers).json()

    def reached() -> dict[str, Any] | None:
        nonlocal seen
        if seen["state"] != state:
            seen = live.http.get(f"{url}?wait=5", headers=headers).json()
        return seen if seen["state"] == state else None

    found: dict[str, Any] = wait_for(reached, what=f"order {number} {state}", timeout=30.0)
    return found


def pay_at_cashier(live: Live, cashier_url: str) -> None:
    """Open the sandbox cashier page (following the gateway's redirects) and press Pay."""
    page = live.http.get(cashier_url, follow_redirects=True)
    assert page.status_code == 200, page.text
    actions = cashier_actions(page.text)
    assert set(actions) == {"pay", "cancel"}, page.text[:400]
    paid = live.http.post(urljoin(str(page.url), actions["pay"]))
    assert paid.status_code in (200, 303), paid.text


def start_payment(live: Live, headers: dict[str, str], number: str, **body: Any) -> dict[str, Any]:
    started = live.http.post(f"/api/v1/orders/{number}/payments", json=body, headers=headers)
    assert started.status_code == 201, started.text
    prompt: dict[str, Any] = started.json()
    assert prompt["state"] == "pending"
    return prompt


def deliveries(live: Live, trade: str) -> list[dict[str, Any]]:
    """The sandbox's notifications about ``trade`` (our order number), with their attempts."""
    token = sandbox_admin_token(live.container.settings)
    answer = live.http.get(
        "/paysandbox/sandbox/notifications",
        params={"trade": trade},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_alipay_page_pay_through_the_cashier_issues_tickets_and_refunds(live: Live) -> None:
    headers, passenger = signed_up(live)
    order = held_order(live, headers, passenger, offset=3)
    number = order["number"]
    prompt = start_payment(live, headers, number, channel="alipay", mode="page")
    assert prompt["redirect_url"].startswith(f"{live.url}/paysandbox/gateway.do?")
    assert prompt["qr_content"] is None
    pay_at_cashier(live, prompt["redirect_url"])

    paid = wait_state(live, headers, number, "paid")
    (ticket,) = paid["tickets"]
    assert ticket["state"] == "issued" and ticket["coach"] >= 1 and ticket["seat"]
    assert ticket["fare_fen"] == order["amount_fen"]
    alipay = live.container.settlement.providers["alipay"]  # type: ignore[union-attr]
    status = alipay.query(number)
    assert status.state is ChannelState.PAID and status.amount_fen == order["amount_fen"]

    refund_url = f"/api/v1/orders/{number}/tickets/{ticket['number']}/refund"
    refunded = live.http.post(refund_url, headers=headers)
    assert refunded.status_code == 200, refunded.text
    quote = refunded.json()
    assert quote["fee_fen"] + quote["refund_fen"] == quote["fare_fen"] == order["amount_fen"]
    assert quote["refund_fen"] > 0
    recorded = alipay.refund_status(number, f"{ticket['number']}R")
    assert recorded.state is RefundState.SUCCEEDED
    assert recorded.amount_fen == quote["refund_fen"]
    after = live.http.get(f"/api/v1/orders/{number}", headers=headers).json()
    assert after["tickets"][0]["state"] == "refunded"


def test_wechat_native_qr_through_the_cashier_issues_tickets(live: Live) -> None:
    headers, passenger = signed_up(live)
    order = held_order(live, headers, passenger, offset=4)
    number = order["number"]
    prompt = start_payment(live, headers, number, channel="wechatpay", mode="qr")
    assert prompt["redirect_url"] is None
    assert prompt["qr_content"].startswith(f"{live.url}/paysandbox/cashier/wechatpay/")
    pay_at_cashier(live, prompt["qr_content"])

    paid = wait_state(live, headers, number, "paid")
    assert [t["state"] for t in paid["tickets"]] == ["issued"]
    wechat = live.container.settlement.providers["wechatpay"]  # type: ignore[union-attr]
    assert wechat.query(number).state is ChannelState.PAID
    (note,) = deliveries(live, number)
    assert note["channel"] == "wechatpay" and note["delivered"]
    assert note["attempts"][-1]["status"] == 204


def test_huabei_three_instalments_are_accepted(live: Live) -> None:
    headers, passenger = signed_up(live)
    order = held_order(live, headers, passenger, offset=5)
    number = order["number"]
    prompt = start_payment(live, headers, number, channel="alipay", mode="page", instalments=3)
    page = live.http.get(prompt["redirect_url"], follow_redirects=True)
    assert page.status_code == 200 and "Huabei instalments" in page.text
    assert "3 × ¥" in page.text
    pay_at_cashier(live, prompt["redirect_url"])
    wait_state(live, headers, number, "paid")
    alipay = live.container.settlement.providers["alipay"]  # type: ignore[union-attr]
    assert alipay.query(number).instalments == 3


def test_a_forged_notification_pays_nothing(live: Live) -> None:
    headers, passenger = signed_up(live)
    order = held_order(live, headers, passenger, offset=6)
    forged = live.http.post(
        "/api/v1/payments/notify/alipay",
        content=(
            f"out_trade_no={order['number']}&trade_status=TRADE_SUCCESS"
            f"&total_amount={order['amount']}&sign_type=RSA2&sign=AAAA"
        ).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert forged.text != "success"
    after = live.http.get(f"/api/v1/orders/{order['number']}", headers=headers).json()
    assert after["state"] == "held"


# --- the counter channel, cancels and whole-order refunds ---------------------------------


def payment_code(live: Live) -> str:
    minted = live.http.post("/paysandbox/sandbox/alipay/paycodes", json={})
    assert minted.status_code == 201, minted.text
    code: str = minted.json()["auth_code"]
    return code


def pay_at_counter(live: Live, headers: dict[str, str], number: str, code: str) -> Any:
    return live.http.post(
        f"/api/v1/orders/{number}/payments",
        json={"channel": "counter", "auth_code": code},
        headers=headers,
    )


def test_a_scanned_payment_code_pays_then_the_order_is_refunded_whole(live: Live) -> None:
    headers, passenger = signed_up(live)
    order = held_order(live, headers, passenger, offset=7)
    number = order["number"]
    bad = pay_at_counter(live, headers, number, "281234567890123456")
    assert bad.status_code == 402
    assert bad.json()["error"]["reason"] == "payment_code_invalid"
    paid = pay_at_counter(live, headers, number, payment_code(live))
    assert paid.status_code == 201, paid.text
    assert paid.json()["state"] == "paid"
    assert wait_state(live, headers, number, "paid")["tickets"][0]["state"] == "issued"
    refunded = live.http.post(f"/api/v1/orders/{number}/refund", headers=headers)
    assert refunded.status_code == 200, refunded.text
    body = refunded.json()
    assert body["refund_fen"] + body["fee_fen"] == order["amount_fen"]
    assert len(body["tickets"]) == 1
    after = live.http.get(f"/api/v1/orders/{number}", headers=headers).json()
    assert [t["state"] for t in after["tickets"]] == ["refunded"]


def test_cancel_a_held_order_over_http(live: Live) -> None:
    headers, passenger = signed_up(live)
    order = held_order(live, headers, passenger, offset=8)
    cancelled = live.http.post(f"/api/v1/orders/{order['number']}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    again = live.http.post(f"/api/v1/orders/{order['number']}/cancel", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["reason"] == "not_cancellable"


def test_the_mounted_sandbox_setup_api_needs_the_admin_token(live: Live) -> None:
    """The served product's sandbox: nobody without the token registers over the merchant's
    app_id, arms faults or reads notifications; with it, the merchant's key still stays."""
    settlement = live.container.settlement
    assert settlement is not None
    merchant = settlement.providers["alipay"]._settings.app_id  # type: ignore[attr-defined]
    attacker = MerchantCredentials.generate(app_id=merchant)
    hijack = {"app_id": merchant, "app_public_key": attacker.alipay_public_key_pem}
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/paysandbox/sandbox/alipay/apps", hijack),
        ("POST", "/paysandbox/sandbox/faults", {"api": "alipay.trade.refund", "times": 9}),
        ("GET", "/paysandbox/sandbox/notifications", None),
        ("GET", "/paysandbox/sandbox/keys", None),
    ]
    for method, path, body in calls:
        answer = live.http.request(method, path, json=body)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["error"]["reason"] == "unauthenticated"
    settings = live.container.settings
    if not settings.sandbox_admin_token:  # generated on first use, readable by the owner only
        assert settings.sandbox_admin_token_path().stat().st_mode & 0o777 == 0o600
    admin = {"Authorization": f"Bearer {sandbox_admin_token(settings)}"}
    taken = live.http.post("/paysandbox/sandbox/alipay/apps", json=hijack, headers=admin)
    assert taken.status_code == 409, taken.text
    minted = live.http.post("/paysandbox/sandbox/alipay/paycodes", json={})
    assert minted.status_code == 201  # the buyer's payment code stays open for the demo
