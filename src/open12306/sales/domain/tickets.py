"""Tickets: one passenger's right to ride, and the moves a ticket can make."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from open12306.sales.domain.model import Trip
from open12306.shared.errors import DomainError


class TicketState(StrEnum):
    """``issued`` is the only live state; the others are final."""

    ISSUED = "issued"
    REFUNDED = "refunded"
    CHANGED = "changed"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket of an order. ``passenger`` is the passenger's index in the order.

    ``changes`` counts the changes that led to this ticket (a ticket with ``changes`` ≥ 1
    cannot be changed again); ``changed_from`` names the ticket it replaced.
    ``refund_floor`` is a minimum refund fee rate (basis points) carried over from a change.
    """

    number: str
    order_number: str
    passenger: int
    trip: Trip
    coach: int
    seat_label: str
    fare_fen: int
    state: TicketState = TicketState.ISSUED
    changes: int = 0
    changed_from: str | None = None
    refund_floor: int = 0
    closed_at: datetime | None = None

    @property
    def live(self) -> bool:
        """Still worth its fare: issued, or used (ridden)."""
        return self.state in (TicketState.ISSUED, TicketState.USED)


def bad_state(ticket: Ticket) -> DomainError:
    """The error for a move a ticket in its state cannot make."""
    return DomainError("state", "bad_state", f"ticket {ticket.number} is {ticket.state}")


def _close(ticket: Ticket, state: TicketState, at: datetime) -> Ticket:
    if ticket.state is not TicketState.ISSUED:
        raise bad_state(ticket)
    return dataclasses.replace(ticket, state=state, closed_at=at)


def refund(ticket: Ticket, at: datetime) -> Ticket:
    """issued → refunded."""
    return _close(ticket, TicketState.REFUNDED, at)


def use(ticket: Ticket, at: datetime) -> Ticket:
    """issued → used (the passenger passed the entry gate)."""
    return _close(ticket, TicketState.USED, at)


def mark_changed(ticket: Ticket, at: datetime) -> Ticket:
    """issued → changed; DomainError ``already_changed`` for a ticket that is a change."""
    if ticket.state is TicketState.ISSUED and ticket.changes >= 1:
        raise DomainError("ticket", "already_changed", "a ticket can be changed only once")
    return _close(ticket, TicketState.CHANGED, at)


class TicketUsed(DomainError):
    """A refund or change of a ticket that already passed a gate."""

    status = 409


def refuse_if_used(ticket: Ticket) -> None:
    """Raise ``ticket_used`` for a ticket that passed a gate (call before refund or change)."""
    if ticket.state is TicketState.USED:
        at = "" if ticket.closed_at is None else f" at {ticket.closed_at.isoformat()}"
        raise TicketUsed("ticket", "ticket_used", f"ticket {ticket.number} was used{at}")
