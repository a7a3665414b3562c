"""Refunds drawn on the trades that took the money (sandbox, real SDKs, SQLite and
PostgreSQL): a ticket changed to a dearer class with the difference paid as its own Alipay or
WeChat Pay trade is refunded from both trades, each request within what its trade took; a
channel's permanent refusal fails for good and is not retried; a transient one is retried."""

from __future__ import annotations

from datetime import timedelta

import pytest

from open12306.accounts.ports import Account
from open12306.inventory.domain.seats import SeatClass
from open12306.payments.ports import RefundState
from open12306.sales.domain import TicketState
from open12306.sales.ports import OrderRecord, PendingRefund, PendingState
from open12306.sales.services.changes import ChangeRequest
from tests.integration.orders_support import ADULT_ID, CHILD_ID, DAY, request
from tests.integration.refund_split_support import Gateway, Shop, gateway, shop  # noqa: F401
from tests.integration.settlement_channels_support import balanced

FIRST = ChangeRequest("G1", DAY, SeatClass.FIRST)


@pytest.fixture
def store(db_url: str, gateway: Gateway) -> Shop:  # noqa: F811
    return shop(db_url, gateway)


def paid_order(store: Shop, channel: str, *, two: bool = False) -> tuple[Account, OrderRecord]:
    people = [("张三", ADULT_ID), ("张小", CHILD_ID)] if two else [("张三", ADULT_ID)]
    account, ids = store.world.account("zhang_san", *people)
    record = store.world.orders.submit(account, request(*ids))
    store.world.allocator.run_once()
    return account, store.pay(account, store.world.orders.get(account, record.number), channel)


def upgraded(store: Shop, channel: str, *, two: bool = False) -> tuple[Account, OrderRecord, str]:
    """A paid order whose first ticket was changed to first class, the difference paid as a
    separate ``channel`` trade; the change trade's number."""
    account, record = paid_order(store, channel, two=two)
    pending = store.change(account, record, record.order.tickets[0].number, FIRST, channel)
    return account, store.world.orders.get(account, record.number), pending.change.id


def confirmed_by_sandbox(store: Shop, refund: PendingRefund) -> None:
    provider = store.providers[refund.channel]
    status = provider.refund_status(refund.trade_no, refund.refund_no)
    assert status.state in (RefundState.SUCCEEDED, RefundState.PROCESSING)
    assert status.amount_fen == refund.amount_fen


@pytest.mark.parametrize("channel", ["alipay", "wechatpay"])
def test_a_changed_ticket_is_refunded_from_the_change_trade_and_the_order_trade(
    store: Shop, channel: str
) -> None:
    account, record, change_trade = upgraded(store, channel)
    order_paid = store.settlement.trades_of(record.number)
    assert {(t.trade_no, t.paid_fen) for t in order_paid} == {
        (record.number, record.order.tickets[0].fare_fen),
        (change_trade, record.order.tickets[1].fare_fen - record.order.tickets[0].fare_fen),
    }
    new_ticket = record.order.tickets[1]
    quote = store.settlement.refund(account, record.number, new_ticket.number)
    # the refund is more than the order's own trade took: one trade could not carry it
    assert quote.refund_fen > record.order.tickets[0].fare_fen

    refunds = store.settlement.refunds_of(record.number)
    by_trade = {r.trade_no: r for r in refunds}
    assert set(by_trade) == {record.number, change_trade}
    change_paid = new_ticket.fare_fen - record.order.tickets[0].fare_fen
    assert by_trade[change_trade].amount_fen == change_paid  # newest trade drawn first, whole
    assert sum(r.amount_fen for r in refunds) == quote.refund_fen
    assert by_trade[record.number].refund_no == f"{new_ticket.number}R"
    assert by_trade[change_trade].refund_no == f"{new_ticket.number}R-{change_trade}"
    for refund in refunds:
        assert refund.state is PendingState.DONE and refund.channel == channel
        confirmed_by_sandbox(store, refund)
    assert balanced(store.world, record.number)
    # nothing left to retry
    store.world.clock.advance(timedelta(hours=2))
    assert store.settlement.refund_retry is not None
    assert store.settlement.refund_retry.run_due().failing == 0


def test_a_whole_order_refund_draws_on_every_trade_once(store: Shop) -> None:
    account, record, change_trade = upgraded(store, "alipay", two=True)
    done = store.settlement.refund_order(account, record.number)
    assert done.refund_no == f"{record.number}RA"
    assert set(done.refund_nos) == {f"{record.number}RA", f"{record.number}RA-{change_trade}"}
    refunds = store.settlement.refunds_of(record.number)
    assert sum(r.amount_fen for r in refunds) == done.refund_fen
    left = {t.trade_no: t.left_fen for t in store.settlement.trades_of(record.number)}
    assert left[change_trade] == 0  # the change trade went back whole, the rest from the order
    for refund in refunds:
        assert refund.state is PendingState.DONE
        confirmed_by_sandbox(store, refund)
    order = store.world.orders.get(account, record.number).order
    assert [t.state for t in order.tickets] == [
        TicketState.CHANGED,
        TicketState.REFUNDED,
        TicketState.REFUNDED,
    ]
    assert balanced(store.world, record.number)


def test_the_other_ticket_of_the_order_comes_from_the_order_trade(store: Shop) -> None:
    account, record, change_trade = upgraded(store, "wechatpay", two=True)
    child = record.order.tickets[1]
    store.settlement.refund(account, record.number, child.number)
    refunds = store.settlement.refunds_of(record.number)
    assert [(r.trade_no, r.refund_no) for r in refunds] == [(record.number, f"{child.number}R")]
    changed = store.world.orders.get(account, record.number).order.tickets[-1]
    store.settlement.refund(account, record.number, changed.number)
    refunds = store.settlement.refunds_of(record.number)
    assert {r.trade_no for r in refunds} == {record.number, change_trade}
    assert all(r.state is PendingState.DONE for r in refunds)
    assert balanced(store.world, record.number)


@pytest.mark.parametrize("channel", ["alipay", "wechatpay"])
def test_a_permanent_refusal_fails_for_good_and_is_not_retried(store: Shop, channel: str) -> None:
    _, record = paid_order(store, channel)
    total = record.order.total_fen
    # more than the trade took: what the old one-trade refund asked of a changed order
    ok = store.settlement.refund_through(channel, record.number, "X1", total + 100, total)
    assert ok is False
    retry = store.settlement.refund_retry
    assert retry is not None
    [failed] = retry.failed()
    assert failed.refund_no == "X1" and failed.state is PendingState.FAILED
    assert failed.attempts == 1 and failed.last_error.startswith("refused: ")
    for _ in range(3):
        store.world.clock.advance(timedelta(hours=2))
        assert retry.run_due().confirmed == 0
    stored = store.books.pending_refund("X1")
    assert stored is not None and stored.attempts == 1 and stored.state is PendingState.FAILED
    assert store.providers[channel].refund_status(record.number, "X1").state is (
        RefundState.NOT_FOUND
    )
    # an operator puts it back: refused again, failed again, still listed
    assert retry.requeue("X1").state is PendingState.PENDING
    assert retry.run_due().failed == 1
    assert [r.refund_no for r in retry.failed()] == ["X1"]


@pytest.mark.parametrize(
    ("channel", "api"), [("alipay", "alipay.trade.refund"), ("wechatpay", "wechatpay.refund")]
)
def test_a_transient_failure_is_retried_with_backoff_then_confirmed(
    store: Shop, channel: str, api: str
) -> None:
    account, record, change_trade = upgraded(store, channel)
    store.gateway.sandbox.faults.fail_next(api, 3)  # both draws fail once, then one again
    new_ticket = record.order.tickets[1]
    quote = store.settlement.refund(account, record.number, new_ticket.number)
    retry = store.settlement.refund_retry
    assert retry is not None
    refunds = store.settlement.refunds_of(record.number)
    assert len(refunds) == 2 and all(r.state is PendingState.PENDING for r in refunds)
    assert all(r.next_at > store.world.clock.now() for r in refunds)  # backing off
    assert retry.run_due().confirmed == 0  # not due yet
    store.world.clock.advance(timedelta(seconds=30))
    first = retry.run_due()
    assert (first.confirmed, first.failing, first.failed) == (1, 1, 0)
    store.world.clock.advance(timedelta(seconds=30))
    assert retry.run_due().confirmed == 0  # the second waits 60 s now
    store.world.clock.advance(timedelta(seconds=30))
    assert retry.run_due().confirmed == 1
    refunds = store.settlement.refunds_of(record.number)
    assert {r.trade_no for r in refunds} == {record.number, change_trade}
    assert sum(r.amount_fen for r in refunds) == quote.refund_fen
    for refund in refunds:
        assert refund.state is PendingState.DONE
        confirmed_by_sandbox(store, refund)
    assert balanced(store.world, record.number)


def test_a_difference_paid_on_the_credit_line_is_returned_there(store: Shop) -> None:
    account, record = paid_order(store, "alipay")
    old = record.order.tickets[0]
    store.changes.change(account, record.number, old.number, FIRST, "credit")  # chosen
    new_ticket = store.world.orders.get(account, record.number).order.tickets[-1]
    used = store.world.orders_store.credit_used(account.id)
    assert used == new_ticket.fare_fen - old.fare_fen
    quote = store.settlement.refund(account, record.number, new_ticket.number)
    assert store.world.orders_store.credit_used(account.id) == 0  # the credit line is whole again
    by_channel = {r.channel: r for r in store.settlement.refunds_of(record.number)}
    assert set(by_channel) == {"credit", "alipay"}
    credit, alipay = by_channel["credit"], by_channel["alipay"]
    assert (credit.trade_no, credit.amount_fen) == (old.number, new_ticket.fare_fen - old.fare_fen)
    assert credit.state is alipay.state is PendingState.DONE
    assert credit.amount_fen + alipay.amount_fen == quote.refund_fen
    assert alipay.amount_fen <= old.fare_fen
    confirmed_by_sandbox(store, alipay)
    assert balanced(store.world, record.number)
