"""Refunding tickets and sending money back: ``refund`` one ticket or ``refund_order`` a whole
order (fee ladder, seats back on sale, ledger, one transaction), then the money back through
the trades that took it (``domain.refund_split``; the order's own trade and its changes'),
each request with its own refund number; what the channel cannot take now is retried
(``sales.services.refund_retry``), what no trade can cover is left failed for an operator."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from open12306.accounts.ports import Account
from open12306.inventory.domain import RunInventory
from open12306.payments.ports import (
    PaymentFlow,
)
from open12306.sales.domain import (
    OrderState,
    Ticket,
    TicketState,
    ledger,
    refund_ticket,
)
from open12306.sales.domain.refund_split import Trade, lineage, split_refund
from open12306.sales.domain.refunds import RefundQuote
from open12306.sales.domain.tickets import refuse_if_used
from open12306.sales.ports import (
    MultiRunStore,
    OrderRecord,
    PaymentRecordState,
    PendingRefund,
    PendingState,
    RefundBook,
)
from open12306.sales.services.allocator import ticket_hold
from open12306.sales.services.checkout_model import (
    ChannelUnavailable,
    OrderRefund,
    PaymentRefused,
    SettlementPart,
)
from open12306.shared.errors import NotFound
from open12306.shared.run_key import RunKey

log = logging.getLogger("open12306.settlement")


class SettlementRefunds(SettlementPart):
    """Refunds of tickets and orders, and the trades the money goes back through."""

    def refund(self, account: Account, number: str, ticket_number: str) -> RefundQuote:
        """Refund one ticket of the account's paid order; the quote says fee and refund."""
        record = self.context.orders.get(account, number)
        ticket = record.order.ticket(ticket_number)
        refuse_if_used(ticket)
        self.check_returnable(number)
        key, held = ticket_hold(self.context.allocator, record, ticket)
        made: list[RefundQuote] = []
        pending: list[ledger.Entry] = []

        def work(inventory: RunInventory, now: datetime) -> list[OrderRecord]:
            fresh = self.context.store.get(number)
            if fresh is None:
                return []
            order, quote = refund_ticket(fresh.order, ticket_number, now, self.context.ladder)
            inventory.release(held)
            made[:] = [quote]
            pending[:] = ledger.refund_entries(ticket, quote, now, f"{ticket_number}-refund")
            return [dataclasses.replace(fresh, order=order)]

        self.context.allocator.with_inventory(key, work, lambda: pending)
        quote = made[0]
        self.send_refund(number, f"{ticket_number}R", quote.refund_fen, [ticket_number])
        return quote

    def refund_order(self, account: Account, number: str) -> OrderRefund:
        """Refund every issued ticket of the account's paid order in one transaction (each
        with its own ladder fee, every seat back on sale), then one channel refund."""
        record = self.context.orders.get(account, number)
        if record.order.state is not OrderState.PAID:
            raise PaymentRefused(
                "order", "not_refundable", f"order {number} is {record.order.state}"
            )
        if not _issued(record):
            raise PaymentRefused("order", "nothing_to_refund", "no ticket left to refund")
        self.check_returnable(number)
        store = self._multi_run_store()
        for _ in range(self.context.retries):
            try:
                quotes = self._refund_all_once(store, number)
            except self.context.conflict:
                continue
            break
        else:
            raise RuntimeError(f"order {number}: too many concurrent writers")
        total = sum(q.refund_fen for _, q in quotes)
        base = f"{number}RA"
        sent = self.send_refund(number, base, total, [t for t, _ in quotes])
        first = base if base in sent else next(iter(sent), None)
        return OrderRefund(number, tuple(quotes), first, sent)

    def _refund_all_once(self, store: MultiRunStore, number: str) -> list[tuple[str, RefundQuote]]:
        fresh = self.context.store.get(number)
        if fresh is None:
            raise NotFound("order", "not_found", f"no order {number}")
        tickets = _issued(fresh)
        if not tickets:
            raise PaymentRefused("order", "nothing_to_refund", "no ticket left to refund")
        now = self.context.clock.now()
        runs: dict[RunKey, tuple[RunInventory, int]] = {}
        order = fresh.order
        quotes: list[tuple[str, RefundQuote]] = []
        entries: list[ledger.Entry] = []
        for ticket in tickets:
            key, held = ticket_hold(self.context.allocator, fresh, ticket)
            if key not in runs:
                stored = self.context.store.claim(key, 0)[0]
                runs[key] = (
                    self.context.allocator.inventory(key, None if stored is None else stored.state),
                    0 if stored is None else stored.version,
                )
            order, quote = refund_ticket(order, ticket.number, now, self.context.ladder)
            runs[key][0].release(held)
            quotes.append((ticket.number, quote))
            entries.extend(ledger.refund_entries(ticket, quote, now, f"{ticket.number}-refund"))
        _, written = store.write_runs(
            [dataclasses.replace(fresh, order=order)],
            now,
            inventories=[(key, inv.encode(), version) for key, (inv, version) in runs.items()],
            entries=entries,
        )
        for state in written:
            self.context.allocator.read_model.apply(state)
        self.context.allocator.on_change()
        return quotes

    def check_returnable(self, number: str) -> None:
        """Refuse, before anything is written, a refund whose money could not go back: a
        trade of the order went through a channel this process has no provider for."""
        for trade in self.trades_of(number):
            if self.context.payment_channels.get(trade.channel) is None:
                raise ChannelUnavailable(
                    "channel",
                    "channel_unavailable",
                    f"order {number} was paid through {trade.channel}, which is not configured "
                    f"here: refund it where {trade.channel} is configured (the server)",
                )

    def _multi_run_store(self) -> MultiRunStore:
        if not hasattr(self.context.store, "write_runs"):
            raise TypeError("the orders store cannot write several runs in one transaction")
        return cast(MultiRunStore, self.context.store)

    def paying_channel(self, number: str) -> str | None:
        """The channel whose payment paid order ``number`` (None before it is paid)."""
        return self._paid_channel(number)

    def _paid_channel(self, number: str) -> str | None:
        for found in self.own_payments(number):
            if found.state is PaymentRecordState.SUCCEEDED:
                return found.channel
        return None

    def trades_of(self, number: str) -> list[Trade]:
        """Every trade that took money for order ``number`` (its own payment, credit-line and
        channel payments of changes), each with what was already refunded from it."""
        record = self.context.store.get(number)
        if record is None:
            return []
        found: list[Trade] = [
            Trade(paid.channel, number, paid.amount_fen, 0, paid.created_at)
            for paid in self.own_payments(number)
            if paid.state is PaymentRecordState.SUCCEEDED
        ]
        # a change paid at once (on the credit line) is its ticket's own payment
        at_once = [
            name
            for name, p in self.context.payment_channels.items()
            if p.flow is PaymentFlow.AT_ONCE
        ]
        for ticket in record.order.tickets:
            for channel in at_once:
                paid = self.context.store.payment(f"{channel}:{ticket.number}")
                if paid is not None and paid.state is PaymentRecordState.SUCCEEDED:
                    at = paid.created_at
                    found.append(
                        Trade(channel, ticket.number, paid.amount_fen, 0, at, ticket.number)
                    )
        for source in self.context.trade_sources:
            found.extend(source(number))
        drawn = self._drawn(number)
        return [
            dataclasses.replace(t, refunded_fen=drawn.get((t.channel, t.trade_no), 0))
            for t in found
        ]

    def refunds_of(self, number: str) -> list[PendingRefund]:
        """The channel refunds recorded for order ``number`` (none without a refund book)."""
        book = self._refund_book()
        return [] if book is None else book.refunds_for_order(number)

    def _refund_book(self) -> RefundBook | None:
        queue = None if self.context.refund_retry is None else self.context.refund_retry.queue
        if queue is None or not hasattr(queue, "refunds_for_order"):
            return None
        return cast(RefundBook, queue)

    def _drawn(self, number: str) -> dict[tuple[str, str], int]:
        """Fen refunded (or on its way back) per (channel, trade); refused ones moved nothing."""
        drawn: dict[tuple[str, str], int] = {}
        for refund in self.refunds_of(number):
            if refund.state is not PendingState.FAILED:
                key = (refund.channel, refund.trade_no)
                drawn[key] = drawn.get(key, 0) + refund.amount_fen
        return drawn

    def send_refund(
        self, number: str, base_no: str, amount_fen: int, tickets: Sequence[str]
    ) -> tuple[str, ...]:
        """Send ``amount_fen`` back for ``tickets`` of order ``number``, split across the
        trades that took the money; the refund numbers used (``base_no`` against the order's
        own trade, ``{base_no}-{trade}`` against another). Sent once: a second call with the
        same ``base_no`` sends nothing new. What no trade can cover is recorded ``failed``
        (``exceeds_payments``) for an operator."""
        if amount_fen <= 0:
            return ()
        earlier = [
            r.refund_no
            for r in self.refunds_of(number)
            if r.refund_no == base_no or r.refund_no.startswith(f"{base_no}-")
        ]
        if earlier:
            return tuple(earlier)
        record = self.context.store.get(number)
        if record is None:
            raise NotFound("order", "not_found", f"no order {number}")
        plan = split_refund(
            amount_fen, self.trades_of(number), lineage(record.order.tickets, tickets)
        )
        sent: list[str] = []
        for draw in plan.draws:
            refund_no = base_no if draw.trade_no == number else f"{base_no}-{draw.trade_no}"
            self._refund_through(
                draw.channel, number, refund_no, draw.amount_fen, draw.total_fen, draw.trade_no
            )
            sent.append(refund_no)
        if plan.shortfall_fen:
            self._shortfall(number, f"{base_no}-short", plan.shortfall_fen)
        return tuple(sent)

    def _unreturnable(
        self,
        channel: str,
        number: str,
        trade: str,
        refund_no: str,
        amount_fen: int,
        total_fen: int,
    ) -> None:
        log.error("refund %s of %s: no %s provider here to return it", refund_no, number, channel)
        error = f"no_provider: {channel} is not configured where this ran"
        self._failed_refund(
            PendingRefund(
                refund_no,
                number,
                trade,
                channel,
                amount_fen,
                total_fen,
                self.context.clock.now(),
                self.context.clock.now(),
            ),
            error,
        )

    def _shortfall(self, number: str, refund_no: str, amount_fen: int) -> None:
        log.error(
            "order %s: refund of %s fen more than its trades can return; an operator must look",
            number,
            amount_fen,
        )
        channel = self._paid_channel(number) or "none"
        now = self.context.clock.now()
        refund = PendingRefund(refund_no, number, number, channel, amount_fen, amount_fen, now, now)
        self._failed_refund(
            refund, "exceeds_payments: no trade of the order has this much left to refund"
        )

    def _failed_refund(self, refund: PendingRefund, error: str) -> None:
        """Record a refund that cannot move money as failed, for an operator to look at."""
        if self.context.refund_retry is not None:
            failed = dataclasses.replace(refund, state=PendingState.FAILED, last_error=error)
            self.context.refund_retry.queue.save_refund(failed)

    def refund_through(
        self,
        channel: str,
        number: str,
        refund_no: str,
        amount_fen: int,
        total_fen: int,
        trade_no: str | None = None,
    ) -> bool:
        """Send money back through ``channel`` for our trade ``trade_no`` (default: the order's
        own); kept for retry when the channel fails. Whether the channel confirmed it now."""
        return self._refund_through(channel, number, refund_no, amount_fen, total_fen, trade_no)

    def _refund_through(
        self,
        channel: str,
        number: str,
        refund_no: str,
        amount_fen: int,
        total_fen: int,
        trade_no: str | None = None,
    ) -> bool:
        provider = self.context.payment_channels.get(channel)
        trade = trade_no or number
        if provider is not None and provider.flow is PaymentFlow.AT_ONCE:
            # our own books (the credit line): nothing leaves here, the ledger entry is the
            # refund; recorded for the split
            if self.context.refund_retry is not None:
                self.context.refund_retry.record_done(
                    channel, number, trade, refund_no, amount_fen, total_fen
                )
            return True
        if provider is None:
            # refunds check for this first (check_returnable); a channel gone since is an
            # operator's to return, never a refund done
            self._unreturnable(channel, number, trade, refund_no, amount_fen, total_fen)
            return False
        if self.context.refund_retry is not None:
            return self.context.refund_retry.submit(
                channel, number, trade, refund_no, amount_fen, total_fen
            )
        try:
            provider.refund(trade, refund_no, amount_fen, total_fen)
        except Exception:
            log.exception(
                "refund %s of %s via %s failed; retry from the ledger", refund_no, number, channel
            )
            return False
        return True


def _issued(record: OrderRecord) -> list[Ticket]:
    return [t for t in record.order.tickets if t.state is TicketState.ISSUED]
