"""Paying for orders and refunding tickets: the money side of the order path.

* ``start`` begins a payment through the provider of a channel (``payment_channels``, by name,
  the same port whatever the channel) and returns what to show the rider. The ``credit``
  provider (our own credit line, "ride now, pay later") pays at once while the account's
  standing credit payments stay within its limit, and the payment is confirmed there and then.
* ``notify`` takes a channel's asynchronous notification, verified by the provider, and
  ``confirm``s it. Confirming is idempotent: a payment already applied changes nothing; only
  the exact amount pays an order; money that arrives for an order that is no longer payable
  (expired, cancelled, failed, or paid through another trade) is recorded and refunded whole.
* ``counter``: a station cashier (or conductor) scans the rider's payment code; the counter
  provider charges it through Alipay face-to-face pay (``alipay.trade.pay``, scene
  ``bar_code``) and the order is paid when the call returns, or, when the buyer must confirm
  on the phone (10003), once the notification or a ``check`` says so. The payment is recorded
  before the charge, one scan at a time. A refused code raises ``payment_code_invalid``.
* ``refund`` refunds one ticket with the fee ladder, puts its seat back on sale and writes the
  refund and fee to the ledger, all in one transaction; the money then goes back through the
  trades that took it (``domain.refund_split``): the order's own trade and the trades that
  paid dearer changes (``services.changes``), each refund request against one trade and never
  above what is left of it, the ticket's own change trades first (newest first), then the
  order's trade. ``refund_order`` does so for every live ticket of an order at once. Each
  request has its own refund number (the base number for the order's trade, ``{base}-{trade}``
  for another), so a retry moves money once. A channel refund that fails after the commit is
  kept and retried, or marked failed for an operator (``services.refund_retry``).
* ``cancel`` gives up an unpaid held order: its seats go back on sale at once. After 3 cancels
  in a day the account may order no more that day (the intake checks it: ``too_many_cancels``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from open12306.accounts.ports import Account
from open12306.inventory.domain import RunInventory
from open12306.payments.ports import (
    NotificationKind,
    PaymentDeclined,
    PaymentError,
    PaymentFlow,
    PaymentOptions,
    PaymentProvider,
    TradeState,
)
from open12306.payments.services.channels import PaymentChannels
from open12306.payments.services.counter import COUNTER as COUNTER
from open12306.payments.services.credit import CREDIT as CREDIT
from open12306.payments.services.credit import CreditLineProvider
from open12306.sales.domain import (
    OrderState,
    Ticket,
    TicketState,
    cancel,
    is_overdue,
    ledger,
    pay,
    refund_ticket,
)
from open12306.sales.domain.refund_split import Trade, lineage, split_refund
from open12306.sales.domain.refunds import DEFAULT_LADDER, RefundLadder, RefundQuote
from open12306.sales.ports import (
    MultiRunStore,
    OrderRecord,
    OrdersStore,
    PaymentRecord,
    PaymentRecordState,
)
from open12306.sales.services.allocator import Allocator, run_key, ticket_hold
from open12306.sales.services.orders import OrderService
from open12306.sales.services.refund_retry import (
    PendingRefund,
    PendingState,
    RefundBook,
    RefundQueue,
    RefundRetry,
)
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError, NotFound
from open12306.shared.run_key import RunKey
from open12306.travel.services.ticket_usage import refuse_if_used

log = logging.getLogger("open12306.settlement")
DEFAULT_CREDIT_LIMIT_FEN = 200_000  # 2,000 yuan; see docs: the credit line
# 12306: "一天内3次申请车票成功后取消订单，当日将不能在12306继续购票"
# what the rider is told when a provider declines before any money moved
_DECLINED = {"credit_limit": "the order is above your remaining credit"}
_CODE_REASONS = {
    "ACQ.PAYMENT_AUTH_CODE_INVALID": "payment_code_invalid",
    "ACQ.TRADE_HAS_SUCCESS": "already_paid",
    "ACQ.TRADE_HAS_CLOSE": "trade_closed",
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": "insufficient_balance",
}


class PaymentRefused(DomainError):
    status = 409


class CodeRefused(DomainError):
    """The channel refused the scanned payment code (bad, expired or used; no balance)."""

    status = 402


class ChannelUnavailable(DomainError):
    """The channel could not be reached or failed; nothing was charged that we know of."""

    status = 503


class CancelLog(Protocol):
    """How many orders an account cancelled since a moment."""

    def cancels_since(self, account_id: str, since: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class OrderRefund:
    """A whole-order refund: one quote per refunded ticket, and the total paid back.
    ``refund_nos`` are the channel refunds it was split into (``refund_no`` the one against
    the order's own trade, when there is one)."""

    number: str
    quotes: tuple[tuple[str, RefundQuote], ...]
    refund_no: str | None
    refund_nos: tuple[str, ...] = ()

    @property
    def refund_fen(self) -> int:
        return sum(q.refund_fen for _, q in self.quotes)

    @property
    def fee_fen(self) -> int:
        return sum(q.fee_fen for _, q in self.quotes)


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


def code_refusal(error: PaymentError) -> DomainError:
    """What a failed payment-code charge tells the cashier: the channel was unreachable
    (``channel_unavailable``, 503) or the code was refused (402, with the channel's reason)."""
    if error.code == "network" or error.code.startswith("aop.") or error.code == "20000":
        return ChannelUnavailable(
            "channel", "channel_unavailable", f"the payment channel failed: {error.message}"
        )
    reason = _CODE_REASONS.get(error.code, "payment_refused")
    return CodeRefused("auth_code", reason, f"{error.code}: {error.message}")


class Settlement:
    """Payments and refunds of orders.

    Money comes in through the providers of ``payment_channels`` (the credit line, the counter
    and the channels' providers, by name): the same port whatever the channel, the flow of each
    said by its ``PaymentFlow``. ``providers`` are the channels' own providers (the ones that
    send notifications); the mapping sees changes made to it."""

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
        counter_channel: str = "alipay",
        refunds: RefundQueue | None = None,
        cancels: CancelLog | None = None,
        zone: ZoneInfo = ZoneInfo("Asia/Shanghai"),
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
        self.cancels = cancels
        self.zone = zone
        credit = CreditLineProvider(
            lambda account_id: self.store.credit_used(account_id), lambda: self.credit_limit_fen
        )
        self.payment_channels = PaymentChannels(self.providers, credit, counter_channel)
        self.refund_retry = (
            None if refunds is None else RefundRetry(refunds, self.provider_for, clock)
        )
        self.trade_handlers: list[Callable[[str, str, int, str], Outcome | None]] = []
        # more trades that took an order's money (the change service adds its change trades)
        self.trade_sources: list[Callable[[str], Sequence[Trade]]] = []

    @property
    def counter_channel(self) -> str:
        """The channel payment codes are charged through (the counter's trades are its)."""
        return self.payment_channels.counter_channel

    def channels(self) -> list[str]:
        return list(self.payment_channels)

    def provider_for(self, channel: str) -> PaymentProvider | None:
        """The provider that moves money at a channel for ``channel`` (the counter's trades
        are its code channel's); None for a credit line (it moves none) and for a channel
        not configured here."""
        provider = self.payment_channels.get(channel)
        return None if provider is None or provider.flow is PaymentFlow.AT_ONCE else provider

    def _provider(self, channel: str) -> PaymentProvider:
        provider = self.payment_channels.get(channel)
        if provider is None:
            raise DomainError("channel", "unknown_channel", f"channels: {self.channels()}")
        return provider

    # --- paying ----------------------------------------------------------------------------

    def start(
        self, account: Account, number: str, channel: str, options: PaymentOptions | None = None
    ) -> Prompt:
        """Begin paying the account's held order through ``channel``: what to show the rider,
        or the order already paid when the provider took the money at once."""
        record = self.orders.get(account, number)
        order = record.order
        if order.state is not OrderState.HELD:
            raise PaymentRefused("order", "not_payable", f"order {number} is {order.state}")
        provider = self._provider(channel)
        if provider.flow is PaymentFlow.PAYMENT_CODE:
            return self._pay_by_code(provider, record, options or PaymentOptions())
        asked = options or PaymentOptions(expires_at=order.pay_deadline)
        payment_id = f"{channel}:{number}"
        try:
            paying = dataclasses.replace(asked, payer=account.id)
            prompt = provider.prepare(number, order.total_fen, _subject(record), paying)
        except PaymentDeclined as declined:
            why = _DECLINED.get(declined.code, declined.message)
            raise PaymentRefused("channel", declined.code, why) from None
        self._record_payment(payment_id, record, channel, None)
        paid = prompt.status
        if paid is not None and paid.state is TradeState.PAID:
            amount = paid.amount_fen or order.total_fen
            outcome = self.confirm(channel, number, amount, paid.trade_no or payment_id)
            return Prompt(channel, payment_id, self._said(payment_id, outcome))
        return Prompt(channel, payment_id, "pending", prompt.redirect_url, prompt.qr_content)

    def _pay_by_code(
        self, provider: PaymentProvider, record: OrderRecord, options: PaymentOptions
    ) -> Prompt:
        """Charge the scanned payment code; paid now, or pending while the buyer confirms."""
        code = (options.auth_code or "").strip()
        if not code.isdigit() or not 16 <= len(code) <= 24:
            raise DomainError(
                "auth_code", "payment_code_malformed", "a payment code is 16 to 24 digits"
            )
        order = record.order
        number = record.number
        payment_id = f"{provider.name}:{number}"
        attempt = self._open_scan(provider, record, self.clock.now())
        try:
            scanned = dataclasses.replace(options, auth_code=code)
            prompt = provider.prepare(number, order.total_fen, _subject(record), scanned)
        except PaymentError as exc:
            self._settle_attempt(attempt, state=PaymentRecordState.CLOSED)
            raise code_refusal(exc) from None
        status = prompt.status
        trade_no = "" if status is None else status.trade_no or ""
        if status is None or status.state is not TradeState.PAID:
            # the buyer confirms on the phone; the notification (or a check) may be first
            self._settle_attempt(attempt, trade_no=trade_no)
            return Prompt(provider.name, payment_id, "pending")
        amount = status.amount_fen or order.total_fen
        outcome = self.confirm(provider.name, number, amount, trade_no)
        return Prompt(provider.name, payment_id, self._said(payment_id, outcome))

    def _open_scan(
        self, provider: PaymentProvider, record: OrderRecord, now: datetime
    ) -> PaymentRecord:
        """Record the scan's payment before the channel is called (so its notification is
        the scan's). One scan at a time: while an earlier scan awaits the buyer a new one
        is refused; a refused or vanished earlier scan is replaced (a paid one pays)."""
        number = record.number
        payment_id = f"{provider.name}:{number}"
        known = self.store.payment(payment_id)
        if known is not None and known.state is PaymentRecordState.CREATED:
            self._earlier_scan_gone(provider, number)
        elif known is not None and known.state is not PaymentRecordState.CLOSED:
            raise PaymentRefused("order", "not_payable", f"order {number} is already paid")
        fresh = PaymentRecord(
            payment_id,
            number,
            record.order.account,
            provider.name,
            record.order.total_fen,
            PaymentRecordState.CREATED,
            now,
            now,
            stored_as=None if known is None else known.stored_as,
        )
        try:
            return self.store.save_payment(fresh)
        except self.conflict:
            raise PaymentRefused(
                "order", "payment_in_progress", f"order {number} is being paid at a counter"
            ) from None

    def _earlier_scan_gone(self, provider: PaymentProvider, number: str) -> None:
        """Refuse a new scan while the channel still holds the earlier one open or paid."""
        status = provider.query(number)
        if status.state is TradeState.PAID:
            self.confirm(provider.name, number, status.amount_fen or 0, status.trade_no or "")
            raise PaymentRefused("order", "not_payable", f"order {number} is already paid")
        if status.state is TradeState.PENDING:
            raise PaymentRefused(
                "order",
                "payment_in_progress",
                f"order {number}: the buyer has not confirmed the earlier scan yet",
            )

    def _settle_attempt(
        self,
        attempt: PaymentRecord,
        state: PaymentRecordState = PaymentRecordState.CREATED,
        trade_no: str | None = None,
    ) -> None:
        """Move a counter attempt on from ``created``, unless a confirmation got there first
        (then the stored state stands)."""
        moved = dataclasses.replace(
            attempt,
            state=state,
            provider_trade_no=trade_no or attempt.provider_trade_no,
            updated_at=self.clock.now(),
        )
        try:
            self.store.save_payment(moved)
        except self.conflict:
            log.info("payment %s moved on concurrently; its stored state stands", attempt.id)

    def _said(self, payment_id: str, outcome: Outcome) -> str:
        """What the payer is told: ``paid`` when this payment paid the order, also when the
        channel's notification of it was confirmed first (the confirmation here is then a
        duplicate)."""
        if outcome.result == "duplicate":
            payment = self.store.payment(payment_id)
            if payment is not None and payment.state is PaymentRecordState.SUCCEEDED:
                return "paid"
        return outcome.result

    def check(self, account: Account, number: str, channel: str) -> Outcome:
        """Ask the channel about the order's trade and apply what it says (paid or not)."""
        record = self.orders.get(account, number)
        provider = self.provider_for(channel)
        if provider is None:
            raise DomainError("channel", "unknown_channel", f"channels: {self.channels()}")
        status = provider.query(number)
        if status.state is not TradeState.PAID or status.amount_fen is None:
            return Outcome("ignored", record)
        return self.confirm(channel, number, status.amount_fen, status.trade_no or "")

    def _record_payment(
        self, payment_id: str, record: OrderRecord, channel: str, trade_no: str | None
    ) -> None:
        if self.store.payment(payment_id) is not None:
            return
        now = self.clock.now()
        created = PaymentRecord(
            payment_id,
            record.number,
            record.order.account,
            channel,
            record.order.total_fen,
            PaymentRecordState.CREATED,
            now,
            now,
            trade_no,
        )
        try:
            self.store.save_payment(created)
        except self.conflict:
            log.info("payment %s recorded concurrently", payment_id)

    def notify(self, channel: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Verify and apply a channel notification (raises NotificationRejected if forged)."""
        provider = self.providers.get(channel)
        if provider is None:
            raise NotFound("channel", "unknown_channel", f"no channel {channel!r}")
        note = provider.parse_notification(headers, body)
        if note.kind is not NotificationKind.PAYMENT or note.state is not TradeState.PAID:
            return Outcome("ignored")
        for handler in self.trade_handlers:
            handled = handler(channel, note.order_no, note.amount_fen, note.trade_no)
            if handled is not None:
                return handled
        return self.confirm(channel, note.order_no, note.amount_fen, note.trade_no)

    def confirm(self, channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome:
        """Apply money received for order ``number``; idempotent per (channel, order)."""
        for _ in range(self.retries):
            try:
                return self._confirm_once(channel, number, amount_fen, trade_no)
            except self.conflict:
                continue
        raise RuntimeError(f"order {number}: too many concurrent writers")

    def _owner(self, channel: str, number: str) -> str:
        """The channel a confirmation belongs to: Alipay's word on a trade that a counter
        scan opened (pending or in flight) is the counter payment's."""
        for opener in self.payment_channels.opened_through(channel):
            opened = self.store.payment(f"{opener}:{number}")
            if opened is not None and opened.state is PaymentRecordState.CREATED:
                return opener
        return channel

    def _applied(self, number: str, trade_no: str) -> bool:
        """Whether the channel trade ``trade_no`` was already booked for order ``number``
        (it paid the order, or it was returned)."""
        if not trade_no:
            return False
        return any(
            p.state in _BOOKED and p.provider_trade_no == trade_no
            for p in self._own_payments(number)
        )

    def _own_payments(self, number: str) -> list[PaymentRecord]:
        """The payments of order ``number`` itself (``{channel}:{number}``), through any
        channel, configured in this process or not."""
        return [p for p in self.store.payments_for_order(number) if p.id == f"{p.channel}:{number}"]

    def _confirm_once(self, channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome:
        channel = self._owner(channel, number)
        payment_id = f"{channel}:{number}"
        known = self.store.payment(payment_id)
        if known is not None and known.state in _BOOKED:
            if known.provider_trade_no != trade_no and trade_no:
                log.error(
                    "order %s: trade %s arrived while %s already holds trade %s",
                    number,
                    trade_no,
                    payment_id,
                    known.provider_trade_no,
                )
            return Outcome("duplicate", self.store.get(number))
        if self._applied(number, trade_no):
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
            and (known is None or known.state is PaymentRecordState.CREATED)
        )
        base = known or PaymentRecord(
            payment_id,
            number,
            order.account,
            channel,
            amount_fen,
            PaymentRecordState.CREATED,
            now,
            now,
        )
        paid_in = ledger.payment(number, amount_fen, now, trade_no)
        if payable:
            # both writes are guarded: the order by its version, the payment by the state it
            # was read in; a concurrent confirmation of the same trade makes this one retry
            paid = dataclasses.replace(record, order=pay(order, amount_fen, now))
            payment = dataclasses.replace(
                base,
                state=PaymentRecordState.SUCCEEDED,
                amount_fen=amount_fen,
                provider_trade_no=trade_no,
                updated_at=now,
            )
            saved, _ = self.store.write([paid], now, entries=[paid_in], payments=[payment])
            return Outcome("paid", saved[0])
        return self._return_whole(base, channel, record, amount_fen, trade_no, now)

    def _return_whole(
        self,
        base: PaymentRecord,
        channel: str,
        record: OrderRecord,
        amount_fen: int,
        trade_no: str,
        now: datetime,
    ) -> Outcome:
        """Money for an order that cannot take it: booked in and out, then sent back whole.
        The payment's guarded transition makes a trade returned at most once."""
        number = record.number
        returned = dataclasses.replace(
            base,
            state=PaymentRecordState.RETURNED,
            amount_fen=amount_fen,
            provider_trade_no=trade_no,
            updated_at=now,
        )
        paid_in = ledger.payment(number, amount_fen, now, trade_no)
        back = ledger.refund_of_payment(number, amount_fen, now, trade_no)
        self.store.write([], now, entries=[paid_in, back], payments=[returned])
        log.warning(
            "order %s not payable (%s, %s fen): refunding", number, record.order.state, amount_fen
        )
        # one refund number per channel: two late trades of one order are two refunds
        self._refund_through(channel, number, f"{number}R0-{channel}", amount_fen, amount_fen)
        return Outcome("refunded", record)

    # --- refunds ---------------------------------------------------------------------------

    def refund(self, account: Account, number: str, ticket_number: str) -> RefundQuote:
        """Refund one ticket of the account's paid order; the quote says fee and refund."""
        record = self.orders.get(account, number)
        ticket = record.order.ticket(ticket_number)
        refuse_if_used(ticket)
        self.check_returnable(number)
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
        self.send_refund(number, f"{ticket_number}R", quote.refund_fen, [ticket_number])
        return quote

    def refund_order(self, account: Account, number: str) -> OrderRefund:
        """Refund every issued ticket of the account's paid order in one transaction (each
        with its own ladder fee, every seat back on sale), then one channel refund."""
        record = self.orders.get(account, number)
        if record.order.state is not OrderState.PAID:
            raise PaymentRefused(
                "order", "not_refundable", f"order {number} is {record.order.state}"
            )
        if not _issued(record):
            raise PaymentRefused("order", "nothing_to_refund", "no ticket left to refund")
        self.check_returnable(number)
        store = self._multi_run_store()
        for _ in range(self.retries):
            try:
                quotes = self._refund_all_once(store, number)
            except self.conflict:
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
        fresh = self.store.get(number)
        if fresh is None:
            raise NotFound("order", "not_found", f"no order {number}")
        tickets = _issued(fresh)
        if not tickets:
            raise PaymentRefused("order", "nothing_to_refund", "no ticket left to refund")
        now = self.clock.now()
        runs: dict[RunKey, tuple[RunInventory, int]] = {}
        order = fresh.order
        quotes: list[tuple[str, RefundQuote]] = []
        entries: list[ledger.Entry] = []
        for ticket in tickets:
            key, held = ticket_hold(self.allocator, fresh, ticket)
            if key not in runs:
                stored = self.store.claim(key, 0)[0]
                runs[key] = (
                    self.allocator.inventory(key, None if stored is None else stored.state),
                    0 if stored is None else stored.version,
                )
            order, quote = refund_ticket(order, ticket.number, now, self.ladder)
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
            self.allocator.read_model.apply(state)
        self.allocator.on_change()
        return quotes

    def check_returnable(self, number: str) -> None:
        """Refuse, before anything is written, a refund whose money could not go back: a
        trade of the order went through a channel this process has no provider for."""
        for trade in self.trades_of(number):
            if self.payment_channels.get(trade.channel) is None:
                raise ChannelUnavailable(
                    "channel",
                    "channel_unavailable",
                    f"order {number} was paid through {trade.channel}, which is not configured "
                    f"here: refund it where {trade.channel} is configured (the server)",
                )

    def _multi_run_store(self) -> MultiRunStore:
        if not hasattr(self.store, "write_runs"):
            raise TypeError("the orders store cannot write several runs in one transaction")
        return cast(MultiRunStore, self.store)

    # --- cancelling ------------------------------------------------------------------------

    def cancel(self, account: Account, number: str) -> OrderRecord:
        """Give up an unpaid held order: its seats go back on sale at once, an open channel
        trade is closed (money that still arrives is refunded whole)."""
        record = self.orders.get(account, number)
        if record.order.state is not OrderState.HELD:
            raise PaymentRefused(
                "order", "not_cancellable", f"order {number} is {record.order.state}"
            )
        done: list[OrderRecord] = []

        def work(inventory: RunInventory, now: datetime) -> list[OrderRecord]:
            fresh = self.store.get(number)
            if fresh is None or fresh.order.state is not OrderState.HELD:
                done[:] = [] if fresh is None else [fresh]
                return []
            everyone = range(len(fresh.order.passengers))
            inventory.release(self.allocator.allocation_of(fresh, everyone))
            done[:] = []
            return [dataclasses.replace(fresh, order=cancel(fresh.order, now))]

        saved = self.allocator.with_inventory(run_key(record), work)
        if not saved:
            state = done[0].order.state if done else "gone"
            raise PaymentRefused("order", "not_cancellable", f"order {number} is {state}")
        self._close_trades(number)
        return saved[0]

    def cancels_today(self, account: Account) -> int:
        """How many orders the account cancelled since local midnight."""
        if self.cancels is None:
            return 0
        today = self.clock.now().astimezone(self.zone).date()
        return self.cancels.cancels_since(account.id, datetime.combine(today, time(0), self.zone))

    def _close_trades(self, number: str) -> None:
        for channel in self.channels():
            payment = self.store.payment(f"{channel}:{number}")
            provider = self.provider_for(channel)
            if (
                payment is None
                or provider is None
                or payment.state is not PaymentRecordState.CREATED
            ):
                continue
            try:
                provider.close(number)
            except Exception:
                log.warning(
                    "closing %s trade of %s failed; a late payment is refunded", channel, number
                )
            now = self.clock.now()
            try:
                self.store.save_payment(
                    dataclasses.replace(payment, state=PaymentRecordState.CLOSED, updated_at=now)
                )
            except self.conflict:
                log.info("payment %s moved on while closing; its stored state stands", payment.id)

    # --- channel money ---------------------------------------------------------------------

    def paying_channel(self, number: str) -> str | None:
        """The channel whose payment paid order ``number`` (None before it is paid)."""
        return self._paid_channel(number)

    def _paid_channel(self, number: str) -> str | None:
        for found in self._own_payments(number):
            if found.state is PaymentRecordState.SUCCEEDED:
                return found.channel
        return None

    def trades_of(self, number: str) -> list[Trade]:
        """Every trade that took money for order ``number`` (its own payment, credit-line and
        channel payments of changes), each with what was already refunded from it."""
        record = self.store.get(number)
        if record is None:
            return []
        found: list[Trade] = [
            Trade(paid.channel, number, paid.amount_fen, 0, paid.created_at)
            for paid in self._own_payments(number)
            if paid.state is PaymentRecordState.SUCCEEDED
        ]
        # a change paid at once (on the credit line) is its ticket's own payment
        at_once = [
            name for name, p in self.payment_channels.items() if p.flow is PaymentFlow.AT_ONCE
        ]
        for ticket in record.order.tickets:
            for channel in at_once:
                paid = self.store.payment(f"{channel}:{ticket.number}")
                if paid is not None and paid.state is PaymentRecordState.SUCCEEDED:
                    at = paid.created_at
                    found.append(
                        Trade(channel, ticket.number, paid.amount_fen, 0, at, ticket.number)
                    )
        for source in self.trade_sources:
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
        queue = None if self.refund_retry is None else self.refund_retry.queue
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
        record = self.store.get(number)
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
                self.clock.now(),
                self.clock.now(),
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
        now = self.clock.now()
        refund = PendingRefund(refund_no, number, number, channel, amount_fen, amount_fen, now, now)
        self._failed_refund(
            refund, "exceeds_payments: no trade of the order has this much left to refund"
        )

    def _failed_refund(self, refund: PendingRefund, error: str) -> None:
        """Record a refund that cannot move money as failed, for an operator to look at."""
        if self.refund_retry is not None:
            failed = dataclasses.replace(refund, state=PendingState.FAILED, last_error=error)
            self.refund_retry.queue.save_refund(failed)

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
        provider = self.payment_channels.get(channel)
        trade = trade_no or number
        if provider is not None and provider.flow is PaymentFlow.AT_ONCE:
            # our own books (the credit line): nothing leaves here, the ledger entry is the
            # refund; recorded for the split
            if self.refund_retry is not None:
                self.refund_retry.record_done(
                    channel, number, trade, refund_no, amount_fen, total_fen
                )
            return True
        if provider is None:
            # refunds check for this first (check_returnable); a channel gone since is an
            # operator's to return, never a refund done
            self._unreturnable(channel, number, trade, refund_no, amount_fen, total_fen)
            return False
        if self.refund_retry is not None:
            return self.refund_retry.submit(
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


def _subject(record: OrderRecord) -> str:
    trip = record.order.trip
    return f"{trip.train_code} {trip.from_station}-{trip.to_station}"


_BOOKED = (PaymentRecordState.SUCCEEDED, PaymentRecordState.RETURNED)


def _issued(record: OrderRecord) -> list[Ticket]:
    return [t for t in record.order.tickets if t.state is TicketState.ISSUED]
