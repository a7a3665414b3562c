"""The order life cycle.

::

    queued ──hold──▶ held ──pay──▶ paid ──(per ticket: refund / change / use)
       │  └─cancel─┐   │ └─expire──▶ expired
       fail        ▼   └─cancel──▶ cancelled
       ▼       cancelled
     failed

``queued`` → ``cancelled`` is 12306's 取消排队: the allocator must then release anything it
took for the order (``hold`` on a cancelled order raises ``bad_state``). Orders are
immutable; every transition returns a new Order and raises DomainError(``state``,
``bad_state``) when the order is not in a state it may leave that way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from open12306.sales.domain import tickets as ticket_moves
from open12306.sales.domain.model import Passenger, SeatAssignment, Trip
from open12306.sales.domain.numbers import check_order_number, ticket_number
from open12306.sales.domain.refunds import (
    ChangeQuote,
    RefundLadder,
    RefundQuote,
    change_quote,
    refund_quote,
)
from open12306.sales.domain.tickets import Ticket, TicketState
from open12306.shared.errors import DomainError

MAX_PASSENGERS = 5


class OrderState(StrEnum):
    QUEUED = "queued"
    HELD = "held"
    FAILED = "failed"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.QUEUED: frozenset({OrderState.HELD, OrderState.FAILED, OrderState.CANCELLED}),
    OrderState.HELD: frozenset({OrderState.PAID, OrderState.EXPIRED, OrderState.CANCELLED}),
    OrderState.FAILED: frozenset(),
    OrderState.PAID: frozenset(),
    OrderState.EXPIRED: frozenset(),
    OrderState.CANCELLED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Order:
    """One booking for 1..5 passengers on one trip.

    ``seats`` (one per passenger, in order) and ``pay_deadline`` are set once held;
    ``failure`` names why a queued order failed (e.g. ``sold_out``); ``tickets`` are issued on
    payment, one per passenger, plus one more for each change.
    """

    number: str
    account: str
    trip: Trip
    passengers: tuple[Passenger, ...]
    queued_at: datetime
    state: OrderState = OrderState.QUEUED
    seats: tuple[SeatAssignment, ...] = ()
    pay_deadline: datetime | None = None
    failure: str | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    tickets: tuple[Ticket, ...] = ()

    @property
    def total_fen(self) -> int:
        """What the order costs: the sum of the held fares."""
        return sum(seat.fare_fen for seat in self.seats)

    @property
    def holds_seats(self) -> bool:
        """Whether the order's seats are taken in the inventory (held, not yet paid)."""
        return self.state is OrderState.HELD

    def current_tickets(self) -> tuple[Ticket | None, ...]:
        """Each passenger's latest ticket (the one a change led to, else the first; None
        before payment), in passenger order."""
        latest: dict[int, Ticket] = {}
        for ticket in self.tickets:
            known = latest.get(ticket.passenger)
            if known is None or ticket.changes > known.changes:
                latest[ticket.passenger] = ticket
        return tuple(latest.get(i) for i in range(len(self.passengers)))

    def ticket(self, number: str) -> Ticket:
        for ticket in self.tickets:
            if ticket.number == number:
                return ticket
        raise DomainError("ticket_number", "not_in_order", f"{number} is not in {self.number}")

    def live_tickets(self) -> tuple[Ticket, ...]:
        return tuple(t for t in self.tickets if t.live)


def _bad_state(order: Order, move: str) -> DomainError:
    return DomainError(
        "state", "bad_state", f"order {order.number} is {order.state}; cannot {move}"
    )


def _require(order: Order, move: str, *states: OrderState) -> None:
    if order.state not in states:
        raise _bad_state(order, move)


def queue(
    number: str,
    account: str,
    trip: Trip,
    passengers: Sequence[Passenger],
    at: datetime,
) -> Order:
    """A new order, waiting for the allocator. The sale rules are checked before this."""
    check_order_number(number)
    if not 1 <= len(passengers) <= MAX_PASSENGERS:
        raise DomainError(
            "passengers", "too_many_passengers", f"an order has 1 to {MAX_PASSENGERS} passengers"
        )
    return Order(number, account, trip, tuple(passengers), at)


def hold(order: Order, seats: Sequence[SeatAssignment], deadline: datetime) -> Order:
    """queued → held: the allocator took ``seats`` (one per passenger) until ``deadline``."""
    _require(order, "hold", OrderState.QUEUED)
    if len(seats) != len(order.passengers):
        raise DomainError("seats", "count_mismatch", "one seat per passenger")
    if deadline <= order.queued_at:
        raise DomainError("pay_deadline", "in_past", "the pay deadline must be in the future")
    return dataclasses.replace(
        order, state=OrderState.HELD, seats=tuple(seats), pay_deadline=deadline
    )


def fail(order: Order, reason: str, at: datetime) -> Order:
    """queued → failed, e.g. with ``sold_out``."""
    _require(order, "fail", OrderState.QUEUED)
    if not reason:
        raise DomainError("failure", "empty", "a failed order says why")
    return dataclasses.replace(order, state=OrderState.FAILED, failure=reason, closed_at=at)


def is_overdue(order: Order, now: datetime) -> bool:
    """A held order whose pay deadline has passed (to be expired, its seats released)."""
    return (
        order.state is OrderState.HELD
        and order.pay_deadline is not None
        and now >= order.pay_deadline
    )


def pay(order: Order, amount_fen: int, at: datetime) -> Order:
    """held → paid: tickets issued, numbered by passenger position.

    A payment at or after the deadline is refused (``pay_deadline_passed``): the caller
    expires the order and refunds the money.
    """
    _require(order, "pay", OrderState.HELD)
    if is_overdue(order, at):
        raise DomainError("order", "pay_deadline_passed", "the order expired before payment")
    if amount_fen != order.total_fen:
        raise DomainError(
            "amount", "mismatch", f"the order costs {order.total_fen} fen, not {amount_fen}"
        )
    issued = tuple(
        Ticket(
            number=ticket_number(order.number, i + 1),
            order_number=order.number,
            passenger=i,
            trip=order.trip,
            coach=seat.coach,
            seat_label=seat.seat_label,
            fare_fen=seat.fare_fen,
        )
        for i, seat in enumerate(order.seats)
    )
    return dataclasses.replace(order, state=OrderState.PAID, paid_at=at, tickets=issued)


def expire(order: Order, at: datetime) -> Order:
    """held → expired, once the pay deadline has passed (``not_due`` before)."""
    _require(order, "expire", OrderState.HELD)
    if not is_overdue(order, at):
        raise DomainError("order", "not_due", "the order's pay deadline has not passed")
    return dataclasses.replace(order, state=OrderState.EXPIRED, closed_at=at)


def cancel(order: Order, at: datetime) -> Order:
    """queued → cancelled (取消排队) or held → cancelled (the rider gives up the seats)."""
    _require(order, "cancel", OrderState.QUEUED, OrderState.HELD)
    return dataclasses.replace(order, state=OrderState.CANCELLED, closed_at=at)


def _replace_ticket(order: Order, new: Ticket, *added: Ticket) -> Order:
    tickets = tuple(new if t.number == new.number else t for t in order.tickets)
    return dataclasses.replace(order, tickets=tickets + added)


def _paid_ticket(order: Order, number: str, move: str) -> Ticket:
    _require(order, move, OrderState.PAID)
    return order.ticket(number)


def refund_ticket(
    order: Order, number: str, at: datetime, ladder: RefundLadder
) -> tuple[Order, RefundQuote]:
    """Refund one issued ticket of a paid order before departure; returns the fee quote."""
    ticket = _paid_ticket(order, number, "refund")
    if ticket.state is not TicketState.ISSUED:
        raise ticket_moves.bad_state(ticket)
    quote = refund_quote(ladder, ticket.fare_fen, ticket.trip.departs_at, at, ticket.refund_floor)
    return _replace_ticket(order, ticket_moves.refund(ticket, at)), quote


def change_ticket(
    order: Order,
    number: str,
    trip: Trip,
    seat: SeatAssignment,
    at: datetime,
    ladder: RefundLadder,
) -> tuple[Order, ChangeQuote]:
    """Change one issued ticket to ``seat`` on ``trip`` (same passenger, same order).

    The old ticket becomes ``changed`` and a new ticket, one generation on, is issued. The
    quote says what to charge or refund; the caller takes the payment first when one is due.
    """
    old = _paid_ticket(order, number, "change")
    if old.state is not TicketState.ISSUED:
        raise ticket_moves.bad_state(old)
    changed = ticket_moves.mark_changed(old, at)
    quote = change_quote(
        ladder,
        old.fare_fen,
        seat.fare_fen,
        old.trip.departs_at,
        trip.departs_at,
        at,
        old.refund_floor,
    )
    new = Ticket(
        number=ticket_number(order.number, old.passenger + 1, old.changes + 1),
        order_number=order.number,
        passenger=old.passenger,
        trip=trip,
        coach=seat.coach,
        seat_label=seat.seat_label,
        fare_fen=seat.fare_fen,
        changes=old.changes + 1,
        changed_from=old.number,
        refund_floor=quote.refund_floor,
    )
    return _replace_ticket(order, changed, new), quote


def use_ticket(order: Order, number: str, at: datetime) -> Order:
    """Mark a ticket used at the entry gate."""
    ticket = _paid_ticket(order, number, "use a ticket of")
    return _replace_ticket(order, ticket_moves.use(ticket, at))


def check_order(order: Order) -> list[str]:
    """Everything wrong with an order's shape for its state (empty when consistent).

    Expired and cancelled orders keep the seats they held, as a record of what was released.
    """
    problems: list[str] = []
    if order.seats and len(order.seats) != len(order.passengers):
        problems.append("seats must be one per passenger")
    if order.state in (OrderState.HELD, OrderState.PAID) and not order.seats:
        problems.append("a held or paid order has seats")
    if order.state in (OrderState.QUEUED, OrderState.FAILED) and order.seats:
        problems.append("a queued or failed order has no seats")
    if (order.pay_deadline is None) == bool(order.seats):
        problems.append("a pay deadline comes with the seats")
    if (order.state is OrderState.FAILED) != (order.failure is not None):
        problems.append("a failure reason exactly when failed")
    if (order.state is OrderState.PAID) != (order.paid_at is not None):
        problems.append("paid_at exactly when paid")
    if order.state is not OrderState.PAID and order.tickets:
        problems.append("tickets exist only on a paid order")
    if order.state is OrderState.PAID:
        problems.extend(_ticket_problems(order))
    return problems


def _ticket_problems(order: Order) -> list[str]:
    problems: list[str] = []
    numbers = [t.number for t in order.tickets]
    if len(set(numbers)) != len(numbers):
        problems.append("ticket numbers repeat")
    by_number = {t.number: t for t in order.tickets}
    for passenger in range(len(order.passengers)):
        chain = [t for t in order.tickets if t.passenger == passenger]
        current = [t for t in chain if t.state is not TicketState.CHANGED]
        if len(current) != 1:
            problems.append(f"passenger {passenger} must have exactly one unchanged ticket")
        for ticket in chain:
            if ticket.changed_from is not None:
                parent = by_number.get(ticket.changed_from)
                if parent is None or parent.state is not TicketState.CHANGED:
                    problems.append(f"{ticket.number} replaces a ticket that was not changed")
            if ticket.changes > 1:
                problems.append(f"{ticket.number} was changed more than once")
    return problems
