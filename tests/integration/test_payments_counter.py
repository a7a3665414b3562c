"""Contract tests: face-to-face barcode pay (alipay.trade.pay, scene bar_code) and injected
refund failures, python-alipay-sdk (the real SDK) against the sandbox's Alipay gateway."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest

from open12306.payments.adapters.alipay import AlipayProvider
from open12306.payments.adapters.sandbox import Sandbox, SandboxConfig, create_sandbox
from open12306.payments.adapters.sandbox.config import SHANGHAI
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
from open12306.payments.adapters.sandbox.payment_codes import PaymentCodes, well_formed
from open12306.payments.ports import (
    NotificationKind,
    PaymentError,
    RefundState,
)
from open12306.payments.ports import TradeState as PaymentState
from tests.integration.payments_support import (
    ADMIN,
    ADMIN_TOKEN,
    FAST_SCHEDULE,
    Receiver,
    cashier_actions,
    servers,
    wait_for,
)

_orders = itertools.count(1)


def order_no() -> str:
    return f"C{next(_orders):09d}"


@dataclass
class World:
    sandbox: Sandbox
    url: str
    receiver: Receiver
    provider: AlipayProvider
    http: httpx.Client

    def code(self, needs_password: bool = False) -> str:
        minted = self.http.post(
            f"{self.url}/sandbox/alipay/paycodes", json={"needs_password": needs_password}
        )
        assert minted.status_code == 201, minted.text
        code: str = minted.json()["auth_code"]
        return code


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(
            alipay_apps=[creds.alipay_app()], retry_schedule=FAST_SCHEDULE, admin_token=ADMIN_TOKEN
        )
    )
    receiver = Receiver()
    for sandbox_server, receiver_server in servers(sandbox.app, receiver.app()):
        settings = creds.alipay_settings(
            sandbox, sandbox_server.url, notify_url=f"{receiver_server.url}/notify/alipay"
        )
        provider = AlipayProvider(settings)
        receiver.providers["alipay"] = provider
        with httpx.Client(timeout=10, trust_env=False) as http:
            yield World(sandbox, sandbox_server.url, receiver, provider, http)


def test_a_minted_code_looks_like_an_alipay_payment_code(world: World) -> None:
    code = world.code()
    assert len(code) == 18 and code.isdigit() and 25 <= int(code[:2]) <= 30
    page = world.http.get(f"{world.url}/sandbox/alipay/paycode")
    assert page.status_code == 200 and 'id="auth-code"' in page.text


def test_a_good_code_pays_at_once_and_notifies(world: World) -> None:
    order = order_no()
    status = world.provider.pay_with_code(order, 55350, "G1 北京南-上海虹桥", world.code())
    assert status.state is PaymentState.PAID
    assert status.amount_fen == 55350 and status.trade_no and status.paid_at is not None
    assert world.provider.query(order).state is PaymentState.PAID
    [got] = wait_for(
        lambda: [r for r in world.receiver.for_order("alipay", order) if r.answered == 200],
        what="payment notification",
    )
    assert got.notification is not None
    assert got.notification.kind is NotificationKind.PAYMENT
    assert got.notification.trade_no == status.trade_no


@pytest.mark.parametrize("bad", ["281234567890123456", "123456789012345678", "28123"])
def test_an_unknown_or_malformed_code_is_refused_and_opens_no_trade(world: World, bad: str) -> None:
    order = order_no()
    with pytest.raises(PaymentError) as refused:
        world.provider.pay_with_code(order, 100, "G1", bad)
    assert refused.value.code == "ACQ.PAYMENT_AUTH_CODE_INVALID"
    assert world.provider.query(order).state is PaymentState.NOT_FOUND


def test_a_code_pays_once(world: World) -> None:
    code = world.code()
    world.provider.pay_with_code(order_no(), 100, "G1", code)
    with pytest.raises(PaymentError) as again:
        world.provider.pay_with_code(order_no(), 100, "G1", code)
    assert again.value.code == "ACQ.PAYMENT_AUTH_CODE_INVALID"


def test_a_code_that_needs_the_password_waits_for_the_buyer(world: World) -> None:
    order = order_no()
    status = world.provider.pay_with_code(order, 2300, "G1", world.code(needs_password=True))
    assert status.state is PaymentState.PENDING and status.trade_no
    assert world.provider.query(order).state is PaymentState.PENDING
    page = world.http.get(f"{world.url}/cashier/alipay/{status.trade_no}")
    assert world.http.post(cashier_actions(page.text)["pay"]).status_code == 200
    assert world.provider.query(order).state is PaymentState.PAID


def test_an_expired_code_is_refused() -> None:
    now = [datetime(2026, 2, 10, 9, 0, tzinfo=SHANGHAI)]
    codes = PaymentCodes(lambda: now[0], timedelta(minutes=1))
    code = codes.mint("2088000000000009")
    assert well_formed(code.auth_code)
    now[0] += timedelta(minutes=1)
    assert codes.take(code.auth_code) is None


def test_a_newer_code_replaces_the_buyers_older_one() -> None:
    codes = PaymentCodes(lambda: datetime(2026, 2, 10, tzinfo=SHANGHAI))
    old = codes.mint("2088000000000009")
    new = codes.mint("2088000000000009")
    assert codes.take(old.auth_code) is None
    assert codes.take(new.auth_code) == new


def test_injected_refund_failures_then_the_refund_goes_through_once(world: World) -> None:
    order = order_no()
    world.provider.pay_with_code(order, 1000, "G1", world.code())
    armed = world.http.post(
        f"{world.url}/sandbox/faults",
        json={"api": "alipay.trade.refund", "times": 2},
        headers=ADMIN,
    )
    assert armed.status_code == 201
    for _ in range(2):
        with pytest.raises(PaymentError) as failed:
            world.provider.refund(order, f"{order}R", 400)
        assert failed.value.code == "aop.unknow-error"
    assert world.provider.refund_status(order, f"{order}R").state is RefundState.NOT_FOUND
    done = world.provider.refund(order, f"{order}R", 400)
    assert done.state is RefundState.SUCCEEDED
    world.provider.refund(order, f"{order}R", 400)  # the same refund number moves nothing
    trade = world.sandbox.alipay.ledger.find(
        world.provider._settings.app_id, {"out_trade_no": order}
    )
    assert trade.refunded_fen == 400
