"""Splitting a refund across the trades that took an order's money.

An order's money can come in through several trades: the order's own payment (our trade
number at the channel is the order number), and one trade per dearer change paid on its own
(``sales.services.changes``: trade ``{ticket}C{n}``), each through a channel or the credit line. A
channel refunds a trade only up to what that trade took, less what was already refunded from
it (Alipay answers more with ``ACQ.REASON_TRADE_REFUND_FEE_ERR``, WeChat Pay with
``INVALID_REQUEST``). So a refund is drawn from the trades, each draw at most what is left of
its trade, in this order:

1. the change trades of the tickets being refunded (their own lineage), newest first: the
   last money a ticket took is the first to go back;
2. the order's own trade;
3. any other trade of the order, newest first (only when 1 and 2 are spent, e.g. after a
   refund that the books could not tie to a ticket).

What no trade can cover is the ``shortfall_fen`` of the plan: the books would send back more
than came in, which an operator must look at.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from open12306.sales.domain.tickets import Ticket
from open12306.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class Trade:
    """One payment that took money for an order. ``trade_no`` is our trade number at the
    channel; ``ticket`` is the ticket whose change it paid (None: the order's own trade)."""

    channel: str
    trade_no: str
    paid_fen: int
    refunded_fen: int
    at: datetime
    ticket: str | None = None

    @property
    def left_fen(self) -> int:
        """What can still be refunded from this trade."""
        return max(self.paid_fen - self.refunded_fen, 0)


@dataclass(frozen=True, slots=True)
class Draw:
    """One refund request against one trade: ``amount_fen`` of its ``total_fen``."""

    channel: str
    trade_no: str
    amount_fen: int
    total_fen: int


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """The draws of one refund, in the order they are sent, and what none could cover."""

    draws: tuple[Draw, ...]
    shortfall_fen: int

    @property
    def drawn_fen(self) -> int:
        return sum(d.amount_fen for d in self.draws)


def lineage(tickets: Iterable[Ticket], numbers: Iterable[str]) -> frozenset[str]:
    """The ticket numbers ``numbers`` and every ticket they replaced through changes."""
    replaced = {t.number: t.changed_from for t in tickets}
    found: set[str] = set()
    for number in numbers:
        current: str | None = number
        while current is not None and current not in found:
            found.add(current)
            current = replaced.get(current)
    return frozenset(found)


def draw_order(trades: Sequence[Trade], tickets: Collection[str]) -> list[Trade]:
    """The trades in the order a refund draws on them (see the module doc)."""
    own = [t for t in trades if t.ticket is not None and t.ticket in tickets]
    order = [t for t in trades if t.ticket is None]
    other = [t for t in trades if t.ticket is not None and t.ticket not in tickets]

    def newest_first(group: list[Trade]) -> list[Trade]:
        return sorted(group, key=lambda t: (t.at, t.trade_no), reverse=True)

    return newest_first(own) + newest_first(order) + newest_first(other)


def split_refund(
    amount_fen: int, trades: Sequence[Trade], tickets: Collection[str] = ()
) -> RefundPlan:
    """Draw ``amount_fen`` from ``trades`` for a refund of ``tickets`` (their lineage)."""
    if amount_fen < 0:
        raise DomainError("amount", "negative", "a refund amount cannot be negative")
    keys = [(t.channel, t.trade_no) for t in trades]
    if len(set(keys)) != len(keys):
        raise DomainError("trades", "duplicate_trade", "each trade is listed once")
    left = amount_fen
    draws: list[Draw] = []
    for trade in draw_order(trades, tickets):
        if left == 0:
            break
        take = min(left, trade.left_fen)
        if take:
            draws.append(Draw(trade.channel, trade.trade_no, take, trade.paid_fen))
            left -= take
    return RefundPlan(tuple(draws), left)
