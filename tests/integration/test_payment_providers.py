"""The credit line and the counter as payment providers behind the one port, on SQLite and
PostgreSQL, against the live Alipay sandbox with the real SDK: what each provider's
``prepare`` does, and the mapping the order services pick them from by channel name."""

from __future__ import annotations

import itertools

import pytest

from open12306.payments.ports import (
    NotificationRejected,
    PaymentDeclined,
    PaymentFlow,
    PaymentOptions,
    RefundState,
    TradeState,
)
from open12306.payments.services.channels import PaymentChannels
from open12306.payments.services.counter import CounterProvider
from open12306.payments.services.credit import CreditLineProvider
from open12306.sales.domain import OrderState
from open12306.sales.ports import PaymentRecordState
from open12306.shared.errors import DomainError
from tests.integration.orders_support import ADULT_ID, request
from tests.integration.settlement_channels_support import (
    Channel,
    Paid,
    channel,  # noqa: F401  (module fixture)
    held,
    paid_world,
)

_trades = itertools.count(1)


@pytest.fixture
def paid(db_url: str, channel: Channel) -> Paid:  # noqa: F811
    return paid_world(db_url, channel)


def trade_no() -> str:
    return f"PP{next(_trades):08d}"


def test_the_channels_are_the_credit_line_the_counter_then_the_channels_by_name(
    paid: Paid,
) -> None:
    channels = paid.settlement.payment_channels
    assert list(channels) == ["credit", "counter", "alipay"] == paid.settlement.channels()
    assert [channels[n].flow for n in channels] == [
        PaymentFlow.AT_ONCE,
        PaymentFlow.PAYMENT_CODE,
        PaymentFlow.CHANNEL,
    ]
    assert isinstance(channels["counter"], CounterProvider)
    assert channels["counter"].channel is paid.settlement.providers["alipay"]
    assert channels.opened_through("alipay") == ("counter",)
    assert channels.opened_through("wechatpay") == ()


def test_the_mapping_sees_channels_added_and_removed_later(paid: Paid) -> None:
    providers = paid.settlement.providers
    alipay = providers.pop("alipay")
    try:
        channels = paid.settlement.payment_channels
        assert list(channels) == ["credit"] and channels.get("counter") is None
        with pytest.raises(KeyError):
            channels["alipay"]
        # the credit line needs no channel; the others are unknown
        assert paid.settlement.provider_for("credit") is None  # it moves no money
    finally:
        providers["alipay"] = alipay
    replaced = paid.channel.fresh_merchant()
    providers["alipay"] = replaced
    counter = paid.settlement.payment_channels["counter"]
    assert isinstance(counter, CounterProvider) and counter.channel is replaced


def test_the_credit_line_pays_at_once_within_the_limit_it_reads_each_time(paid: Paid) -> None:
    account, record = held(paid.world)
    limit = {"fen": record.order.total_fen}
    line = CreditLineProvider(paid.world.orders_store.credit_used, lambda: limit["fen"])
    asked = PaymentOptions(payer=account.id)
    prompt = line.prepare(record.number, record.order.total_fen, "G1", asked)
    assert prompt.status is not None
    assert (prompt.status.state, prompt.status.amount_fen, prompt.status.trade_no) == (
        TradeState.PAID,
        record.order.total_fen,
        f"credit:{record.number}",
    )
    assert (prompt.redirect_url, prompt.qr_content) == (None, None)
    # what stands on the line is what the order services booked: pay the order on credit
    assert paid.settlement.start(account, record.number, "credit").state == "paid"
    assert paid.world.orders_store.credit_used(account.id) == record.order.total_fen
    with pytest.raises(PaymentDeclined) as declined:
        line.prepare("other", 1, "G1", asked)
    assert (declined.value.channel, declined.value.code) == ("credit", "credit_limit")
    limit["fen"] += 1
    assert line.prepare("other", 1, "G1", asked).status is not None


def test_the_credit_line_has_no_trade_anywhere(paid: Paid) -> None:
    line = paid.settlement.payment_channels["credit"]
    assert line.query("X1").state is TradeState.NOT_FOUND
    assert line.refund("X1", "X1R", 100).state is RefundState.SUCCEEDED
    assert line.refund_status("X1", "X1R").state is RefundState.NOT_FOUND
    line.close("X1")
    with pytest.raises(NotificationRejected):
        line.parse_notification({}, b"trade_status=TRADE_SUCCESS")
    with pytest.raises(ValueError, match=r"options\.payer"):
        line.prepare("X1", 100, "G1", PaymentOptions())


def test_the_credit_line_of_the_settlement_reads_its_limit(paid: Paid) -> None:
    account, record = held(paid.world)
    paid.settlement.credit_limit_fen = record.order.total_fen - 1
    line = paid.settlement.payment_channels["credit"]
    with pytest.raises(PaymentDeclined):
        line.prepare(record.number, record.order.total_fen, "G1", PaymentOptions(payer=account.id))
    paid.settlement.credit_limit_fen = record.order.total_fen
    assert paid.settlement.start(account, record.number, "credit").state == "paid"


def test_the_counter_charges_a_code_and_leaves_the_trade_to_alipay(paid: Paid) -> None:
    counter = paid.settlement.payment_channels["counter"]
    number = trade_no()
    prompt = counter.prepare(number, 5_000, "G1", PaymentOptions(auth_code=paid.channel.code()))
    assert prompt.channel == "counter" and prompt.status is not None
    assert (prompt.status.state, prompt.status.amount_fen) == (TradeState.PAID, 5_000)
    assert prompt.status.trade_no
    # the trade is Alipay's own: queried, refunded and looked up there
    assert paid.channel.provider.query(number).state is TradeState.PAID
    assert counter.query(number).trade_no == prompt.status.trade_no
    assert counter.refund(number, f"{number}R", 1_000, 5_000).state is RefundState.SUCCEEDED
    at_alipay = paid.channel.provider.refund_status(number, f"{number}R")
    assert (at_alipay.state, at_alipay.amount_fen) == (RefundState.SUCCEEDED, 1_000)


def test_a_code_needing_the_password_is_pending_until_the_buyer_confirms(paid: Paid) -> None:
    counter = paid.settlement.payment_channels["counter"]
    number = trade_no()
    code = paid.channel.code(needs_password=True)
    prompt = counter.prepare(number, 5_000, "G1", PaymentOptions(auth_code=code))
    assert prompt.status is not None and prompt.status.state is TradeState.PENDING
    paid.channel.pay_at_cashier(f"{paid.channel.url}/cashier/alipay/{prompt.status.trade_no}")
    assert counter.query(number).state is TradeState.PAID


def test_the_counter_needs_a_code(paid: Paid) -> None:
    counter = paid.settlement.payment_channels["counter"]
    with pytest.raises(ValueError, match=r"options\.auth_code"):
        counter.prepare(trade_no(), 5_000, "G1", PaymentOptions())


def test_a_channel_that_takes_no_codes_offers_no_counter(paid: Paid) -> None:
    line = paid.settlement.payment_channels["credit"]
    channels = PaymentChannels({"alipay": line}, line)
    assert channels.counter() is None and "counter" not in list(channels)
    account, record = held(paid.world, "wang_wu")
    paid.settlement.providers.pop("alipay")
    with pytest.raises(DomainError) as refused:
        paid.settlement.start(
            account, record.number, "counter", PaymentOptions(auth_code=paid.channel.code())
        )
    assert refused.value.reason == "unknown_channel"
    order = paid.world.orders_store.get(record.number)
    assert order is not None and order.order.state is OrderState.HELD
    assert paid.world.orders_store.payment(f"counter:{record.number}") is None


def test_a_counter_payment_is_recorded_as_the_counter_s(paid: Paid) -> None:
    account, ids = paid.world.account("zhao_liu", ("赵六", ADULT_ID))
    record = paid.world.orders.submit(account, request(*ids))
    paid.world.allocator.run_once()
    prompt = paid.settlement.start(
        account, record.number, "counter", PaymentOptions(auth_code=paid.channel.code())
    )
    assert (prompt.channel, prompt.payment_id, prompt.state) == (
        "counter",
        f"counter:{record.number}",
        "paid",
    )
    payment = paid.world.orders_store.payment(f"counter:{record.number}")
    assert payment is not None
    assert (payment.channel, payment.state) == ("counter", PaymentRecordState.SUCCEEDED)
