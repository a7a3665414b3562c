import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.sales.domain import (
    Order,
    SeatAssignment,
    TicketState,
    change_ticket,
    hold,
    ledger,
    order_number,
    pay,
    queue,
    refund_ticket,
)
from open12306.sales.domain.ledger import TOTAL, Entry, EntryKind, Violation, balance_check
from open12306.sales.domain.refunds import DEFAULT_LADDER
from open12306.shared.errors import DomainError
from tests.unit.test_orders_support import NOW, a_passenger, a_trip, seats

AT = NOW + timedelta(minutes=3)


def paid_order(serial: int, *fares: int) -> tuple[Order, list[Entry]]:
    number = order_number(serial)
    passengers = [a_passenger(i) for i in range(len(fares))]
    order = queue(number, "acct", a_trip(NOW + timedelta(days=10)), passengers, NOW)
    order = hold(order, seats(*fares), NOW + timedelta(minutes=30))
    order = pay(order, sum(fares), AT)
    return order, [ledger.payment(number, sum(fares), AT, reference="trade-1")]


def test_a_paid_order_balances() -> None:
    order, entries = paid_order(1, 55300, 27650)
    assert balance_check(entries, order.tickets) == []


def test_a_missing_payment_is_reported_per_order_and_in_total() -> None:
    order, _ = paid_order(1, 55300)
    other, other_entries = paid_order(2, 10000)
    violations = balance_check(other_entries, order.tickets + other.tickets)
    assert violations == [
        Violation(order.number, 0, 55300, 0, 0),
        Violation(TOTAL, 10000, 65300, 0, 0),
    ]
    assert violations[0].difference_fen == -55300


def test_refund_with_fee_balances_and_a_lost_fee_entry_does_not() -> None:
    order, entries = paid_order(1, 55300, 27650)
    at = order.trip.departs_at - timedelta(hours=30)
    number = order.tickets[0].number
    order, quote = refund_ticket(order, number, at, DEFAULT_LADDER)
    moves = ledger.refund_entries(order.ticket(number), quote, at)
    assert [(e.kind, e.amount_fen) for e in moves] == [
        (EntryKind.REFUND, 49750),
        (EntryKind.FEE, 5550),
    ]
    assert all(e.ticket_number == number for e in moves)
    assert balance_check([*entries, *moves], order.tickets) == []
    broken = balance_check([*entries, moves[0]], order.tickets)
    assert [v.difference_fen for v in broken] == [5550, 5550]


def test_free_refund_has_no_fee_entry() -> None:
    order, entries = paid_order(1, 10000)
    number = order.tickets[0].number
    order, quote = refund_ticket(order, number, NOW, DEFAULT_LADDER)
    moves = ledger.refund_entries(order.ticket(number), quote, NOW)
    assert [(e.kind, e.amount_fen) for e in moves] == [(EntryKind.REFUND, 10000)]
    assert balance_check([*entries, *moves], order.tickets) == []


def test_changes_balance_both_ways() -> None:
    order, entries = paid_order(1, 10000, 10000)
    trip = order.trip
    at = trip.departs_at - timedelta(hours=30)
    later = dataclasses.replace(trip, departs_at=trip.departs_at + timedelta(hours=1))
    later = dataclasses.replace(later, arrives_at=later.departs_at + timedelta(hours=4))
    first, second = (t.number for t in order.tickets)
    order, dear = change_ticket(
        order, first, later, SeatAssignment(2, "01A", 12500), at, DEFAULT_LADDER
    )
    order, cheap = change_ticket(
        order, second, later, SeatAssignment(2, "01B", 6000), at, DEFAULT_LADDER
    )
    pay_more = ledger.change_entries(order.ticket(first), dear, at, "trade-2")
    give_back = ledger.change_entries(order.ticket(second), cheap, at, "refund-1")
    assert [(e.kind, e.amount_fen) for e in pay_more] == [(EntryKind.PAYMENT, 2500)]
    # 40 yuan cheaper, 10 % band: 4 yuan fee.
    assert [(e.kind, e.amount_fen) for e in give_back] == [
        (EntryKind.REFUND, 3600),
        (EntryKind.FEE, 400),
    ]
    assert balance_check([*entries, *pay_more, *give_back], order.tickets) == []
    assert balance_check([*entries, *give_back], order.tickets) != []


def test_late_payment_refunded_whole_balances() -> None:
    number = order_number(9)
    entries = [ledger.payment(number, 500, AT), ledger.refund_of_payment(number, 500, AT)]
    assert balance_check(entries, []) == []
    assert balance_check(entries[:1], []) == [
        Violation(number, 500, 0, 0, 0),
        Violation(TOTAL, 500, 0, 0, 0),
    ]


def test_entries_are_positive() -> None:
    with pytest.raises(DomainError):
        Entry(order_number(1), EntryKind.PAYMENT, 0, AT)
    with pytest.raises(DomainError):
        Entry(order_number(1), EntryKind.FEE, -5, AT)


def test_used_tickets_still_count() -> None:
    order, entries = paid_order(1, 10000)
    used = dataclasses.replace(order.tickets[0], state=TicketState.USED)
    assert balance_check(entries, [used]) == []


# --- random sequences --------------------------------------------------------------------

actions = st.lists(
    st.tuples(
        st.sampled_from(["refund", "change"]),
        st.integers(0, 4),  # which passenger's current ticket
        st.integers(100, 300_000),  # new fare for a change
        st.integers(0, 12 * 24),  # hours elapsed before the move
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(100, 300_000), min_size=1, max_size=5), actions)
def test_ledger_balances_through_random_refunds_and_changes(
    fares: list[int], moves: list[tuple[str, int, int, int]]
) -> None:
    order, entries = paid_order(7, *fares)
    now = AT
    for action, who, fare, hours in moves:
        now += timedelta(hours=hours)
        current = [t for t in order.tickets if t.state is TicketState.ISSUED]
        if not current:
            break
        ticket = current[who % len(current)]
        try:
            if action == "refund":
                order, quote = refund_ticket(order, ticket.number, now, DEFAULT_LADDER)
                entries += ledger.refund_entries(order.ticket(ticket.number), quote, now)
            else:
                departs = ticket.trip.departs_at + timedelta(hours=2)
                trip = dataclasses.replace(
                    ticket.trip, departs_at=departs, arrives_at=departs + timedelta(hours=5)
                )
                seat = SeatAssignment(4, "05C", fare)
                order, change = change_ticket(order, ticket.number, trip, seat, now, DEFAULT_LADDER)
                entries += ledger.change_entries(order.ticket(ticket.number), change, now)
        except DomainError as error:
            assert error.reason in {"departed", "already_changed", "change_too_late"}
        assert balance_check(entries, order.tickets) == []
    paid_in = sum(e.amount_fen for e in entries if e.kind is EntryKind.PAYMENT)
    paid_out = sum(e.amount_fen for e in entries if e.kind is EntryKind.REFUND)
    assert 0 <= paid_out <= paid_in


def test_a_paid_order_whose_trade_was_also_returned_whole_is_caught() -> None:
    """The counter race's footprint: the trade booked as the payment, then booked again and
    returned whole while the order stayed paid. The sums balance; the check must not."""
    order, entries = paid_order(1, 55300)
    again = ledger.payment(order.number, 55300, AT, reference="trade-1")
    back = ledger.refund_of_payment(order.number, 55300, AT, reference="trade-1")
    violations = balance_check([*entries, again, back], order.tickets)
    assert [(v.order_number, v.reason, v.reference) for v in violations] == [
        (order.number, "trade_booked_twice", "trade-1")
    ]


def test_a_late_trade_returned_whole_on_an_unpaid_order_balances() -> None:
    order, _ = paid_order(1, 55300)
    late = [
        ledger.payment(order.number, 55300, AT, reference="late"),
        ledger.refund_of_payment(order.number, 55300, AT, reference="late"),
    ]
    assert balance_check(late, []) == []
