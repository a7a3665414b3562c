"""Applying a ticket change in one transaction: the new seat is allocated on the new run's
inventory *then* the old one released (on the same inventory when the run does not change),
so a rider is never left without a seat; the old ticket becomes ``changed`` and a new one is
issued; a dearer change is paid at once on the credit line, or held for a channel
(``change_payments``); a cheaper one's refund goes back through the order's trades. Ledger
entries, the order and both inventories (each version-checked) are written together, or
nothing is."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from open12306.accounts.ports import Account
from open12306.inventory.domain import Request, RunInventory
from open12306.payments.ports import (
    PaymentDeclined,
    PaymentFlow,
    PaymentOptions,
)
from open12306.payments.services.credit import CREDIT
from open12306.sales.domain import (
    SeatAssignment,
    Ticket,
    Trip,
    change_ticket,
    check_departure,
    ledger,
)
from open12306.sales.domain.refunds import ChangeQuote
from open12306.sales.ports import ChangePayment, OrderRecord, PaymentRecord, PaymentRecordState
from open12306.sales.services.change_model import (
    ChangeContext,
    ChangePart,
    ChangeRefused,
    ChangeResult,
    PendingChange,
    changeable,
)
from open12306.sales.services.change_payments import ChangePayments
from open12306.sales.services.change_planning import ChangePlanning
from open12306.shared.errors import DomainError

log = logging.getLogger("open12306.changes")
# what the rider is told when a provider declines before any money moved
_DECLINED = {"credit_limit": "the fare difference is above your remaining credit"}


class ChangeApplication(ChangePart):
    """The change transaction, on the plan (``planning``) and the channel payments
    (``paying``) of the same service."""

    def __init__(
        self, context: ChangeContext, planning: ChangePlanning, paying: ChangePayments
    ) -> None:
        super().__init__(context)
        self.planning = planning
        self.paying = paying

    def apply(
        self,
        account: Account,
        record: OrderRecord,
        ticket: Ticket,
        trip: Trip,
        channel: str = CREDIT,
        options: PaymentOptions | None = None,
    ) -> ChangeResult | PendingChange:
        """Change ``ticket`` to ``trip`` (retried on a concurrent write): done, or held until
        its difference is paid through ``channel``."""
        self.planning.check_trip(record, ticket, trip, self.context.clock.now())
        if self.context.settlement is not None:
            self.context.settlement.check_returnable(record.number)  # a cheaper change refunds
        if not self._pays_at_once(channel):
            self.paying.channel_ready(channel)
        self.paying.check_no_pending(ticket.number)
        for _ in range(self.context.retries):
            try:
                result = self._attempt(account, record.number, ticket.number, trip, channel)
            except self.context.conflict:
                continue
            if isinstance(result, ChangePayment):
                return self.paying.prompt(result, options or PaymentOptions())
            self._refund_difference(result)
            return result
        raise RuntimeError(f"order {record.number}: too many concurrent writers")

    def _attempt(
        self, account: Account, number: str, ticket_number: str, trip: Trip, channel: str = CREDIT
    ) -> ChangeResult | ChangePayment:
        fresh = self.context.store.get(number)
        if fresh is None:
            raise DomainError("order", "not_found", f"no order {number}")
        old = changeable(fresh, ticket_number)
        now = self.context.clock.now()
        check_departure(trip, now, self.context.rules)
        old_run = self.load((old.trip.train_code, old.trip.service_date))
        new_key = (trip.train_code, trip.service_date)
        new_run = old_run if new_key == old_run.key else self.load(new_key)
        seat = self._secure(new_run.inventory, fresh, old, trip, now)
        order, quote = change_ticket(
            fresh.order, ticket_number, trip, seat, now, self.context.ladder
        )
        if quote.pay_fen and not self._pays_at_once(channel):
            return self.paying.hold(
                account, fresh, old, trip, seat, quote.pay_fen, new_run, channel
            )
        old_run.inventory.release(self.allocation_of(fresh, old))
        payments = self._charge(account, old, quote, now, channel)
        entries = ledger.change_entries(old, quote, now, f"{ticket_number}-change")
        runs = [old_run] if new_run is old_run else [old_run, new_run]
        saved, written = self.context.store.write_runs(
            [dataclasses.replace(fresh, order=order)],
            now,
            inventories=[(r.key, r.inventory.encode(), r.version) for r in runs],
            entries=entries,
            payments=payments,
        )
        self.publish(written)
        changed = saved[0]
        new_ticket = changed.order.tickets[-1]
        payment_id = payments[0].id if payments else None
        return ChangeResult(changed, old, new_ticket, quote, payment_id)

    def _secure(
        self,
        inventory: RunInventory,
        record: OrderRecord,
        old: Ticket,
        trip: Trip,
        now: datetime,
    ) -> SeatAssignment:
        """Take a seat for the passenger on the new trip (no standing), priced for them."""
        minutes = int((trip.departs_at - now).total_seconds() // 60)
        request = Request(trip.seat_class, trip.from_stop, trip.to_stop, party=1)
        allocation = inventory.try_allocate(request, minutes)
        if allocation is None or allocation.seats[0] is None:
            raise ChangeRefused(
                "seat_class", "sold_out", f"no {trip.seat_class.value} seat left on the new trip"
            )
        place = allocation.seats[0]
        seat = self.context.allocator.seats_of(trip.train_code)[place]
        return SeatAssignment(seat.coach, seat.label, self.planning.fare(record, old, trip), place)

    def _pays_at_once(self, channel: str) -> bool:
        """Whether ``channel`` pays in our own books (the credit line): a dearer change is
        then paid in its own transaction, without holding the seat first."""
        provider = self.context.payment_channels.get(channel)
        return provider is not None and provider.flow is PaymentFlow.AT_ONCE

    def _charge(
        self, account: Account, old: Ticket, quote: ChangeQuote, now: datetime, channel: str
    ) -> list[PaymentRecord]:
        """The payment of a dearer change through ``channel``, which pays at once (none for
        a cheaper change)."""
        if not quote.pay_fen:
            return []
        provider = self.context.payment_channels[channel]
        trip = old.trip
        subject = f"{trip.train_code} {trip.from_station}-{trip.to_station} change"
        try:
            prompt = provider.prepare(
                old.number, quote.pay_fen, subject, PaymentOptions(payer=account.id)
            )
        except PaymentDeclined as declined:
            why = _DECLINED.get(declined.code, declined.message)
            raise ChangeRefused("channel", declined.code, why) from None
        paid = prompt.status
        payment_id = f"{provider.name}:{old.number}"
        return [
            PaymentRecord(
                payment_id,
                old.order_number,
                account.id,
                provider.name,
                quote.pay_fen,
                PaymentRecordState.SUCCEEDED,
                now,
                now,
                payment_id if paid is None else paid.trade_no,
            )
        ]

    def _refund_difference(self, result: ChangeResult) -> None:
        """Send a cheaper change's refund back through the trades that paid the order."""
        refund = result.quote.refund_fen
        number = result.record.number
        if not refund:
            return
        refund_no = f"{result.old_ticket.number}C"
        if self.context.settlement is not None:
            self.context.settlement.send_refund(
                number, refund_no, refund, [result.old_ticket.number]
            )
            return
        for channel, provider in self.context.providers.items():
            paid = self.context.store.payment(f"{channel}:{number}")
            if paid is None or paid.state is not PaymentRecordState.SUCCEEDED:
                continue
            try:
                provider.refund(number, refund_no, refund, paid.amount_fen)
            except Exception:
                log.exception(
                    "change refund %s via %s failed; retry from the ledger", refund_no, channel
                )
            return
