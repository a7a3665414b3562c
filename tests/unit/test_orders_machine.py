"""A Hypothesis state machine drives one order through random moves, legal and illegal.

Every move is predicted from a small model first (success, or the exact reason it must
fail); after every step the order must be consistent (``check_order``), its state must have
moved only along ``TRANSITIONS``, and the ledger must balance.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from open12306.sales.domain import (
    TRANSITIONS,
    Order,
    OrderState,
    SeatAssignment,
    TicketState,
    cancel,
    change_ticket,
    check_order,
    expire,
    fail,
    hold,
    is_overdue,
    ledger,
    pay,
    queue,
    refund_ticket,
    use_ticket,
)
from open12306.sales.domain.refunds import DEFAULT_LADDER
from open12306.shared.errors import DomainError
from tests.unit.test_orders_support import NOW, ORDER_NO, a_passenger, a_trip, seats

fares = st.integers(100, 200_000)
T = TypeVar("T")


class OrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = NOW
        self.trip = a_trip(NOW + timedelta(days=9))
        self.order: Order | None = None
        self.entries: list[ledger.Entry] = []
        self.before: OrderState | None = None

    # --- helpers -----------------------------------------------------------------------

    @property
    def current(self) -> Order:
        assert self.order is not None
        return self.order

    def attempt(self, expected: str | None, move: Callable[..., T], *args: object) -> T | None:
        """Run ``move``; it must succeed when ``expected`` is None, else fail with that reason."""
        self.before = self.current.state
        try:
            result = move(*args)
        except DomainError as error:
            assert expected is not None, f"unexpected {error.reason}: {error.message}"
            assert error.reason == expected
            return None
        assert expected is None, f"expected {expected}, got success"
        return result

    def state_is(self, *states: OrderState) -> bool:
        return self.current.state in states

    # --- moves -------------------------------------------------------------------------

    @precondition(lambda self: self.order is None)
    @rule(party=st.integers(1, 5))
    def submit(self, party: int) -> None:
        passengers = [a_passenger(i) for i in range(party)]
        self.order = queue(ORDER_NO, "acct", self.trip, passengers, self.now)

    @precondition(lambda self: self.order is not None)
    @rule(prices=st.lists(fares, min_size=5, max_size=5), minutes=st.integers(1, 60))
    def hold(self, prices: list[int], minutes: int) -> None:
        order = self.current
        held = seats(*prices[: len(order.passengers)])
        expected = None if self.state_is(OrderState.QUEUED) else "bad_state"
        deadline = max(self.now, order.queued_at) + timedelta(minutes=minutes)
        self.order = self.attempt(expected, hold, order, held, deadline) or order

    @precondition(lambda self: self.order is not None and self.order.state is OrderState.QUEUED)
    @rule(prices=st.lists(fares, min_size=5, max_size=5))
    def hold_and_pay(self, prices: list[int]) -> None:
        # A short way to a paid order, so the ticket moves get exercised.
        self.hold(prices, 30)
        self.pay()

    @precondition(lambda self: self.order is not None)
    @rule(really=st.integers(0, 3))
    def fail(self, really: int) -> None:
        if really:
            return  # terminal moves are tried less often, to leave room for the rest
        expected = None if self.state_is(OrderState.QUEUED) else "bad_state"
        self.order = self.attempt(expected, fail, self.current, "sold_out", self.now) or self.order

    @precondition(lambda self: self.order is not None)
    @rule(really=st.integers(0, 3))
    def cancel(self, really: int) -> None:
        if really:
            return
        ok = self.state_is(OrderState.QUEUED, OrderState.HELD)
        self.order = self.attempt(None if ok else "bad_state", cancel, self.current, self.now) or (
            self.order
        )

    @precondition(lambda self: self.order is not None)
    @rule()
    def pay(self) -> None:
        order = self.current
        amount = order.total_fen or 100
        self.entries.append(ledger.payment(order.number, amount, self.now))
        if not self.state_is(OrderState.HELD):
            expected: str | None = "bad_state"
        elif is_overdue(order, self.now):
            expected = "pay_deadline_passed"
        else:
            expected = None
        result = self.attempt(expected, pay, order, amount, self.now)
        if result is None:
            # Money that cannot buy the order goes back whole; an overdue hold expires.
            self.entries.append(ledger.refund_of_payment(order.number, amount, self.now))
            if expected == "pay_deadline_passed":
                self.order = expire(order, self.now)
        else:
            self.order = result

    @precondition(lambda self: self.order is not None)
    @rule()
    def expire(self) -> None:
        order = self.current
        if not self.state_is(OrderState.HELD):
            expected: str | None = "bad_state"
        else:
            expected = None if is_overdue(order, self.now) else "not_due"
        self.order = self.attempt(expected, expire, order, self.now) or order

    @rule(minutes=st.one_of(st.integers(1, 120), st.integers(1, 5 * 24 * 60)))
    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(hours=st.integers(-3, 72))
    def approach_departure(self, hours: int) -> None:
        # Time only moves forward: to ``hours`` before the original departure, if still ahead.
        self.now = max(self.now, self.trip.departs_at - timedelta(hours=hours))

    def ticket_expectation(self, index: int) -> tuple[str | None, str]:
        order = self.current
        if not self.state_is(OrderState.PAID):
            return "bad_state", ORDER_NO + "10"
        ticket = order.tickets[index % len(order.tickets)]
        if ticket.state is not TicketState.ISSUED:
            return "bad_state", ticket.number
        return None, ticket.number

    @precondition(lambda self: self.order is not None)
    @rule(index=st.integers(0, 20))
    def refund(self, index: int) -> None:
        expected, number = self.ticket_expectation(index)
        if expected is None and self.current.ticket(number).trip.departs_at <= self.now:
            expected = "departed"
        result = self.attempt(
            expected, refund_ticket, self.current, number, self.now, DEFAULT_LADDER
        )
        if result is not None:
            order, quote = result
            self.entries.extend(ledger.refund_entries(order.ticket(number), quote, self.now))
            self.order = order

    @precondition(lambda self: self.order is not None)
    @rule(index=st.integers(0, 20), fare=fares, hours=st.integers(-12, 24 * 12))
    def change(self, index: int, fare: int, hours: int) -> None:
        expected, number = self.ticket_expectation(index)
        old_departs = self.trip.departs_at
        new_trip = a_trip(old_departs + timedelta(hours=hours), code="G7")
        if expected is None:
            old = self.current.ticket(number)
            old_departs = old.trip.departs_at
            new_trip = a_trip(old_departs + timedelta(hours=hours), code="G7")
            new_departs = new_trip.departs_at
            if old.changes:
                expected = "already_changed"
            elif old_departs <= self.now or new_departs <= self.now:
                expected = "departed"
            elif old_departs - self.now <= timedelta(hours=48) and (
                new_departs.date() > old_departs.date()
            ):
                expected = "change_too_late"
        seat = SeatAssignment(3, "07D", fare, 40)
        result = self.attempt(
            expected, change_ticket, self.current, number, new_trip, seat, self.now, DEFAULT_LADDER
        )
        if result is not None:
            order, quote = result
            old_ticket = order.ticket(number)
            assert old_ticket.state is TicketState.CHANGED
            self.entries.extend(ledger.change_entries(old_ticket, quote, self.now))
            self.order = order

    @precondition(lambda self: self.order is not None)
    @rule(index=st.integers(0, 20))
    def use(self, index: int) -> None:
        expected, number = self.ticket_expectation(index)
        self.order = self.attempt(expected, use_ticket, self.current, number, self.now) or (
            self.order
        )

    # --- invariants --------------------------------------------------------------------

    @invariant()
    def consistent(self) -> None:
        if self.order is not None:
            assert check_order(self.order) == []

    @invariant()
    def moved_along_the_table(self) -> None:
        if self.order is not None and self.before is not None:
            after = self.order.state
            assert after == self.before or after in TRANSITIONS[self.before]

    @invariant()
    def ledger_balances(self) -> None:
        tickets = self.order.tickets if self.order is not None else ()
        assert ledger.balance_check(self.entries, tickets) == []

    @invariant()
    def seats_held_only_while_held(self) -> None:
        if self.order is not None:
            assert self.order.holds_seats == (self.order.state is OrderState.HELD)
            live_fares = sum(t.fare_fen for t in self.order.live_tickets())
            if self.order.state is not OrderState.PAID:
                assert live_fares == 0


OrderMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestOrderMachine = OrderMachine.TestCase
