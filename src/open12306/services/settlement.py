"""Paying for orders and refunding tickets: the money side of the order path.

* ``start`` begins a payment through a channel and returns what to show the rider. The
  ``credit`` channel (our own credit line, "ride now, pay later") confirms at once while the
  account's standing credit payments stay within its limit.
* ``notify`` takes a channel's asynchronous notification, verified by the provider, and
  ``confirm``s it. Confirming is idempotent: a payment already applied changes nothing; only
  the exact amount pays an order; money that arrives for an order that is no longer payable
  (expired, cancelled, failed, or paid through another trade) is recorded and refunded whole.
* ``refund`` refunds one ticket with the fee ladder, puts its seat back on sale and writes the
  refund and fee to the ledger, all in one transaction; the money then goes back through the
  channel that took it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from open12306.domain import ledger
from open12306.domain.errors import DomainError, NotFound
from open12306.domain.inventory import RunInventory
from open12306.domain.orders import OrderState, is_overdue, pay, refund_ticket
from open12306.domain.refunds import DEFAULT_LADDER, RefundLadder, RefundQuote
from open12306.services.allocator import Allocator, ticket_hold
from open12306.services.orders import OrderService
from open12306.services.payments_port import (
    NotificationKind,
    PaymentOptions,
    PaymentProvider,
)
from open12306.services.payments_port import PaymentState as ChannelState
from open12306.services.ports import Clock
from open12306.services.ports_accounts import Account
from open12306.services.ports_orders import OrderRecord, OrdersStore, PaymentRecord, PaymentState

log = logging.getLogger("open12306.settlement")
CREDIT = "credit"
DEFAULT_CREDIT_LIMIT_FEN = 200_000  # 2,000 yuan; see docs: the credit line


class PaymentRefused(DomainError):
    status = 409


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the rider is shown to pay: a redirect, a QR code, or nothing (already paid)."""

    channel: str
    payment_id: str
    state: str
    redirect_url: str | None = None
    qr_content: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What confirming a payment did: ``paid``, ``duplicate``, ``refunded`` or ``ignored``."""

    result: str
    order: OrderRecord | None = None


class Settlement:
    """Payments and refunds of orders."""

    def __init__(
        self,
        store: OrdersStore,
        orders: OrderService,
        allocator: Allocator,
        clock: Clock,
        providers: Mapping[str, PaymentProvider],
        *,
        ladder: RefundLadder = DEFAULT_LADDER,
        credit_limit_fen: int = DEFAULT_CREDIT_LIMIT_FEN,
        conflict: type[Exception] = Exception,
        retries: int = 20,
    ) -> None:
        self.store = store
        self.orders = orders
        self.allocator = allocator
        self.clock = clock
        self.providers = dict(providers)
        self.ladder = ladder
        self.credit_limit_fen = credit_limit_fen
        self.conflict = conflict
        self.retries = retries

    def channels(self) -> list[str]:
        return [CREDIT, *sorted(self.providers)]

    # --- paying ----------------------------------------------------------------------------

    def start(
        self, account: Account, number: str, channel: str, options: PaymentOptions | None = None
    ) -> Prompt:
        record = self.orders.get(account, number)
        order = record.order
        if order.state is not OrderState.HELD:
            raise PaymentRefused("order", "not_payable", f"order {number} is {order.state}")
        payment_id = f"{channel}:{number}"
        if channel == CREDIT:
            used = self.store.credit_used(account.id)
            if used + order.total_fen > self.credit_limit_fen:
                raise PaymentRefused(
                    "channel", "credit_limit", "the order is above your remaining credit"
                )
            self._record_payment(payment_id, record, channel, None)
            outcome = self.confirm(channel, number, order.total_fen, payment_id)
            return Prompt(channel, payment_id, outcome.result)
        provider = self.providers.get(channel)
        if provider is None:
            raise DomainError("channel", "unknown_channel", f"channels: {self.channels()}")
        options = options or PaymentOptions(expires_at=order.pay_deadline)
        subject = f"{order.trip.train_code} {order.trip.from_station}-{order.trip.to_station}"
        prompt = provider.prepare(number, order.total_fen, subject, options)
        self._record_payment(payment_id, record, channel, None)
        return Prompt(channel, payment_id, "pending", prompt.redirect_url, prompt.qr_content)

    def _record_payment(
        self, payment_id: str, record: OrderRecord, channel: str, trade_no: str | None
    ) -> None:
        if self.store.payment(payment_id) is not None:
            return
        now = self.clock.now()
        self.store.save_payment(
            PaymentRecord(
                payment_id,
                record.number,
                record.order.account,
                channel,
                record.order.total_fen,
                PaymentState.CREATED,
                now,
                now,
                trade_no,
            )
        )

    def notify(self, channel: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Verify and apply a channel notification (raises NotificationRejected if forged)."""
        provider = self.providers.get(channel)
        if provider is None:
            raise NotFound("channel", "unknown_channel", f"no channel {channel!r}")
        note = provider.parse_notification(headers, body)
        if note.kind is not NotificationKind.PAYMENT or note.state is not ChannelState.PAID:
            return Outcome("ignored")
        return self.confirm(channel, note.order_no, note.amount_fen, note.trade_no)

    def confirm(self, channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome:
        """Apply money received for order ``number``; idempotent per (channel, order)."""
        for _ in range(self.retries):
            try:
                return self._confirm_once(channel, number, amount_fen, trade_no)
            except self.conflict:
                continue
        raise RuntimeError(f"order {number}: too many concurrent writers")

    def _confirm_once(self, channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome:
        payment_id = f"{channel}:{number}"
        known = self.store.payment(payment_id)
        if known is not None and known.state is not PaymentState.CREATED:
            return Outcome("duplicate", self.store.get(number))
        record = self.store.get(number)
        if record is None:
            log.warning("payment for unknown order %s via %s", number, channel)
            return Outcome("ignored")
        record = self.allocator.expire_if_overdue(record)
        now = self.clock.now()
        order = record.order
        payable = (
            order.state is OrderState.HELD
            and not is_overdue(order, now)
            and amount_fen == order.total_fen
        )
        base = known or PaymentRecord(
            payment_id, number, order.account, channel, amount_fen, PaymentState.CREATED, now, now
        )
        paid_in = ledger.payment(number, amount_fen, now, trade_no)
        if payable:
            paid = dataclasses.replace(record, order=pay(order, amount_fen, now))
            payment = dataclasses.replace(
                base,
                state=PaymentState.SUCCEEDED,
                amount_fen=amount_fen,
                provider_trade_no=trade_no,
                updated_at=now,
            )
            saved, _ = self.store.write([paid], now, entries=[paid_in], payments=[payment])
            return Outcome("paid", saved[0])
        returned = dataclasses.replace(
            base,
            state=PaymentState.RETURNED,
            amount_fen=amount_fen,
            provider_trade_no=trade_no,
            updated_at=now,
        )
        back = ledger.refund_of_payment(number, amount_fen, now, trade_no)
        self.store.write([], now, entries=[paid_in, back], payments=[returned])
        log.warning("order %s not payable (%s, %s fen): refunding", number, order.state, amount_fen)
        self._refund_through(channel, number, f"{number}R0", amount_fen, amount_fen)
        return Outcome("refunded", record)

    # --- refunds ---------------------------------------------------------------------------

    def refund(self, account: Account, number: str, ticket_number: str) -> RefundQuote:
        """Refund one ticket of the account's paid order; the quote says fee and refund."""
        record = self.orders.get(account, number)
        ticket = record.order.ticket(ticket_number)
        key, held = ticket_hold(self.allocator, record, ticket)
        made: list[RefundQuote] = []
        pending: list[ledger.Entry] = []

        def work(inventory: RunInventory, now: datetime) -> list[OrderRecord]:
            fresh = self.store.get(number)
            if fresh is None:
                return []
            order, quote = refund_ticket(fresh.order, ticket_number, now, self.ladder)
            inventory.release(held)
            made[:] = [quote]
            pending[:] = ledger.refund_entries(ticket, quote, now, f"{ticket_number}-refund")
            return [dataclasses.replace(fresh, order=order)]

        self.allocator.with_inventory(key, work, lambda: pending)
        quote = made[0]
        channel = self._paid_channel(number)
        if quote.refund_fen and channel is not None:
            self._refund_through(
                channel, number, f"{ticket_number}R", quote.refund_fen, record.order.total_fen
            )
        return quote

    def _paid_channel(self, number: str) -> str | None:
        for channel in self.channels():
            found = self.store.payment(f"{channel}:{number}")
            if found is not None and found.state is PaymentState.SUCCEEDED:
                return channel
        return None

    def _refund_through(
        self, channel: str, number: str, refund_no: str, amount_fen: int, total_fen: int
    ) -> None:
        provider = self.providers.get(channel)
        if provider is None:
            return  # the credit line: nothing leaves, the ledger entry is the refund
        try:
            provider.refund(number, refund_no, amount_fen, total_fen)
        except Exception:
            log.exception(
                "refund %s of %s via %s failed; retry from the ledger", refund_no, number, channel
            )
