"""Money movements of orders, in integer fen, and the balance invariant (DESIGN §4, 4).

Three kinds of entry, all positive amounts:

* ``payment``: money the rider paid (an order, or the difference on a dearer change);
* ``refund``: money paid back (a refunded ticket less its fee, a cheaper change less its fee,
  a payment that arrived after its order expired);
* ``fee``: the part of a refunded amount the railway keeps.

For every order, and so in total: payments = fares of live tickets + fees + refunds, where
a live ticket is issued or used; refunded and changed tickets count nothing (a refund splits
the fare into refund + fee, a change moves it to the new ticket). And every channel trade is
booked in once: a trade that paid an order and was also returned whole shows as its payment
booked twice (the sums alone balance then, with the money gone back and the order paid).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from open12306.sales.domain.refunds import ChangeQuote, RefundQuote
from open12306.sales.domain.tickets import Ticket
from open12306.shared.errors import DomainError


class EntryKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    FEE = "fee"


@dataclass(frozen=True, slots=True)
class Entry:
    """One movement of money for an order. ``ticket_number`` names the ticket it concerns,
    when one does; ``reference`` is the provider's trade or refund id, for idempotency."""

    order_number: str
    kind: EntryKind
    amount_fen: int
    at: datetime
    ticket_number: str | None = None
    reference: str = ""

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise DomainError("amount", "not_positive", "ledger amounts are positive fen")


@dataclass(frozen=True, slots=True)
class Violation:
    """An order (or ``*`` for the total) whose money does not balance (``unbalanced``), or
    whose trade ``reference`` was booked in more than once (``trade_booked_twice``)."""

    order_number: str
    payments_fen: int
    tickets_fen: int
    fees_fen: int
    refunds_fen: int
    reason: str = "unbalanced"
    reference: str = ""

    @property
    def difference_fen(self) -> int:
        """Payments minus what they should equal; positive: money unaccounted for."""
        return self.payments_fen - self.tickets_fen - self.fees_fen - self.refunds_fen


TOTAL = "*"


@dataclass(frozen=True, slots=True)
class Totals:
    """What an order's ledger says moved: taken from the rider (the order, dearer changes,
    money that came back out), given back (refunds, returned payments) and fees kept."""

    paid_fen: int = 0
    refunded_fen: int = 0
    fee_fen: int = 0

    @property
    def kept_fen(self) -> int:
        """What the railway holds of the rider's money now."""
        return self.paid_fen - self.refunded_fen


def totals(entries: Iterable[Entry]) -> Totals:
    """The sums of ``entries`` by kind."""
    sums = {kind: 0 for kind in EntryKind}
    for entry in entries:
        sums[entry.kind] += entry.amount_fen
    return Totals(sums[EntryKind.PAYMENT], sums[EntryKind.REFUND], sums[EntryKind.FEE])


def payment(
    order_number: str, amount_fen: int, at: datetime, reference: str = "", ticket: str | None = None
) -> Entry:
    """The rider paid ``amount_fen`` for an order (or for a change of ``ticket``)."""
    return Entry(order_number, EntryKind.PAYMENT, amount_fen, at, ticket, reference)


def refund_of_payment(
    order_number: str, amount_fen: int, at: datetime, reference: str = ""
) -> Entry:
    """A payment returned whole (it arrived after the order expired or was cancelled)."""
    return Entry(order_number, EntryKind.REFUND, amount_fen, at, None, reference)


def refund_entries(
    ticket: Ticket, quote: RefundQuote, at: datetime, reference: str = ""
) -> tuple[Entry, ...]:
    """The refund and fee of refunding ``ticket`` (zero amounts leave no entry)."""
    return _split(
        ticket.order_number, ticket.number, quote.refund_fen, quote.fee_fen, at, reference
    )


def change_entries(
    old: Ticket, quote: ChangeQuote, at: datetime, reference: str = ""
) -> tuple[Entry, ...]:
    """The money of changing ``old``: a payment of the difference, or its refund and fee."""
    if quote.pay_fen:
        return (payment(old.order_number, quote.pay_fen, at, reference, old.number),)
    return _split(old.order_number, old.number, quote.refund_fen, quote.fee_fen, at, reference)


def _split(
    order: str, ticket: str, refund_fen: int, fee_fen: int, at: datetime, reference: str
) -> tuple[Entry, ...]:
    entries = []
    if refund_fen:
        entries.append(Entry(order, EntryKind.REFUND, refund_fen, at, ticket, reference))
    if fee_fen:
        entries.append(Entry(order, EntryKind.FEE, fee_fen, at, ticket, reference))
    return tuple(entries)


def balance_check(entries: Iterable[Entry], tickets: Iterable[Ticket]) -> list[Violation]:
    """Orders whose payments ≠ live ticket fares + fees + refunds, then the total if it is off;
    then every trade booked in twice for one order.

    Pass every ticket of the orders concerned, including refunded and changed ones.
    """
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    column = {EntryKind.PAYMENT: 0, EntryKind.FEE: 2, EntryKind.REFUND: 3}
    booked: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        sums[entry.order_number][column[entry.kind]] += entry.amount_fen
        if entry.kind is EntryKind.PAYMENT and entry.reference:
            booked[(entry.order_number, entry.reference)] += 1
    for ticket in tickets:
        if ticket.live:
            sums[ticket.order_number][1] += ticket.fare_fen
    violations = [
        Violation(order, *_four(values))
        for order, values in sorted(sums.items())
        if values[0] != values[1] + values[2] + values[3]
    ]
    total = [sum(values[i] for values in sums.values()) for i in range(4)]
    if total[0] != total[1] + total[2] + total[3]:
        violations.append(Violation(TOTAL, *_four(total)))
    for (order, reference), times in sorted(booked.items()):
        if times > 1:
            violations.append(
                Violation(order, *_four(sums[order]), "trade_booked_twice", reference)
            )
    return violations


def _four(values: list[int]) -> tuple[int, int, int, int]:
    return values[0], values[1], values[2], values[3]
