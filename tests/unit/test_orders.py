import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.accounts.domain.identity import Document, DocumentKind
from open12306.catalog.domain.fares import PassengerType
from open12306.sales.domain import (
    TRANSITIONS,
    Order,
    OrderState,
    Passenger,
    SeatAssignment,
    TicketState,
    absolute_minutes,
    cancel,
    change_ticket,
    check_order,
    check_order_number,
    expire,
    fail,
    hold,
    is_overdue,
    order_number,
    order_serial,
    parse_ticket_number,
    pay,
    queue,
    refund_ticket,
    ticket_number,
    use_ticket,
)
from open12306.sales.domain.refunds import DEFAULT_LADDER
from open12306.shared.errors import DomainError
from tests.unit.test_orders_support import NOW, ORDER_NO, a_passenger, a_trip, seats

DEADLINE = NOW + timedelta(minutes=30)


def reason_of(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    return info.value.reason


def queued(n: int = 2) -> Order:
    return queue(ORDER_NO, "acct-1", a_trip(), [a_passenger(i) for i in range(n)], NOW)


def paid(n: int = 2) -> Order:
    order = hold(queued(n), seats(*[55300] * n), DEADLINE)
    return pay(order, 55300 * n, NOW + timedelta(minutes=5))


# --- numbers -----------------------------------------------------------------------------


def test_order_number_format() -> None:
    number = order_number(12345)
    assert len(number) == 10 and number[0] == "E" and number[1:].isdigit()
    check_order_number(number)
    assert order_serial(number) == 12345
    assert order_number(0) != order_number(1)


@given(st.integers(0, 10**8 - 1))
def test_order_numbers_round_trip(serial: int) -> None:
    assert order_serial(order_number(serial)) == serial


@given(st.integers(0, 10**8 - 1), st.integers(1, 9), st.integers(1, 9))
def test_a_mistyped_digit_is_caught(serial: int, position: int, shift: int) -> None:
    number = order_number(serial)
    digit = (int(number[position]) + shift) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]
    assert reason_of(check_order_number, typo) == "bad_checksum"


@pytest.mark.parametrize("bad", ["", "E12345678", "e123456782", "X123456782", "E1234567820"])
def test_malformed_order_numbers(bad: str) -> None:
    assert reason_of(check_order_number, bad) == "bad_format"


def test_ticket_numbers() -> None:
    number = ticket_number(ORDER_NO, 3, 1)
    assert number == ORDER_NO + "31"
    assert parse_ticket_number(number) == (ORDER_NO, 3, 1)
    assert reason_of(parse_ticket_number, ORDER_NO + "01") == "bad_format"
    assert reason_of(ticket_number, ORDER_NO, 0) == "out_of_range"


def test_absolute_minutes_need_a_zone() -> None:
    assert absolute_minutes(NOW) - absolute_minutes(NOW - timedelta(hours=1)) == 60
    assert reason_of(absolute_minutes, NOW.replace(tzinfo=None)) == "naive"


# --- model -----------------------------------------------------------------------------


def test_trip_and_seat_validation() -> None:
    trip = a_trip()
    assert reason_of(dataclasses.replace, trip, to_stop=0) == "bad_range"
    assert reason_of(dataclasses.replace, trip, to_station="VNP") == "same_station"
    assert reason_of(dataclasses.replace, trip, arrives_at=trip.departs_at) == "bad_range"
    naive = trip.departs_at.replace(tzinfo=None)
    assert reason_of(dataclasses.replace, trip, departs_at=naive) == "naive"
    assert reason_of(SeatAssignment, 5, "01A", 0) == "not_positive"
    assert reason_of(SeatAssignment, -1, "01A", 100) == "negative"
    assert reason_of(a_passenger, 1, " ") == "empty"


# --- life cycle --------------------------------------------------------------------------


def test_happy_path_issues_one_ticket_per_passenger() -> None:
    order = queued(2)
    assert order.state is OrderState.QUEUED and check_order(order) == []
    held = hold(order, seats(55300, 27650), DEADLINE)
    assert held.state is OrderState.HELD and held.holds_seats and held.total_fen == 82950
    assert check_order(held) == []
    done = pay(held, 82950, NOW + timedelta(minutes=29))
    assert done.state is OrderState.PAID and not done.holds_seats
    assert [t.number for t in done.tickets] == [ORDER_NO + "10", ORDER_NO + "20"]
    assert [t.fare_fen for t in done.tickets] == [55300, 27650]
    assert all(t.state is TicketState.ISSUED for t in done.tickets)
    assert check_order(done) == []


def test_queue_rejects_bad_orders() -> None:
    trip = a_trip()
    assert reason_of(queue, "E000000001", "a", trip, [a_passenger()], NOW) == "bad_checksum"
    six = [a_passenger(i) for i in range(6)]
    assert reason_of(queue, ORDER_NO, "a", trip, six, NOW) == "too_many_passengers"
    assert reason_of(queue, ORDER_NO, "a", trip, [], NOW) == "too_many_passengers"


def test_hold_checks() -> None:
    order = queued(2)
    assert reason_of(hold, order, seats(100), DEADLINE) == "count_mismatch"
    assert reason_of(hold, order, seats(100, 100), NOW) == "in_past"


def test_fail_needs_a_reason() -> None:
    failed = fail(queued(), "sold_out", NOW)
    assert failed.failure == "sold_out" and check_order(failed) == []
    assert reason_of(fail, queued(), "", NOW) == "empty"


def test_payment_rules() -> None:
    held = hold(queued(1), seats(55300), DEADLINE)
    assert reason_of(pay, held, 55200, NOW) == "mismatch"
    assert reason_of(pay, held, 55300, DEADLINE) == "pay_deadline_passed"
    assert not is_overdue(held, DEADLINE - timedelta(seconds=1))
    assert is_overdue(held, DEADLINE)


def test_expiry_only_when_due() -> None:
    held = hold(queued(1), seats(55300), DEADLINE)
    assert reason_of(expire, held, DEADLINE - timedelta(seconds=1)) == "not_due"
    expired = expire(held, DEADLINE)
    assert expired.state is OrderState.EXPIRED and not expired.holds_seats
    assert expired.seats == held.seats  # kept: what the caller releases
    assert check_order(expired) == []
    assert check_order(dataclasses.replace(expired, seats=held.seats[:0])) == [
        "a pay deadline comes with the seats"
    ]


def test_cancel_from_queue_and_hold() -> None:
    assert cancel(queued(), NOW).state is OrderState.CANCELLED
    held = hold(queued(1), seats(100), DEADLINE)
    assert cancel(held, NOW).state is OrderState.CANCELLED
    assert reason_of(cancel, paid(), NOW) == "bad_state"


MOVES = {
    OrderState.HELD: lambda o: hold(o, seats(*[100] * len(o.passengers)), DEADLINE),
    OrderState.FAILED: lambda o: fail(o, "sold_out", NOW),
    OrderState.PAID: lambda o: pay(o, o.total_fen, NOW),
    OrderState.EXPIRED: lambda o: expire(o, DEADLINE),
    OrderState.CANCELLED: lambda o: cancel(o, NOW),
}


def in_state(state: OrderState) -> Order:
    order = queued(1)
    held = MOVES[OrderState.HELD](order)
    return {
        OrderState.QUEUED: order,
        OrderState.HELD: held,
        OrderState.FAILED: MOVES[OrderState.FAILED](order),
        OrderState.PAID: MOVES[OrderState.PAID](held),
        OrderState.EXPIRED: MOVES[OrderState.EXPIRED](held),
        OrderState.CANCELLED: MOVES[OrderState.CANCELLED](held),
    }[state]


@pytest.mark.parametrize("source", list(OrderState))
@pytest.mark.parametrize("target", list(MOVES))
def test_transition_table_is_enforced(source: OrderState, target: OrderState) -> None:
    order = in_state(source)
    if target in TRANSITIONS[source]:
        assert MOVES[target](order).state is target
    else:
        assert reason_of(MOVES[target], order) == "bad_state"


# --- tickets -----------------------------------------------------------------------------


def test_refund_one_ticket() -> None:
    order = paid(2)
    at = order.trip.departs_at - timedelta(hours=30)
    after, quote = refund_ticket(order, ORDER_NO + "20", at, DEFAULT_LADDER)
    assert (quote.fee_fen, quote.refund_fen) == (5550, 49750)
    assert after.ticket(ORDER_NO + "20").state is TicketState.REFUNDED
    assert after.ticket(ORDER_NO + "10").state is TicketState.ISSUED
    assert check_order(after) == []
    again = reason_of(refund_ticket, after, ORDER_NO + "20", at, DEFAULT_LADDER)
    assert again == "bad_state"
    assert reason_of(after.ticket, ORDER_NO + "30") == "not_in_order"


def test_refund_only_on_paid_orders() -> None:
    held = hold(queued(1), seats(100), DEADLINE)
    assert reason_of(refund_ticket, held, ORDER_NO + "10", NOW, DEFAULT_LADDER) == "bad_state"


def test_change_once() -> None:
    order = paid(1)
    old = order.tickets[0]
    new_trip = a_trip(old.trip.departs_at + timedelta(hours=2), code="G3")
    seat = SeatAssignment(7, "12F", 60000, 77)
    at = old.trip.departs_at - timedelta(days=1)
    changed, quote = change_ticket(order, old.number, new_trip, seat, at, DEFAULT_LADDER)
    assert quote.pay_fen == 4700
    new = changed.tickets[-1]
    assert new.number == ORDER_NO + "11"
    assert (new.changed_from, new.changes, new.trip, new.fare_fen) == (
        old.number,
        1,
        new_trip,
        60000,
    )
    assert changed.ticket(old.number).state is TicketState.CHANGED
    assert check_order(changed) == []
    twice = reason_of(change_ticket, changed, new.number, new_trip, seat, at, DEFAULT_LADDER)
    assert twice == "already_changed"
    # The changed ticket can still be refunded or used.
    refunded, _ = refund_ticket(changed, new.number, at, DEFAULT_LADDER)
    assert refunded.ticket(new.number).state is TicketState.REFUNDED
    used = use_ticket(changed, new.number, new_trip.departs_at)
    assert used.ticket(new.number).state is TicketState.USED
    assert reason_of(use_ticket, changed, old.number, at) == "bad_state"


def test_check_order_spots_broken_orders() -> None:
    order = paid(2)
    two_live = dataclasses.replace(order, tickets=(*order.tickets, order.tickets[0]))
    assert "ticket numbers repeat" in check_order(two_live)
    missing = dataclasses.replace(order, tickets=order.tickets[:1])
    assert check_order(missing) == ["passenger 1 must have exactly one unchanged ticket"]
    orphan = dataclasses.replace(
        order,
        tickets=(dataclasses.replace(order.tickets[0], changed_from="E0"), *order.tickets[1:]),
    )
    assert any("replaces" in p for p in check_order(orphan))


def test_child_on_companion_document_is_a_different_passenger() -> None:
    adult = a_passenger(1, "张三")
    child = Passenger("张小三", adult.document, PassengerType.CHILD)
    other = Passenger(
        "王五", Document(DocumentKind.RESIDENT_ID, adult.document.number), PassengerType.ADULT
    )
    assert adult.key != child.key
    assert adult.key == other.key
