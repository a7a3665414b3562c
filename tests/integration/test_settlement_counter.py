"""Paying at a counter (payment code), cancelling held orders, refunding whole orders and
retrying channel refunds, on SQLite and PostgreSQL, against the live Alipay sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from open12306.inventory.domain.seats import SeatClass
from open12306.payments.ports import PaymentOptions, RefundState
from open12306.sales.adapters import orders_repo
from open12306.sales.adapters.tables import ledger_entries
from open12306.sales.domain import OrderState, TicketState
from open12306.sales.domain.ledger import EntryKind
from open12306.sales.ports import PaymentRecordState as PaymentState
from open12306.sales.ports import PendingState
from open12306.shared.errors import DomainError
from tests.integration.orders_support import ADULT_ID, DAY, request
from tests.integration.settlement_channels_support import (
    Channel,
    Paid,
    balanced,
    channel,  # noqa: F401  (module fixture)
    held,
    paid_world,
)

G1 = ("G1", DAY)


@pytest.fixture
def paid(db_url: str, channel: Channel) -> Paid:  # noqa: F811
    return paid_world(db_url, channel)


def free(paid: Paid) -> int:
    return paid.world.read_model.remaining(G1, SeatClass.SECOND, 0, 2)


def counter(auth_code: str) -> PaymentOptions:
    return PaymentOptions(auth_code=auth_code)


# --- the counter channel -----------------------------------------------------------------


def test_a_good_code_pays_the_order_at_once(paid: Paid) -> None:
    account, record = held(paid.world)
    prompt = paid.settlement.start(account, record.number, "counter", counter(paid.channel.code()))
    assert (prompt.channel, prompt.state) == ("counter", "paid")
    order = paid.world.orders.get(account, record.number).order
    assert order.state is OrderState.PAID and len(order.tickets) == 1
    payment = paid.world.orders_store.payment(f"counter:{record.number}")
    assert payment is not None and payment.state is PaymentState.SUCCEEDED
    assert payment.provider_trade_no
    # the channel's asynchronous word on the same trade changes nothing
    again = paid.settlement.confirm(
        "alipay", record.number, record.order.total_fen, payment.provider_trade_no
    )
    assert again.result == "duplicate"
    assert [e.kind for e in paid.world.orders_store.entries(record.number)] == [EntryKind.PAYMENT]
    assert balanced(paid.world, record.number)


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        ("281234567890123456", "payment_code_invalid", 402),
        ("12ab", "payment_code_malformed", 400),
    ],
)
def test_a_bad_code_says_why_and_leaves_the_order_held(
    paid: Paid, code: str, reason: str, status: int
) -> None:
    account, record = held(paid.world)
    with pytest.raises(DomainError) as refused:
        paid.settlement.start(account, record.number, "counter", counter(code))
    assert (refused.value.reason, refused.value.status) == (reason, status)
    assert paid.world.orders.get(account, record.number).order.state is OrderState.HELD
    assert paid.world.orders_store.entries(record.number) == []


def test_a_code_needing_the_password_pays_once_the_buyer_confirms(paid: Paid) -> None:
    account, record = held(paid.world)
    code = paid.channel.code(needs_password=True)
    prompt = paid.settlement.start(account, record.number, "counter", counter(code))
    assert prompt.state == "pending"
    assert paid.settlement.check(account, record.number, "counter").result == "ignored"
    pending = paid.world.orders_store.payment(f"counter:{record.number}")
    assert pending is not None and pending.provider_trade_no
    paid.channel.pay_at_cashier(f"{paid.channel.url}/cashier/alipay/{pending.provider_trade_no}")
    assert paid.settlement.check(account, record.number, "counter").result == "paid"
    assert paid.world.orders.get(account, record.number).order.state is OrderState.PAID
    done = paid.world.orders_store.payment(f"counter:{record.number}")
    assert done is not None and done.state is PaymentState.SUCCEEDED


def test_an_unavailable_channel_is_503_and_charges_nothing(paid: Paid) -> None:
    account, record = held(paid.world)
    paid.channel.fail_next("alipay.trade.pay", 1)
    with pytest.raises(DomainError) as failed:
        paid.settlement.start(account, record.number, "counter", counter(paid.channel.code()))
    assert (failed.value.reason, failed.value.status) == ("channel_unavailable", 503)
    assert paid.world.orders.get(account, record.number).order.state is OrderState.HELD


# --- cancelling ----------------------------------------------------------------------------


def test_cancel_gives_the_seats_back_at_once(paid: Paid) -> None:
    before = free(paid)
    account, record = held(paid.world, two=True)
    assert free(paid) == before - 2
    cancelled = paid.settlement.cancel(account, record.number)
    assert cancelled.order.state is OrderState.CANCELLED
    assert free(paid) == before
    with pytest.raises(DomainError) as twice:
        paid.settlement.cancel(account, record.number)
    assert twice.value.reason == "not_cancellable"


def test_three_cancels_in_a_day_close_ordering_until_tomorrow(paid: Paid) -> None:
    account, ids = paid.world.account("li_si_2026", ("李四", ADULT_ID))
    for _ in range(3):
        record = paid.world.orders.submit(account, request(*ids))
        paid.world.allocator.run_once()
        paid.settlement.cancel(account, record.number)
    assert paid.settlement.cancels_today(account) == 3
    with pytest.raises(DomainError) as refused:
        paid.world.orders.submit(account, request(*ids))
    assert (refused.value.reason, refused.value.status) == ("too_many_cancels", 429)
    paid.world.clock.advance(timedelta(days=1))
    assert paid.settlement.cancels_today(account) == 0
    later = paid.world.orders.submit(account, request(*ids))
    assert later.order.state is OrderState.QUEUED


def test_a_paid_order_cannot_be_cancelled(paid: Paid) -> None:
    account, record = held(paid.world)
    paid.settlement.start(account, record.number, "credit")
    with pytest.raises(DomainError) as refused:
        paid.settlement.cancel(account, record.number)
    assert refused.value.reason == "not_cancellable"


# --- whole-order refunds and the retry queue ---------------------------------------------------


def test_a_whole_order_refund_is_one_channel_refund_with_fees_per_ticket(paid: Paid) -> None:
    before = free(paid)
    account, record = held(paid.world, two=True)
    paid.settlement.start(account, record.number, "counter", counter(paid.channel.code()))
    done = paid.settlement.refund_order(account, record.number)
    assert len(done.quotes) == 2 and done.refund_no == f"{record.number}RA"
    assert all(q.fee_fen + q.refund_fen == q.amount_fen for _, q in done.quotes)
    assert done.refund_fen + done.fee_fen == record.order.total_fen
    assert free(paid) == before
    order = paid.world.orders.get(account, record.number).order
    assert {t.state for t in order.tickets} == {TicketState.REFUNDED}
    at_channel = paid.channel.provider.refund_status(record.number, done.refund_no)
    assert (at_channel.state, at_channel.amount_fen) == (RefundState.SUCCEEDED, done.refund_fen)
    fees = [e for e in paid.world.orders_store.entries(record.number) if e.kind is EntryKind.FEE]
    assert len(fees) == 2
    assert balanced(paid.world, record.number)
    with pytest.raises(DomainError) as again:
        paid.settlement.refund_order(account, record.number)
    assert again.value.reason == "nothing_to_refund"


def test_a_refund_that_fails_halfway_writes_nothing(
    paid: Paid, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, record = held(paid.world, two=True)
    paid.settlement.start(account, record.number, "credit")
    seats = free(paid)

    def broken(conn: object, entries: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(orders_repo, "add_entries", broken)
    with pytest.raises(RuntimeError):
        paid.settlement.refund_order(account, record.number)
    monkeypatch.undo()
    order = paid.world.orders.get(account, record.number).order
    assert {t.state for t in order.tickets} == {TicketState.ISSUED}
    assert free(paid) == seats
    with paid.world.store.engine.connect() as conn:
        kinds = [row.kind for row in conn.execute(select(ledger_entries.c.kind))]
    assert kinds == [EntryKind.PAYMENT.value]


def test_a_failing_channel_refund_is_retried_until_the_channel_confirms(paid: Paid) -> None:
    account, record = held(paid.world)
    paid.settlement.start(account, record.number, "counter", counter(paid.channel.code()))
    ticket = paid.world.orders.get(account, record.number).order.tickets[0]
    paid.channel.fail_next("alipay.trade.refund", 2)
    quote = paid.settlement.refund(account, record.number, ticket.number)
    refund_no = f"{ticket.number}R"
    # committed here, not at the channel yet
    assert paid.world.orders.get(account, record.number).order.tickets[0].state is (
        TicketState.REFUNDED
    )
    owed = paid.books.pending_refund(refund_no)
    assert owed is not None and owed.state is PendingState.PENDING and owed.attempts == 1
    assert "aop.unknow-error" in owed.last_error
    retry = paid.settlement.refund_retry
    assert retry is not None
    assert retry.run_due().confirmed == 0  # not due yet: backing off
    paid.world.clock.advance(timedelta(seconds=31))
    assert retry.run_due().failing == 1  # the second injected failure
    assert paid.books.pending_refund(refund_no).attempts == 2  # type: ignore[union-attr]
    paid.world.clock.advance(timedelta(seconds=61))
    assert retry.run_due().confirmed == 1
    done = paid.books.pending_refund(refund_no)
    assert done is not None and done.state is PendingState.DONE
    at_channel = paid.channel.provider.refund_status(record.number, refund_no)
    assert (at_channel.state, at_channel.amount_fen) == (RefundState.SUCCEEDED, quote.refund_fen)
    paid.world.clock.advance(timedelta(hours=2))
    assert retry.run_due().confirmed == 0  # done refunds are left alone


def test_a_refund_whose_answer_was_lost_is_not_sent_twice(paid: Paid) -> None:
    account, record = held(paid.world)
    paid.settlement.start(account, record.number, "counter", counter(paid.channel.code()))
    ticket = paid.world.orders.get(account, record.number).order.tickets[0]
    paid.channel.fail_next("alipay.trade.refund", 1)
    paid.settlement.refund(account, record.number, ticket.number)
    refund_no = f"{ticket.number}R"
    # the refund reached the channel some other way (e.g. its answer was lost)
    owed = paid.books.pending_refund(refund_no)
    assert owed is not None
    paid.channel.provider.refund(record.number, refund_no, owed.amount_fen)
    paid.world.clock.advance(timedelta(minutes=5))
    assert paid.settlement.refund_retry.run_due().confirmed == 1  # type: ignore[union-attr]
    trade = paid.channel.sandbox.alipay.ledger.find(
        paid.channel.provider._settings.app_id, {"out_trade_no": record.number}
    )
    assert trade.refunded_fen == owed.amount_fen
