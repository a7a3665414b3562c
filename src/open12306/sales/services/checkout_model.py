"""What settling orders is made of: the answers (``Prompt``, ``Outcome``, ``OrderRefund``),
the refusals, and what the parts of the settlement share (``SettlementContext``: the facade
``services.checkout.Settlement`` is one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from open12306.payments.ports import (
    PaymentError,
    PaymentProvider,
)
from open12306.payments.services.channels import PaymentChannels
from open12306.sales.domain.refund_split import Trade
from open12306.sales.domain.refunds import RefundLadder, RefundQuote
from open12306.sales.ports import (
    CancelLog,
    OrderRecord,
    OrdersStore,
    PaymentRecord,
)
from open12306.sales.services.allocator import Allocator
from open12306.sales.services.orders import OrderService
from open12306.sales.services.refund_retry import RefundRetry
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError

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


class SettlementContext(Protocol):
    """What the parts of the settlement read, at each call."""

    store: OrdersStore
    orders: OrderService
    allocator: Allocator
    clock: Clock
    providers: dict[str, PaymentProvider]
    ladder: RefundLadder
    credit_limit_fen: int
    conflict: type[Exception]
    retries: int
    cancels: CancelLog | None
    zone: ZoneInfo
    payment_channels: PaymentChannels
    refund_retry: RefundRetry | None
    trade_handlers: list[Callable[[str, str, int, str], Outcome | None]]
    trade_sources: list[Callable[[str], Sequence[Trade]]]

    def channels(self) -> list[str]: ...

    def provider_for(self, channel: str) -> PaymentProvider | None: ...


class SettlementPart:
    """One responsibility of the settlement, on the settlement's shared context."""

    def __init__(self, context: SettlementContext) -> None:
        self.context = context

    def own_payments(self, number: str) -> list[PaymentRecord]:
        """The payments of order ``number`` itself (``{channel}:{number}``), through any
        channel, configured in this process or not."""
        store = self.context.store
        return [p for p in store.payments_for_order(number) if p.id == f"{p.channel}:{number}"]
