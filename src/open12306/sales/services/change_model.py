"""What a ticket change is: the request, the priced offer, the result, a dearer change's
payment and the book it is kept in, and what the parts of the change service share
(``ChangeContext``: the facade ``services.changes.ChangeService`` is one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from open12306.inventory.domain import Allocation, RunInventory
from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.ports import StoredState
from open12306.payments.ports import PaymentProvider
from open12306.payments.services.channels import PaymentChannels
from open12306.sales.domain import SaleRules, Ticket, TicketState, Trip
from open12306.sales.domain.refunds import ChangeQuote, RefundLadder
from open12306.sales.domain.tickets import refuse_if_used
from open12306.sales.ports import (
    ChangeBook,
    ChangePayment,
    MultiRunStore,
    OrderRecord,
)
from open12306.sales.services.allocator import Allocator, ticket_hold
from open12306.sales.services.checkout import Prompt, Settlement
from open12306.sales.services.orders import OrderService
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError
from open12306.shared.run_key import RunKey


class ChangeRefused(DomainError):
    """A change that the state of things refuses (already changed, sold out, no credit)."""

    status = 409


ChangeStore = MultiRunStore


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A dearer change held until its payment: what to show the rider to pay."""

    change: ChangePayment
    quote: ChangeQuote
    prompt: Prompt


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """Where to change a ticket to. ``from_station`` / ``to_station`` default to the ticket's
    own stations (or, when the new train does not call there, a station of the same city)."""

    train_code: str
    service_date: date
    seat_class: SeatClass
    from_station: str | None = None
    to_station: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeOffer:
    """A change priced before the rider confirms it: the ticket, the trip it would move to,
    the money (``quote``), the channel a difference goes through unless another is chosen,
    the channels to choose from, and the seats the search shows left (not a promise)."""

    ticket: Ticket
    trip: Trip
    quote: ChangeQuote
    channel: str
    channels: tuple[str, ...]
    remaining: int


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What a change did: the order as written, the old and new tickets, the money."""

    record: OrderRecord
    old_ticket: Ticket
    new_ticket: Ticket
    quote: ChangeQuote
    payment_id: str | None


@dataclass
class HeldRun:
    """A run's inventory as read for a change, and the version it was read at."""

    key: RunKey
    inventory: RunInventory
    version: int


class ChangeContext(Protocol):
    """What the parts of the change service read, at each call (a test may swap the store)."""

    store: ChangeStore
    orders: OrderService
    allocator: Allocator
    clock: Clock
    providers: Mapping[str, PaymentProvider]
    ladder: RefundLadder
    rules: SaleRules
    credit_limit_fen: int
    conflict: type[Exception]
    retries: int
    settlement: Settlement | None
    book: ChangeBook | None
    payment_channels: PaymentChannels


class ChangePart:
    """One responsibility of the change service, on the service's shared context."""

    def __init__(self, context: ChangeContext) -> None:
        self.context = context

    def load(self, key: RunKey) -> HeldRun:
        """The run's inventory as stored now (derived from the composition if never sold)."""
        stored = self.context.store.claim(key, 0)[0]
        version = 0 if stored is None else stored.version
        state = None if stored is None else stored.state
        return HeldRun(key, self.context.allocator.inventory(key, state), version)

    def publish(self, written: Sequence[StoredState]) -> None:
        """Tell the read model (and the waiters) about inventories just written."""
        for state in written:
            self.context.allocator.read_model.apply(state)
        self.context.allocator.on_change()

    def allocation_of(self, record: OrderRecord, ticket: Ticket) -> Allocation:
        """What ``ticket`` holds in its run's inventory (see ``ticket_hold``)."""
        return ticket_hold(self.context.allocator, record, ticket)[1]


def changeable(record: OrderRecord, ticket_number: str) -> Ticket:
    """The ticket, if it may still be changed; ``already_changed`` once it (or the ticket it
    came from) was changed."""
    ticket = record.order.ticket(ticket_number)
    refuse_if_used(ticket)
    if ticket.state is TicketState.CHANGED or (
        ticket.state is TicketState.ISSUED and ticket.changes >= 1
    ):
        raise ChangeRefused("ticket", "already_changed", "a ticket can be changed only once")
    if ticket.state is not TicketState.ISSUED:
        raise DomainError("state", "bad_state", f"ticket {ticket.number} is {ticket.state}")
    return ticket
