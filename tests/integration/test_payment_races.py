"""Confirming a payment is one guarded transition, on SQLite and PostgreSQL, against the live
Alipay sandbox with the real SDK.

* A counter payment confirms directly when the scan returns, and again when the channel's
  notification of the same trade arrives. Whatever their interleaving, the trade pays the
  order once and is never also returned: the payment row moves only from the state it was
  read in. The control runs the same interleaving with the payment written blind (the code
  before the guard) and shows the order paid while its money went back.
* Money that arrives for an order that cannot take it goes back whole, whatever the local
  payment record says (here: closed when the order was cancelled before the rider opened the
  cashier page).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from open12306.accounts.ports import Account
from open12306.payments.ports import PaymentOptions
from open12306.payments.ports import TradeState as ChannelState
from open12306.sales.domain import OrderState, TicketState
from open12306.sales.domain.ledger import EntryKind, balance_check
from open12306.sales.ports import OrderRecord, PaymentRecord
from open12306.sales.ports import PaymentRecordState as PaymentState
from open12306.sales.services.checkout import Outcome
from tests.integration.orders_support import request
from tests.integration.payments_support import wait_for
from tests.integration.settlement_channels_support import (
    Channel,
    Paid,
    channel,  # noqa: F401  (module fixture)
    held,
    paid_world,
)
from tests.unit.accounts_support import resident_id


@pytest.fixture
def paid(db_url: str, channel: Channel) -> Paid:  # noqa: F811
    return paid_world(db_url, channel)


def notification_first(paid: Paid, number: str) -> list[Outcome]:
    """Make the channel's notification of the counter trade land inside the direct
    confirmation: after it read the payment (still ``created``), before it reads the order.
    Returns the outcomes of the notification's confirmation (one, once it ran)."""
    settlement = paid.settlement
    provider = settlement.providers["alipay"]
    charge = provider.pay_with_code  # type: ignore[attr-defined]
    store = settlement.store
    read = store.get
    trade: dict[str, Any] = {}
    outcomes: list[Outcome] = []

    def pay_with_code(*args: Any) -> Any:
        status = charge(*args)
        trade.update(no=status.trade_no, amount=status.amount_fen, armed=True)
        return status

    def get(order_no: str) -> OrderRecord | None:
        if trade.pop("armed", False) and order_no == number:
            outcomes.append(settlement.confirm("alipay", number, trade["amount"], trade["no"]))
        return read(order_no)

    provider.pay_with_code = pay_with_code  # type: ignore[attr-defined]
    store.get = get  # type: ignore[method-assign]
    return outcomes


def blind_payments(paid: Paid) -> None:
    """The control: payments written over whatever is stored (no guard), as before the fix."""
    store = paid.settlement.store
    write = store.write

    def unguarded(p: PaymentRecord) -> PaymentRecord:
        stored = store.payment(p.id)
        return dataclasses.replace(p, stored_as=None if stored is None else stored.state)

    def blind_write(
        records: Sequence[OrderRecord],
        now: datetime,
        *,
        payments: Sequence[PaymentRecord] = (),
        **rest: Any,
    ) -> Any:
        return write(records, now, payments=[unguarded(p) for p in payments], **rest)

    store.write = blind_write  # type: ignore[method-assign]


def rider(paid: Paid, i: int) -> tuple[Account, OrderRecord]:
    """A held one-seat order of a rider of their own (their own document number)."""
    account, ids = paid.world.account(f"rider_{i}", ("张三", resident_id(f"11010119900307{i:03d}")))
    record = paid.world.orders.submit(account, request(*ids))
    paid.world.allocator.run_once()
    return account, paid.world.orders.get(account, record.number)


def money_went_back(paid: Paid, number: str) -> bool:
    return bool(paid.settlement.refunds_of(number)) or any(
        e.kind is EntryKind.REFUND for e in paid.world.orders_store.entries(number)
    )


def violations(paid: Paid, number: str) -> list[str]:
    record = paid.world.orders_store.get(number)
    assert record is not None
    found = balance_check(paid.world.orders_store.entries(number), record.order.tickets)
    return [v.reason for v in found]


def test_a_counter_trade_confirmed_twice_at_once_pays_once_and_keeps_its_money(
    paid: Paid,
) -> None:
    account, record = held(paid.world)
    outcomes = notification_first(paid, record.number)
    prompt = paid.settlement.start(
        account, record.number, "counter", PaymentOptions(auth_code=paid.channel.code())
    )
    assert [o.result for o in outcomes] == ["paid"]  # the notification won the race
    assert prompt.state == "paid"  # the cashier is told the order is paid all the same
    order = paid.world.orders_store.get(record.number)
    assert order is not None and order.order.state is OrderState.PAID
    assert [t.state for t in order.order.tickets] == [TicketState.ISSUED]
    payment = paid.world.orders_store.payment(f"counter:{record.number}")
    assert payment is not None and payment.state is PaymentState.SUCCEEDED
    assert not money_went_back(paid, record.number)
    assert [e.kind for e in paid.world.orders_store.entries(record.number)] == [EntryKind.PAYMENT]
    assert violations(paid, record.number) == []
    assert paid.channel.provider.query(record.number).state is ChannelState.PAID


def test_control_without_the_guard_the_paid_order_loses_its_money(paid: Paid) -> None:
    account, record = held(paid.world)
    blind_payments(paid)
    notification_first(paid, record.number)
    prompt = paid.settlement.start(
        account, record.number, "counter", PaymentOptions(auth_code=paid.channel.code())
    )
    assert prompt.state == "refunded"
    order = paid.world.orders_store.get(record.number)
    assert order is not None and order.order.state is OrderState.PAID
    assert money_went_back(paid, record.number)
    # the ledger check sees it although the sums balance
    assert violations(paid, record.number) == ["trade_booked_twice"]


def test_many_counter_payments_racing_their_notifications_each_pay_once(paid: Paid) -> None:
    """Real threads: every counter payment's direct confirmation runs beside a confirmation
    of the same trade (as the notification does), twenty orders at once."""
    orders = [rider(paid, i) for i in range(20)]
    # one buyer each: a buyer's new code voids their earlier ones
    codes = [paid.channel.sandbox.codes.mint(f"2088{i:012d}").auth_code for i in range(20)]
    settlement = paid.settlement

    def pay(i: int) -> None:
        account, record = orders[i]
        settlement.start(account, record.number, "counter", PaymentOptions(auth_code=codes[i]))

    def notify(i: int) -> None:
        number = orders[i][1].number

        def trade() -> str | None:
            found = settlement.store.payment(f"counter:{number}")
            return None if found is None else found.provider_trade_no

        trade_no = wait_for(trade, "the counter trade number")
        settlement.confirm("alipay", number, orders[i][1].order.total_fen, trade_no)

    jobs: list[Callable[[], None]] = []
    for i in range(len(orders)):
        jobs += [lambda i=i: pay(i), lambda i=i: notify(i)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for done in [pool.submit(job) for job in jobs]:
            done.result()
    for _, record in orders:
        order = paid.world.orders_store.get(record.number)
        assert order is not None and order.order.state is OrderState.PAID
        assert not money_went_back(paid, record.number), record.number
        assert violations(paid, record.number) == []


def test_money_for_a_cancelled_order_goes_back_whole(paid: Paid) -> None:
    """Cancel with the cashier page unopened, then pay at the cashier: the trade did not
    exist at the channel when the order closed it, so only the notification tells."""
    account, record = held(paid.world)
    prompt = paid.settlement.start(account, record.number, "alipay")
    assert prompt.redirect_url
    paid.settlement.cancel(account, record.number)
    closed = paid.world.orders_store.payment(f"alipay:{record.number}")
    assert closed is not None and closed.state is PaymentState.CLOSED
    paid.channel.pay_at_cashier(prompt.redirect_url)
    received = wait_for(
        lambda: paid.channel.receiver.for_order("alipay", record.number), "the notification"
    )
    note = received[-1]
    outcome = paid.settlement.notify("alipay", note.headers, note.body)
    assert outcome.result == "refunded"
    again = paid.settlement.notify("alipay", note.headers, note.body)
    assert again.result == "duplicate"
    order = paid.world.orders_store.get(record.number)
    assert order is not None and order.order.state is OrderState.CANCELLED
    entries = paid.world.orders_store.entries(record.number)
    assert sorted(e.kind for e in entries) == [EntryKind.PAYMENT, EntryKind.REFUND]
    assert sum(e.amount_fen for e in entries if e.kind is EntryKind.REFUND) == (
        record.order.total_fen
    )
    assert violations(paid, record.number) == []
    [refund] = paid.settlement.refunds_of(record.number)
    assert refund.amount_fen == record.order.total_fen
    status = paid.channel.provider.query(record.number)
    assert status.state in (ChannelState.REFUNDED, ChannelState.CLOSED)


def test_a_refund_with_no_way_back_to_the_payer_is_refused_and_never_marked_done(
    paid: Paid,
) -> None:
    """Where the channel that took the money is not configured, a refund is refused before
    anything is written; a channel refund that still finds no provider is recorded failed."""
    from open12306.sales.ports import PendingState
    from open12306.shared.errors import DomainError

    account, record = held(paid.world)
    prompt = paid.settlement.start(account, record.number, "alipay")
    paid.channel.pay_at_cashier(prompt.redirect_url or "")
    note = wait_for(
        lambda: paid.channel.receiver.for_order("alipay", record.number), "the notification"
    )[-1]
    assert paid.settlement.notify("alipay", note.headers, note.body).result == "paid"
    ticket = paid.world.orders_store.get(record.number).order.tickets[0]  # type: ignore[union-attr]
    alipay = paid.settlement.providers.pop("alipay")
    try:
        with pytest.raises(DomainError) as refused:
            paid.settlement.refund(account, record.number, ticket.number)
        assert (refused.value.status, refused.value.reason) == (503, "channel_unavailable")
        after = paid.world.orders_store.get(record.number)
        assert after is not None and after.order.tickets[0].state is TicketState.ISSUED
        assert [e.kind for e in paid.world.orders_store.entries(record.number)] == [
            EntryKind.PAYMENT
        ]
        sent = paid.settlement.refund_through("alipay", record.number, "X1R", 100, 100)
        assert sent is False
        [kept] = paid.settlement.refunds_of(record.number)
        assert (kept.refund_no, kept.state) == ("X1R", PendingState.FAILED)
        assert kept.last_error.startswith("no_provider")
    finally:
        paid.settlement.providers["alipay"] = alipay
