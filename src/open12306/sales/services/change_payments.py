"""A dearer change paid through a channel: the new seat is held (with a ``ChangePayment`` in
``pending``, in one transaction) and the channel prompt returned; the change completes (old
seat released, old ticket ``changed``, new ticket issued, payment in the ledger) when the
payment is confirmed (``confirm_change``, idempotent like order payments). Without payment by
the deadline ``expire_changes`` releases the held seat and the old ticket stays valid; money
that still arrives, or arrives for a ticket that can no longer change, is refunded whole. A
completed change trade is one of the order's trades (``change_trades``)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from open12306.accounts.ports import Account
from open12306.inventory.domain import Allocation
from open12306.payments.ports import (
    PaymentError,
    PaymentFlow,
    PaymentOptions,
    TradeState,
)
from open12306.sales.domain import (
    SeatAssignment,
    Ticket,
    Trip,
    change_ticket,
    ledger,
)
from open12306.sales.domain.refund_split import Trade
from open12306.sales.domain.refunds import ChangeQuote
from open12306.sales.ports import (
    ChangeBook,
    ChangePayment,
    ChangePaymentState,
    OrderRecord,
    PaymentRecord,
    PaymentRecordState,
)
from open12306.sales.services.change_model import (
    ChangePart,
    ChangeRefused,
    HeldRun,
    PendingChange,
    changeable,
)
from open12306.sales.services.checkout import ChannelUnavailable, Outcome, Prompt, Settlement
from open12306.shared.errors import DomainError

log = logging.getLogger("open12306.changes")


class ChangePayments(ChangePart):
    """Holds, prompts, confirms and expires the channel payments of dearer changes."""

    def channel_ready(self, channel: str) -> None:
        """Refuse a channel that cannot take a change's difference here."""
        if self.context.book is None or self.context.settlement is None:
            raise ChangeRefused(
                "channel", "channel_not_supported", "changes are paid by credit here"
            )
        if self.context.settlement.provider_for(channel) is None:
            raise DomainError(
                "channel", "unknown_channel", f"channels: {self.context.settlement.channels()}"
            )

    def check_no_pending(self, ticket_number: str) -> None:
        """Refuse a change of a ticket whose earlier change still awaits its payment."""
        if self.context.book is None:
            return
        self.expire_changes()
        for change in self.context.book.changes_for_ticket(ticket_number):
            if change.state is ChangePaymentState.PENDING:
                raise ChangeRefused(
                    "ticket",
                    "change_pending",
                    f"a change of {ticket_number} awaits payment until {change.deadline}",
                )

    def hold(
        self,
        account: Account,
        record: OrderRecord,
        old: Ticket,
        trip: Trip,
        seat: SeatAssignment,
        amount_fen: int,
        new_run: HeldRun,
        channel: str,
    ) -> ChangePayment:
        """Write the new seat's hold and the change payment awaiting it, in one transaction."""
        book = self._need_book()
        now = self.context.clock.now()
        attempt = len(book.changes_for_ticket(old.number)) + 1
        closing = trip.departs_at - timedelta(minutes=self.context.rules.stop_sale_minutes)
        deadline = min(now + timedelta(minutes=self.context.rules.pay_minutes), closing)
        change = ChangePayment(
            f"{old.number}C{attempt}",
            record.number,
            old.number,
            account.id,
            channel,
            amount_fen,
            ChangePaymentState.PENDING,
            deadline,
            now,
            now,
            trip,
            seat,
            now,
        )
        _, written = book.write_change(
            change,
            None,
            now,
            inventories=[(new_run.key, new_run.inventory.encode(), new_run.version)],
        )
        self.publish(written)
        return change

    def prompt(self, change: ChangePayment, options: PaymentOptions) -> PendingChange:
        """Ask the channel for the difference; a channel failure gives the held seat back. A
        payment code is charged here and then: the change completes at once when it pays."""
        settlement = self._need_settlement()
        provider = settlement.provider_for(change.channel)
        trip = change.trip
        subject = f"{trip.train_code} {trip.from_station}-{trip.to_station} change"
        quote = self._pending_quote(change)
        scanned = provider is not None and provider.flow is PaymentFlow.PAYMENT_CODE
        if scanned and not (options.auth_code or "").strip().isdigit():
            self._release(change, ChangePaymentState.EXPIRED)
            raise DomainError(
                "auth_code", "payment_code_malformed", "a payment code is 16 to 24 digits"
            )
        asked = (
            PaymentOptions(auth_code=options.auth_code)
            if scanned
            else PaymentOptions(
                mode=options.mode, return_url=options.return_url, expires_at=change.deadline
            )
        )
        try:
            if provider is None:
                raise PaymentError(change.channel, "unknown_channel", "no such channel")
            prompt = provider.prepare(change.id, change.amount_fen, subject, asked)
        except PaymentError as exc:
            self._release(change, ChangePaymentState.EXPIRED)
            raise ChannelUnavailable(
                "channel", "channel_unavailable", f"{exc.code}: {exc.message}"
            ) from None
        paid = prompt.status
        if paid is not None and paid.state is TradeState.PAID:
            amount = paid.amount_fen or change.amount_fen
            outcome = self.confirm_change(change.channel, change.id, amount, paid.trade_no or "")
            state = "pending" if outcome is None else outcome.result
            return PendingChange(change, quote, Prompt(change.channel, change.id, state))
        shown = Prompt(change.channel, change.id, "pending", prompt.redirect_url, prompt.qr_content)
        return PendingChange(change, quote, shown)

    def _pending_quote(self, change: ChangePayment) -> ChangeQuote:
        record = self.context.store.get(change.order_number)
        old = None if record is None else record.order.ticket(change.ticket_number)
        old_fare = 0 if old is None else old.fare_fen
        return ChangeQuote(old_fare, change.seat.fare_fen, change.amount_fen, 0, 0, 0)

    def confirm_change(
        self, channel: str, trade_id: str, amount_fen: int, trade_no: str
    ) -> Outcome | None:
        """Apply a channel's payment for a change (None when ``trade_id`` is no change's);
        idempotent: a change completes once, money for one that cannot is refunded whole."""
        if self.context.book is None or self.context.book.change_payment(trade_id) is None:
            return None
        for _ in range(self.context.retries):
            try:
                return self._confirm_change_once(trade_id, amount_fen, trade_no)
            except self.context.conflict:
                continue
        raise RuntimeError(f"change {trade_id}: too many concurrent writers")

    def _confirm_change_once(self, trade_id: str, amount_fen: int, trade_no: str) -> Outcome:
        book = self._need_book()
        change = book.change_payment(trade_id)
        assert change is not None
        if change.state in (ChangePaymentState.COMPLETED, ChangePaymentState.RETURNED):
            return Outcome("duplicate", self.context.store.get(change.order_number))
        now = self.context.clock.now()
        fresh = self.context.store.get(change.order_number)
        payment = PaymentRecord(
            f"{change.channel}:{change.id}",
            change.order_number,
            change.account_id,
            change.channel,
            amount_fen,
            PaymentRecordState.SUCCEEDED,
            now,
            now,
            trade_no,
        )
        if (
            fresh is not None
            and change.state is ChangePaymentState.PENDING
            and now < change.deadline
            and amount_fen == change.amount_fen
        ):
            done = self._complete(change, fresh, payment, now)
            if done is not None:
                return done
        return self._return(change, payment, now)

    def _complete(
        self, change: ChangePayment, fresh: OrderRecord, payment: PaymentRecord, now: datetime
    ) -> Outcome | None:
        """The change, now paid: old seat released, tickets swapped, payment booked."""
        book = self._need_book()
        try:
            old = changeable(fresh, change.ticket_number)
            order, quote = change_ticket(
                fresh.order,
                change.ticket_number,
                change.trip,
                change.seat,
                change.requested_at,
                self.context.ladder,
            )
        except DomainError:
            return None
        if quote.pay_fen != change.amount_fen:
            return None
        old_run = self.load((old.trip.train_code, old.trip.service_date))
        old_run.inventory.release(self.allocation_of(fresh, old))
        done = dataclasses.replace(
            change,
            state=ChangePaymentState.COMPLETED,
            updated_at=now,
            provider_trade_no=payment.provider_trade_no,
        )
        saved, written = book.write_change(
            done,
            ChangePaymentState.PENDING,
            now,
            records=[dataclasses.replace(fresh, order=order)],
            inventories=[(old_run.key, old_run.inventory.encode(), old_run.version)],
            entries=ledger.change_entries(old, quote, now, change.id),
            payments=[payment],
        )
        self.publish(written)
        return Outcome("paid", saved[0])

    def _return(self, change: ChangePayment, payment: PaymentRecord, now: datetime) -> Outcome:
        """Money for a change that cannot complete: book it, give the seat back, refund it."""
        book = self._need_book()
        inventories = []
        if change.state is ChangePaymentState.PENDING:
            run = self._held_released(change)
            inventories = [(run.key, run.inventory.encode(), run.version)]
        amount = payment.amount_fen
        reference = payment.provider_trade_no or change.id
        entries = [
            ledger.payment(change.order_number, amount, now, reference, change.ticket_number),
            ledger.refund_of_payment(change.order_number, amount, now, reference),
        ]
        returned = dataclasses.replace(
            change,
            state=ChangePaymentState.RETURNED,
            updated_at=now,
            provider_trade_no=payment.provider_trade_no,
        )
        _, written = book.write_change(
            returned,
            change.state,
            now,
            inventories=inventories,
            entries=entries,
            payments=[dataclasses.replace(payment, state=PaymentRecordState.RETURNED)],
        )
        self.publish(written)
        log.warning("change %s paid but cannot complete (%s): refunding", change.id, change.state)
        self._need_settlement().refund_through(
            change.channel, change.order_number, f"{change.id}R0", amount, amount, change.id
        )
        return Outcome("refunded", self.context.store.get(change.order_number))

    def expire_changes(self, limit: int = 100) -> int:
        """Release the seats of change payments past their deadline (the sweeper); the old
        tickets stay valid. How many were expired."""
        if self.context.book is None:
            return 0
        expired = 0
        for change in self.context.book.overdue_changes(self.context.clock.now(), limit):
            for _ in range(self.context.retries):
                try:
                    self._release(change, ChangePaymentState.EXPIRED)
                except self.context.conflict:
                    found = self.context.book.change_payment(change.id)
                    if found is None or found.state is not ChangePaymentState.PENDING:
                        break
                    change = found
                    continue
                expired += 1
                self._close_trade(change)
                break
        return expired

    def _release(self, change: ChangePayment, state: ChangePaymentState) -> None:
        book = self._need_book()
        now = self.context.clock.now()
        run = self._held_released(change)
        _, written = book.write_change(
            dataclasses.replace(change, state=state, updated_at=now),
            ChangePaymentState.PENDING,
            now,
            inventories=[(run.key, run.inventory.encode(), run.version)],
        )
        self.publish(written)

    def _held_released(self, change: ChangePayment) -> HeldRun:
        trip = change.trip
        run = self.load((trip.train_code, trip.service_date))
        held = Allocation(
            trip.seat_class, trip.from_stop, trip.to_stop, (change.seat.seat_index,), None
        )
        run.inventory.release(held)
        return run

    def _close_trade(self, change: ChangePayment) -> None:
        provider = (
            None
            if self.context.settlement is None
            else self.context.settlement.provider_for(change.channel)
        )
        if provider is None:
            return
        try:
            provider.close(change.id)
        except Exception:
            log.warning("closing change trade %s failed; a late payment is refunded", change.id)

    def change_trades(self, order_number: str) -> list[Trade]:
        """The channel trades that paid completed changes of the order (refunded from, later,
        like the order's own trade)."""
        if self.context.book is None:
            return []
        return [
            Trade(c.channel, c.id, c.amount_fen, 0, c.updated_at, c.ticket_number)
            for c in self.context.book.changes_for_order(order_number)
            if c.state is ChangePaymentState.COMPLETED
        ]

    def _need_book(self) -> ChangeBook:
        if self.context.book is None:
            raise ChangeRefused("channel", "channel_not_supported", "changes are paid by credit")
        return self.context.book

    def _need_settlement(self) -> Settlement:
        if self.context.settlement is None:
            raise ChangeRefused("channel", "channel_not_supported", "changes are paid by credit")
        return self.context.settlement
