"""A dearer change paid through a channel (Alipay sandbox, real SDK), on SQLite and PostgreSQL:
the new seat is held until the payment, the change completes once when it is confirmed, and
without payment by the deadline the seat goes back and the old ticket stays valid."""

from __future__ import annotations

from datetime import timedelta

import pytest

from open12306.accounts.ports import Account
from open12306.inventory.domain.seats import SeatClass
from open12306.payments.ports import PaymentOptions, PayMode
from open12306.payments.ports import TradeState as PaymentState
from open12306.sales.domain import TicketState
from open12306.sales.domain.ledger import EntryKind
from open12306.sales.ports import OrderRecord
from open12306.sales.services.changes import ChangePaymentState, ChangeRequest, PendingChange
from open12306.shared.errors import DomainError
from tests.integration.orders_support import DAY
from tests.integration.payments_support import wait_for
from tests.integration.settlement_channels_support import (
    Channel,
    Paid,
    balanced,
    channel,  # noqa: F401  (module fixture)
    held,
    paid_world,
)

G1 = ("G1", DAY)
FIRST = ChangeRequest("G1", DAY, SeatClass.FIRST)


@pytest.fixture
def paid(db_url: str, channel: Channel) -> Paid:  # noqa: F811
    return paid_world(db_url, channel)


def ticketed(paid: Paid) -> tuple[Account, OrderRecord]:
    account, record = held(paid.world)
    paid.settlement.start(account, record.number, "credit")
    return account, paid.world.orders.get(account, record.number)


def free(paid: Paid, seat_class: SeatClass) -> int:
    return paid.world.read_model.remaining(G1, seat_class, 0, 2)


def upgrade(paid: Paid, account: Account, record: OrderRecord, **options: object) -> PendingChange:
    ticket = record.order.tickets[0].number
    result = paid.changes.change(
        account, record.number, ticket, FIRST, "alipay", PaymentOptions(mode=PayMode.QR)
    )
    assert isinstance(result, PendingChange)
    return result


def notification_for(paid: Paid, trade: str) -> tuple[dict[str, str], bytes]:
    got = wait_for(
        lambda: [
            r
            for r in paid.channel.receiver.received
            if r.notification is not None
            and r.notification.order_no == trade
            and r.notification.raw.get("app_id") == paid.channel.provider._settings.app_id
        ],
        what=f"notification of {trade}",
    )
    return got[0].headers, got[0].body


def test_the_difference_paid_through_alipay_completes_the_change(paid: Paid) -> None:
    account, record = ticketed(paid)
    second, first = free(paid, SeatClass.SECOND), free(paid, SeatClass.FIRST)
    pending = upgrade(paid, account, record)
    change = pending.change
    assert change.state is ChangePaymentState.PENDING and pending.prompt.qr_content
    assert pending.quote.pay_fen == change.amount_fen > 0
    # held: the new seat is taken, the old one not yet given back, the ticket unchanged
    assert (free(paid, SeatClass.SECOND), free(paid, SeatClass.FIRST)) == (second, first - 1)
    old = paid.world.orders.get(account, record.number).order.tickets[0]
    assert old.state is TicketState.ISSUED
    with pytest.raises(DomainError) as busy:
        upgrade(paid, account, record)
    assert busy.value.reason == "change_pending"

    paid.channel.pay_at_cashier(pending.prompt.qr_content or "")
    headers, body = notification_for(paid, change.id)
    assert paid.settlement.notify("alipay", headers, body).result == "paid"
    assert paid.settlement.notify("alipay", headers, body).result == "duplicate"

    order = paid.world.orders.get(account, record.number).order
    assert [t.state for t in order.tickets] == [TicketState.CHANGED, TicketState.ISSUED]
    assert order.tickets[1].trip.seat_class is SeatClass.FIRST
    assert (free(paid, SeatClass.SECOND), free(paid, SeatClass.FIRST)) == (second + 1, first - 1)
    entries = paid.world.orders_store.entries(record.number)
    assert [(e.kind, e.amount_fen) for e in entries] == [
        (EntryKind.PAYMENT, record.order.total_fen),
        (EntryKind.PAYMENT, change.amount_fen),
    ]
    stored = paid.books.change_payment(change.id)
    assert stored is not None and stored.state is ChangePaymentState.COMPLETED
    assert balanced(paid.world, record.number)


def test_without_payment_by_the_deadline_the_seat_goes_back(paid: Paid) -> None:
    account, record = ticketed(paid)
    first = free(paid, SeatClass.FIRST)
    pending = upgrade(paid, account, record)
    assert free(paid, SeatClass.FIRST) == first - 1
    paid.world.clock.advance(timedelta(minutes=31))
    assert paid.changes.expire_changes() == 1
    assert free(paid, SeatClass.FIRST) == first
    stored = paid.books.change_payment(pending.change.id)
    assert stored is not None and stored.state is ChangePaymentState.EXPIRED
    order = paid.world.orders.get(account, record.number).order
    assert [t.state for t in order.tickets] == [TicketState.ISSUED]
    assert paid.channel.provider.query(pending.change.id).state in (
        PaymentState.CLOSED,
        PaymentState.NOT_FOUND,
    )
    # money that still arrives is booked and refunded whole; nothing changes
    late = paid.changes.confirm_change("alipay", pending.change.id, pending.change.amount_fen, "T9")
    assert late is not None and late.result == "refunded"
    assert free(paid, SeatClass.FIRST) == first
    kinds = [e.kind for e in paid.world.orders_store.entries(record.number)]
    assert kinds == [EntryKind.PAYMENT, EntryKind.PAYMENT, EntryKind.REFUND]
    assert balanced(paid.world, record.number)
    # the ticket may be changed again
    again = upgrade(paid, account, record)
    assert again.change.id.endswith("C2")


def test_a_wrong_amount_is_refunded_and_releases_the_hold(paid: Paid) -> None:
    account, record = ticketed(paid)
    first = free(paid, SeatClass.FIRST)
    pending = upgrade(paid, account, record)
    outcome = paid.changes.confirm_change("alipay", pending.change.id, 1, "T1")
    assert outcome is not None and outcome.result == "refunded"
    assert free(paid, SeatClass.FIRST) == first
    assert [t.state for t in paid.world.orders.get(account, record.number).order.tickets] == [
        TicketState.ISSUED
    ]
    assert balanced(paid.world, record.number)


def test_a_change_paid_by_payment_code_completes_at_once(paid: Paid) -> None:
    account, record = ticketed(paid)
    ticket = record.order.tickets[0].number
    result = paid.changes.change(
        account,
        record.number,
        ticket,
        FIRST,
        "counter",
        PaymentOptions(auth_code=paid.channel.code()),
    )
    assert isinstance(result, PendingChange) and result.prompt.state == "paid"
    order = paid.world.orders.get(account, record.number).order
    assert [t.state for t in order.tickets] == [TicketState.CHANGED, TicketState.ISSUED]
    assert balanced(paid.world, record.number)


def test_a_refused_payment_code_gives_the_held_seat_back(paid: Paid) -> None:
    account, record = ticketed(paid)
    first = free(paid, SeatClass.FIRST)
    ticket = record.order.tickets[0].number
    with pytest.raises(DomainError) as refused:
        paid.changes.change(
            account,
            record.number,
            ticket,
            FIRST,
            "counter",
            PaymentOptions(auth_code="281234567890123456"),
        )
    assert refused.value.reason in ("payment_code_invalid", "channel_unavailable")
    assert free(paid, SeatClass.FIRST) == first
    assert paid.world.orders.get(account, record.number).order.tickets[0].state is (
        TicketState.ISSUED
    )


def paid_by_alipay(paid: Paid) -> tuple[Account, OrderRecord]:
    account, record = held(paid.world)
    prompt = paid.settlement.start(
        account, record.number, "alipay", PaymentOptions(mode=PayMode.QR)
    )
    paid.channel.pay_at_cashier(prompt.qr_content or "")
    headers, body = notification_for(paid, record.number)
    assert paid.settlement.notify("alipay", headers, body).result == "paid"
    return account, paid.world.orders.get(account, record.number)


def test_a_dearer_change_asked_with_no_channel_goes_to_the_channel_that_paid(
    paid: Paid,
) -> None:
    """The credit line is never charged without being chosen: an order paid through Alipay
    pays its dearer change through Alipay unless the rider picks another channel."""
    account, record = paid_by_alipay(paid)
    ticket = record.order.tickets[0].number
    result = paid.changes.change(account, record.number, ticket, FIRST)
    assert isinstance(result, PendingChange)
    assert result.change.channel == "alipay"
    assert paid.world.orders_store.credit_used(account.id) == 0


def test_a_dearer_change_is_priced_before_it_is_confirmed(paid: Paid) -> None:
    account, record = paid_by_alipay(paid)
    ticket = record.order.tickets[0].number
    first = free(paid, SeatClass.FIRST)
    offer = paid.changes.quote(account, record.number, ticket, FIRST)
    assert offer.quote.pay_fen > 0 and offer.channel == "alipay"
    assert "credit" in offer.channels
    # pricing takes nothing and holds nothing
    assert free(paid, SeatClass.FIRST) == offer.remaining == first
    assert paid.world.orders_store.credit_used(account.id) == 0
    result = paid.changes.change(account, record.number, ticket, FIRST, "credit")
    assert not isinstance(result, PendingChange)
    assert result.quote.pay_fen == offer.quote.pay_fen
    assert paid.world.orders_store.credit_used(account.id) == offer.quote.pay_fen


def test_a_change_priced_for_a_cheaper_trip_shows_the_refund_and_fee(paid: Paid) -> None:
    account, record = ticketed(paid)
    ticket = record.order.tickets[0].number
    offer = paid.changes.quote_destination(account, record.number, ticket, "TIP")
    assert offer.quote.pay_fen == 0 and offer.channel == "credit"
    assert offer.quote.refund_fen + offer.quote.fee_fen == (
        offer.quote.old_fare_fen - offer.quote.new_fare_fen
    )
    result = paid.changes.change_destination(account, record.number, ticket, "TIP")
    assert not isinstance(result, PendingChange)
    assert (result.quote.refund_fen, result.quote.fee_fen) == (
        offer.quote.refund_fen,
        offer.quote.fee_fen,
    )
