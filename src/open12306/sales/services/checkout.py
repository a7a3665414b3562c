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
  trades that took it (``sales.domain.refund_split``): the order's own trade and the trades that
  paid dearer changes (``sales.services.changes``), each refund request against one trade and never
  above what is left of it, the ticket's own change trades first (newest first), then the
  order's trade. ``refund_order`` does so for every live ticket of an order at once. Each
  request has its own refund number (the base number for the order's trade, ``{base}-{trade}``
  for another), so a retry moves money once. A channel refund that fails after the commit is
  kept and retried, or marked failed for an operator (``sales.services.refund_retry``).
* ``cancel`` gives up an unpaid held order: its seats go back on sale at once. After 3 cancels
  in a day the account may order no more that day (the intake checks it: ``too_many_cancels``).

The settlement is a facade over its parts: ``checkout_payments`` (taking and confirming
money), ``checkout_refunds`` (refunds and the trades they draw on); ``checkout_model`` holds the
answers and refusals.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from open12306.accounts.ports import Account
from open12306.inventory.domain import RunInventory
from open12306.payments.ports import PaymentFlow, PaymentOptions, PaymentProvider
from open12306.payments.services.channels import PaymentChannels
from open12306.payments.services.counter import COUNTER
from open12306.payments.services.credit import CREDIT, CreditLineProvider
from open12306.sales.domain import OrderState, cancel
from open12306.sales.domain.refund_split import Trade
from open12306.sales.domain.refunds import DEFAULT_LADDER, RefundLadder, RefundQuote
from open12306.sales.ports import (
    CancelLog,
    OrderRecord,
    OrdersStore,
    PaymentRecordState,
    PendingRefund,
    RefundQueue,
)
from open12306.sales.services.allocator import Allocator, run_key
from open12306.sales.services.checkout_model import (
    ChannelUnavailable,
    CodeRefused,
    OrderRefund,
    Outcome,
    PaymentRefused,
    Prompt,
    code_refusal,
)
from open12306.sales.services.checkout_payments import SettlementPayments
from open12306.sales.services.checkout_refunds import SettlementRefunds
from open12306.sales.services.orders import OrderService
from open12306.sales.services.refund_retry import RefundRetry
from open12306.shared.clock import Clock

__all__ = [
    "COUNTER",
    "CREDIT",
    "DEFAULT_CREDIT_LIMIT_FEN",
    "CancelLog",
    "ChannelUnavailable",
    "CodeRefused",
    "OrderRefund",
    "Outcome",
    "PaymentRefused",
    "Prompt",
    "Settlement",
    "code_refusal",
]
log = logging.getLogger("open12306.settlement")
DEFAULT_CREDIT_LIMIT_FEN = 200_000  # 2,000 yuan; see docs: the credit line


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
        self._refunds = SettlementRefunds(self)
        self._payments = SettlementPayments(self, self._refunds)

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

    # --- paying ----------------------------------------------------------------------------

    def start(
        self, account: Account, number: str, channel: str, options: PaymentOptions | None = None
    ) -> Prompt:
        """Begin paying the account's held order through ``channel``: what to show the rider,
        or the order already paid when the provider took the money at once."""
        return self._payments.start(account, number, channel, options)

    def check(self, account: Account, number: str, channel: str) -> Outcome:
        """Ask the channel about the order's trade and apply what it says (paid or not)."""
        return self._payments.check(account, number, channel)

    def notify(self, channel: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Verify and apply a channel notification (raises NotificationRejected if forged)."""
        return self._payments.notify(channel, headers, body)

    def confirm(self, channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome:
        """Apply money received for order ``number``; idempotent per (channel, order)."""
        return self._payments.confirm(channel, number, amount_fen, trade_no)

    # --- refunds ---------------------------------------------------------------------------

    def refund(self, account: Account, number: str, ticket_number: str) -> RefundQuote:
        """Refund one ticket of the account's paid order; the quote says fee and refund."""
        return self._refunds.refund(account, number, ticket_number)

    def refund_order(self, account: Account, number: str) -> OrderRefund:
        """Refund every issued ticket of the account's paid order in one transaction (each
        with its own ladder fee, every seat back on sale), then one channel refund."""
        return self._refunds.refund_order(account, number)

    def check_returnable(self, number: str) -> None:
        """Refuse, before anything is written, a refund whose money could not go back: a
        trade of the order went through a channel this process has no provider for."""
        self._refunds.check_returnable(number)

    def paying_channel(self, number: str) -> str | None:
        """The channel whose payment paid order ``number`` (None before it is paid)."""
        return self._refunds.paying_channel(number)

    def trades_of(self, number: str) -> list[Trade]:
        """Every trade that took money for order ``number`` (its own payment, credit-line and
        channel payments of changes), each with what was already refunded from it."""
        return self._refunds.trades_of(number)

    def refunds_of(self, number: str) -> list[PendingRefund]:
        """The channel refunds recorded for order ``number`` (none without a refund book)."""
        return self._refunds.refunds_of(number)

    def send_refund(
        self, number: str, base_no: str, amount_fen: int, tickets: Sequence[str]
    ) -> tuple[str, ...]:
        """Send ``amount_fen`` back for ``tickets`` of order ``number``, split across the
        trades that took the money (see ``checkout_refunds``); the refund numbers used."""
        return self._refunds.send_refund(number, base_no, amount_fen, tickets)

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
        return self._refunds.refund_through(
            channel, number, refund_no, amount_fen, total_fen, trade_no
        )

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
        """How many orders the account cancelled since local midnight (12306: "一天内3次申请车票
        成功后取消订单，当日将不能在12306继续购票": the intake refuses a fourth order that day)."""
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
