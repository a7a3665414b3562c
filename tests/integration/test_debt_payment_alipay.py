"""Transit arrears repaid through the real Alipay provider (python-alipay-sdk) against the
protocol sandbox running standalone on loopback.

A railway day above a new account's monthly credit limit fails → a debt and the deny list →
``DebtPayments.pay`` starts one trade (precreate: a cashier URL) → the rider presses Pay in the
sandbox cashier → ``pay`` again, or the sandbox's asynchronous notification handed to
``DebtPayments.notified`` by the merchant's receiver → the debt is marked paid, the account
leaves the deny list, its credit record counts a failure repaid on time. A trade cancelled at
the cashier leaves the debt and the deny-list entry. The ``transit pay-debt`` command does the
same with the provider it builds from ``OPEN12306_ALIPAY_*``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from typer.testing import CliRunner

from open12306.catalog.adapters.corridor_data import load_corridors
from open12306.cli.transit import transit_app
from open12306.payments.adapters.alipay import AlipayProvider
from open12306.payments.adapters.sandbox import Sandbox, SandboxConfig, create_sandbox
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
from open12306.payments.ports import (
    NotificationRejected,
    PaymentOptions,
    PaymentPrompt,
    PaymentStatus,
)
from open12306.payments.ports import TradeState as PaymentState
from open12306.shared.clock import FixedClock
from open12306.transit.adapters.transit_repo import SqlTransitStore
from open12306.transit.domain import Tap, TapDirection, railway_operator, service_day_bounds
from open12306.transit.services.credit_line import CreditLineCharger, TransitCredit
from open12306.transit.services.day_settlement import (
    DebtPaymentOutcome,
    DebtPayments,
    TransitSettlement,
)
from tests.integration.payments_support import (
    FAST_SCHEDULE,
    cashier_actions,
    servers,
    wait_for,
)

DAY = date(2027, 1, 15)
START = service_day_bounds(DAY)[0] + 3 * 3600
SETTLED_AT = datetime(2027, 1, 16, 2, tzinfo=UTC)
CORRIDOR = next(c for c in load_corridors() if c.id == "jinghu-hsr")
RAIL = railway_operator("rail", CORRIDOR, train_type="G")
_accounts = itertools.count(1)


@dataclass
class DebtReceiver:
    """The merchant's notify endpoint: verifies with the real SDK, then hands the trade to
    ``DebtPayments.notified`` (when a test has set ``service``) and answers ``success``."""

    provider: AlipayProvider | None = None
    service: DebtPayments | None = None
    outcomes: list[DebtPaymentOutcome] = field(default_factory=list)
    trades: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def notify(request: Request) -> Response:
            assert self.provider is not None
            try:
                note = self.provider.parse_notification(dict(request.headers), await request.body())
            except NotificationRejected:
                reply = self.provider.acknowledge(False)
                return Response(reply.body, reply.status, media_type=reply.content_type)
            outcome = (
                None if self.service is None else self.service.notified("alipay", note.order_no)
            )
            with self.lock:
                self.trades.append(note.order_no)
                if outcome is not None:
                    self.outcomes.append(outcome)
            reply = self.provider.acknowledge(True)
            return Response(reply.body, reply.status, media_type=reply.content_type)

        return Starlette(routes=[Route("/notify/alipay", notify, methods=["POST"])])

    def outcome_for(self, payment_no: str, state: str) -> DebtPaymentOutcome | None:
        with self.lock:
            found = [o for o in self.outcomes if o.payment_no == payment_no and o.state == state]
        return found[-1] if found else None


@dataclass
class Channel:
    """The standalone sandbox, the merchant's receiver and the real Alipay provider."""

    sandbox: Sandbox
    sandbox_url: str
    creds: MerchantCredentials
    receiver: DebtReceiver
    notify_url: str
    provider: AlipayProvider
    http: httpx.Client


@pytest.fixture(scope="module")
def channel() -> Iterator[Channel]:
    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(alipay_apps=[creds.alipay_app()], retry_schedule=FAST_SCHEDULE)
    )
    receiver = DebtReceiver()
    for sandbox_server, receiver_server in servers(sandbox.app, receiver.app()):
        notify_url = f"{receiver_server.url}/notify/alipay"
        provider = AlipayProvider(creds.alipay_settings(sandbox, sandbox_server.url, notify_url))
        receiver.provider = provider
        with httpx.Client(timeout=10, trust_env=False) as http:
            yield Channel(sandbox, sandbox_server.url, creds, receiver, notify_url, provider, http)


@pytest.fixture
def receiver(channel: Channel) -> Iterator[DebtReceiver]:
    """The receiver with no service: tests that want the notification path set one."""
    channel.receiver.service = None
    yield channel.receiver
    channel.receiver.service = None


def in_arrears(url: str) -> tuple[SqlTransitStore, str, int]:
    """A fresh account rides Beijing South → Shanghai Hongqiao; settling the day fails (the
    fare is above a new account's 500-yuan monthly limit): a debt and the deny list."""
    account = f"{next(_accounts):04x}" + "ab" * 14
    clock = FixedClock(SETTLED_AT)
    store = SqlTransitStore.from_url(url, clock.now)
    store.receive_taps(
        [
            Tap(f"{account}/in", account, "rail", "VNP", TapDirection.ENTRY, START),
            Tap(f"{account}/out", account, "rail", "AOH", TapDirection.EXIT, START + 5 * 3600),
        ]
    )
    charger = CreditLineCharger(store, store.deny_list, TransitCredit(store, clock), clock)
    totals = TransitSettlement(
        store, {"rail": RAIL}, charger, store.deny_list, store.arrears
    ).settle(DAY)
    fare = RAIL.fare("VNP", "AOH")
    assert fare is not None and fare > 50_000
    assert (totals.failed_fen, totals.failed_accounts, totals.charged_fen) == (fare, 1, 0)
    assert account in store.deny_list.accounts()
    assert sum(d.amount_fen for d in store.arrears.outstanding(account)) == fare
    assert TransitCredit(store, clock).assess(account).reason == "arrears"
    return store, account, fare


def debt_payments(store: SqlTransitStore, channel: Channel) -> DebtPayments:
    clock = FixedClock(SETTLED_AT)
    return DebtPayments(store, store.deny_list, store.arrears, {"alipay": channel.provider}, clock)


def press(channel: Channel, cashier_url: str, button: str) -> int:
    page = channel.http.get(cashier_url)
    assert page.status_code == 200, page.text
    actions = cashier_actions(page.text)
    assert set(actions) == {"pay", "cancel"}, page.text[:300]
    return channel.http.post(actions[button]).status_code


def assert_cleared(store: SqlTransitStore, account: str, fare: int, payment_no: str) -> None:
    """Debts marked paid, off the deny list, the payment recorded paid, the credit record
    counting one failure repaid on time, the channel holding the money."""
    assert store.arrears.outstanding(account) == []
    assert account not in store.deny_list.accounts()
    [debt] = store.debts(account)
    assert debt.paid_at is not None and debt.amount_fen == fare
    payment = store.payment(payment_no)
    assert payment is not None
    assert (payment.state, payment.amount_fen, payment.debts) == ("paid", fare, (debt.reference,))
    record = TransitCredit(store, FixedClock(SETTLED_AT)).record(account, SETTLED_AT)
    assert (record.failed_charges, record.repaid_on_time, record.arrears_fen) == (1, 1, 0)
    assert TransitCredit(store, FixedClock(SETTLED_AT)).assess(account).pay_later


def test_a_debt_paid_at_the_alipay_cashier_clears_when_asked_again(
    db_url: str, channel: Channel, receiver: DebtReceiver
) -> None:
    store, account, fare = in_arrears(db_url)
    service = debt_payments(store, channel)

    started = service.pay(account, "alipay")
    assert (started.state, started.amount_fen, started.owed_fen) == ("started", fare, fare)
    assert started.qr_content is not None and started.payment_no is not None
    assert started.qr_content.startswith(channel.sandbox_url)
    number = started.payment_no
    waiting = service.pay(account, "alipay")  # unpaid: queried, not started again
    assert (waiting.state, waiting.payment_no, waiting.owed_fen) == ("pending", number, fare)
    assert [p.payment_no for p in store.payments(account)] == [number]
    assert account in store.deny_list.accounts()

    assert press(channel, started.qr_content, "pay") == 200
    status = channel.provider.query(number)
    assert (status.state, status.amount_fen) == (PaymentState.PAID, fare)
    paid = service.pay(account, "alipay")
    assert (paid.state, paid.payment_no, paid.amount_fen, paid.owed_fen) == (
        "paid",
        number,
        fare,
        0,
    )
    assert_cleared(store, account, fare, number)

    assert service.pay(account, "alipay").state == "nothing_owed"
    assert [p.payment_no for p in store.payments(account)] == [number]
    # the sandbox's notification of the same trade arrives late: it changes nothing
    wait_for(lambda: number in receiver.trades, what="the payment notification")
    late = service.notified("alipay", number)
    assert late is not None and (late.state, late.owed_fen) == ("paid", 0)
    assert service.notified("wechatpay", number) is None
    assert service.notified("alipay", "E000000001") is None  # an order's trade, not a debt's
    assert_cleared(store, account, fare, number)


def test_the_asynchronous_notification_clears_the_debt(
    db_url: str, channel: Channel, receiver: DebtReceiver
) -> None:
    store, account, fare = in_arrears(db_url)
    service = debt_payments(store, channel)
    receiver.service = service
    started = service.pay(account, "alipay")
    assert started.qr_content is not None and started.payment_no is not None
    assert press(channel, started.qr_content, "pay") == 200

    outcome = wait_for(
        lambda: receiver.outcome_for(started.payment_no or "", "paid"),
        what="the notification applied",
    )
    assert (outcome.account_token, outcome.amount_fen, outcome.owed_fen) == (account, fare, 0)
    assert_cleared(store, account, fare, started.payment_no)
    assert service.pay(account, "alipay").state == "nothing_owed"


def test_a_trade_cancelled_at_the_cashier_leaves_the_debt_and_the_block(
    db_url: str, channel: Channel, receiver: DebtReceiver
) -> None:
    store, account, fare = in_arrears(db_url)
    service = debt_payments(store, channel)
    receiver.service = service
    started = service.pay(account, "alipay")
    assert started.qr_content is not None and started.payment_no is not None
    number = started.payment_no
    assert press(channel, started.qr_content, "cancel") == 200

    closed = wait_for(lambda: receiver.outcome_for(number, "closed"), what="closed notification")
    assert closed.owed_fen == fare
    assert channel.provider.query(number).state is PaymentState.CLOSED
    payment = store.payment(number)
    assert payment is not None and payment.state == "closed"
    assert sum(d.amount_fen for d in store.arrears.outstanding(account)) == fare
    assert all(d.paid_at is None for d in store.debts(account))
    assert account in store.deny_list.accounts()
    assert TransitCredit(store, FixedClock(SETTLED_AT)).assess(account).reason == "arrears"

    again = service.pay(account, "alipay")  # a new trade; the closed one stays closed
    assert again.state == "started" and again.payment_no not in (None, number)
    states = {p.payment_no: p.state for p in store.payments(account)}
    assert states == {number: "closed", again.payment_no: "pending"}
    assert again.qr_content is not None
    assert press(channel, again.qr_content, "pay") == 200
    wait_for(lambda: receiver.outcome_for(again.payment_no or "", "paid"), what="paid")
    assert_cleared(store, account, fare, again.payment_no or "")


# --- the command line: providers from OPEN12306_ALIPAY_* --------------------------------


def alipay_env(channel: Channel, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OPEN12306_DATABASE_URL", url)
    monkeypatch.setenv("OPEN12306_ALIPAY_APP_ID", channel.creds.alipay_app_id)
    monkeypatch.setenv("OPEN12306_ALIPAY_APP_PRIVATE_KEY", channel.creds.alipay_private_key_pem)
    monkeypatch.setenv("OPEN12306_ALIPAY_PUBLIC_KEY", channel.sandbox.alipay_public_key_pem)
    monkeypatch.setenv("OPEN12306_ALIPAY_GATEWAY_URL", f"{channel.sandbox_url}/gateway.do")
    monkeypatch.setenv("OPEN12306_ALIPAY_NOTIFY_URL", channel.notify_url)
    for name in ("OPEN12306_WECHATPAY_MCHID", "OPEN12306_ALIPAY_APP_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


def transit(*args: str) -> str:
    result = CliRunner().invoke(transit_app, list(args))
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def test_pay_debt_command_pays_through_the_configured_alipay(
    db_url: str, channel: Channel, receiver: DebtReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, account, fare = in_arrears(db_url)
    alipay_env(channel, monkeypatch, db_url)

    started = json.loads(transit("pay-debt", account, "--json"))
    assert (started["state"], started["amount_fen"]) == ("started", fare)
    assert started["qr_content"].startswith(channel.sandbox_url)
    assert "not paid yet" in transit("pay-debt", account)
    [owing] = json.loads(transit("arrears", "--json"))
    assert (owing["account"], owing["owed_fen"], owing["denied"]) == (account, fare, True)

    assert press(channel, started["qr_content"], "pay") == 200
    done = transit("pay-debt", account)
    assert f"paid {fare / 100:.2f} yuan" in done and "removed from the deny list" in done
    assert json.loads(transit("arrears", "--json")) == []
    assert account not in transit("deny-list").split()
    assert_cleared(store, account, fare, started["payment_no"])
    assert "owes nothing" in transit("pay-debt", account)


def test_pay_debt_with_alipay_half_configured_is_one_line_and_exit_2(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPEN12306_DATABASE_URL", db_url)
    monkeypatch.setenv("OPEN12306_ALIPAY_APP_ID", "2021000000000001")
    for name in ("OPEN12306_ALIPAY_APP_PRIVATE_KEY", "OPEN12306_ALIPAY_APP_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(transit_app, ["pay-debt", "ab"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "OPEN12306_ALIPAY_APP_PRIVATE_KEY" in result.stderr


# --- a channel that reports another amount paid ------------------------------------------


class OddAmountChannel:
    """A channel (the port's shape) whose trades report paid for 1 fen less than asked."""

    name = "alipay"

    def __init__(self) -> None:
        self.prepared: list[str] = []

    def prepare(
        self, order_no: str, amount_fen: int, subject: str, options: PaymentOptions
    ) -> PaymentPrompt:
        self.prepared.append(order_no)
        self.amount = amount_fen
        return PaymentPrompt("alipay", order_no, qr_content=f"https://qr.example/{order_no}")

    def query(self, order_no: str) -> PaymentStatus:
        return PaymentStatus("alipay", order_no, PaymentState.PAID, amount_fen=self.amount - 1)


def test_a_trade_paid_for_another_amount_clears_nothing_and_is_not_replaced(
    db_url: str,
) -> None:
    store, account, fare = in_arrears(db_url)
    odd = OddAmountChannel()
    clock = FixedClock(SETTLED_AT)
    channels: dict[str, Any] = {"alipay": odd}  # only prepare and query are asked for
    service = DebtPayments(store, store.deny_list, store.arrears, channels, clock)
    started = service.pay(account, "alipay")
    assert started.state == "started"
    for _ in range(2):
        odd_outcome = service.pay(account, "alipay")
        assert (odd_outcome.state, odd_outcome.owed_fen) == ("amount_mismatch", fare)
    assert odd.prepared == [started.payment_no]  # no second trade
    assert account in store.deny_list.accounts()
    assert sum(d.amount_fen for d in store.arrears.outstanding(account)) == fare
    payment = store.payment(started.payment_no or "")
    assert payment is not None and payment.state == "pending"
