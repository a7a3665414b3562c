"""The payment port: what the order services need from a payment channel.

A provider is a plugin with a lifecycle (pretix's shape): ``prepare`` gives the rider something to
act on (a redirect URL or QR content); the channel then tells us the outcome asynchronously
(``parse_notification``) or when asked (``query``); refunds are their own attempts with their own
numbers and states (``refund``, ``refund_status``); an unpaid trade can be ``close``d.

A notification only *triggers* a state change: the handler must be idempotent, and duplicates,
reordering and retries are normal traffic. Amounts are integer fen on this side of the port.

Not every provider is a channel's cashier: ``flow`` says what ``prepare`` does. A channel
(Alipay, WeChat Pay) opens a trade there and the rider pays later; a payment code scanned at a
counter is charged when ``prepare`` is called; a credit line (our own books) is paid by
``prepare`` itself. The order services then confirm the payment the same way whatever the
provider (``Settlement.confirm``: one guarded transition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class TradeState(StrEnum):
    """Where a trade stands at the channel, as the channel reports it (our own record of a
    payment attempt has its own states: ``sales.ports.PaymentRecordState``)."""

    PENDING = "pending"
    PAID = "paid"
    CLOSED = "closed"
    REFUNDED = "refunded"
    NOT_FOUND = "not_found"


class PaymentFlow(StrEnum):
    """What a provider's ``prepare`` does, and so what the order services do around it."""

    CHANNEL = "channel"
    """``prepare`` opens a trade at the channel and answers what to show (a cashier URL, a QR);
    the rider pays there, and the channel's notification (or a ``query``) says so later."""

    PAYMENT_CODE = "payment_code"
    """``prepare`` charges the payment code the rider shows (``PaymentOptions.auth_code``,
    face-to-face pay): the prompt's ``status`` is paid, or pending while the buyer confirms on
    the phone. The channel's notification of that trade may arrive before ``prepare`` returns,
    so the payment is recorded before ``prepare`` is called, one scan at a time."""

    AT_ONCE = "at_once"
    """``prepare`` is the payment, in our own books (a credit line): the prompt's ``status`` is
    paid. No trade exists at any channel (nothing to query, close or be notified of) and a
    refund moves no money anywhere: its ledger entry is the refund."""


class RefundState(StrEnum):
    """Where one refund attempt stands at the channel."""

    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_FOUND = "not_found"


class NotificationKind(StrEnum):
    """What an asynchronous notification reports."""

    PAYMENT = "payment"
    REFUND = "refund"
    CLOSED = "closed"


class PayMode(StrEnum):
    """How the rider is sent to pay: a desktop page, a mobile page, or a QR code to scan."""

    PAGE = "page"
    WAP = "wap"
    QR = "qr"


INSTALMENT_COUNTS = (3, 6, 12)


@dataclass(frozen=True)
class PaymentOptions:
    """Per-payment choices. ``instalments`` (3/6/12) asks for Huabei instalments (Alipay only);
    ``seller_pays_fee`` makes the merchant bear the instalment fee (hb_fq_seller_percent=100);
    ``auth_code`` is the rider's scanned payment code (the ``counter`` channel); ``payer`` is
    the paying account (a credit line draws on that account's line)."""

    mode: PayMode = PayMode.PAGE
    return_url: str | None = None
    instalments: int | None = None
    seller_pays_fee: bool = False
    expires_at: datetime | None = None
    auth_code: str | None = None
    payer: str | None = None


@dataclass(frozen=True)
class PaymentPrompt:
    """What to show the rider: a URL to send the browser to, or content to render as a QR.

    ``status`` is the trade as ``prepare`` left it when the provider took the money there and
    then (``PaymentFlow.PAYMENT_CODE``: paid or pending; ``AT_ONCE``: paid); None when the
    rider still has to pay at the channel."""

    channel: str
    order_no: str
    redirect_url: str | None = None
    qr_content: str | None = None
    status: PaymentStatus | None = None


@dataclass(frozen=True)
class Notification:
    """A verified asynchronous notification, reduced to what the order services act on.

    ``amount_fen`` is the trade total. For refunds, ``refund_fen`` is this refund's amount and
    ``refunded_total_fen`` the trade's refunded total, each when the channel reports it.
    """

    channel: str
    kind: NotificationKind
    order_no: str
    trade_no: str
    state: TradeState
    amount_fen: int
    notification_id: str
    paid_at: datetime | None = None
    refund_no: str | None = None
    refund_fen: int | None = None
    refunded_total_fen: int | None = None
    raw: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationReply:
    """The HTTP answer that tells the channel a notification was taken (or must be retried)."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class PaymentStatus:
    """A trade as the channel reports it when queried."""

    channel: str
    order_no: str
    state: TradeState
    amount_fen: int | None = None
    trade_no: str | None = None
    paid_at: datetime | None = None
    instalments: int | None = None


@dataclass(frozen=True)
class RefundResult:
    """One refund attempt as the channel reports it."""

    channel: str
    order_no: str
    refund_no: str
    state: RefundState
    amount_fen: int | None = None
    refund_id: str | None = None


class PaymentError(Exception):
    """The channel refused a request or could not be reached; ``code`` is the channel's code."""

    def __init__(self, channel: str, code: str, message: str) -> None:
        super().__init__(f"{channel}: {code}: {message}")
        self.channel = channel
        self.code = code
        self.message = message


class PaymentDeclined(PaymentError):
    """The provider declined a payment before any money moved, with a stable ``code``
    (``credit_limit``: the amount is above the payer's remaining credit)."""


class NotificationRejected(Exception):
    """A notification failed verification (forged, tampered, stale, or not ours)."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"{channel} notification rejected: {reason}")
        self.channel = channel
        self.reason = reason


class PaymentProvider(Protocol):
    """One payment channel. Calls block on the network: run them off the event loop.

    ``flow`` says what ``prepare`` does (``PaymentFlow``); a provider that does not apply a
    step (a credit line has no trade to query or close) answers it as having nothing there."""

    @property
    def name(self) -> str: ...

    @property
    def flow(self) -> PaymentFlow: ...

    def prepare(
        self, order_no: str, amount_fen: int, subject: str, options: PaymentOptions
    ) -> PaymentPrompt: ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification: ...

    def acknowledge(self, accepted: bool) -> NotificationReply: ...

    def query(self, order_no: str) -> PaymentStatus: ...

    def refund(
        self, order_no: str, refund_no: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundResult: ...

    def refund_status(self, order_no: str, refund_no: str) -> RefundResult: ...

    def close(self, order_no: str) -> None: ...


class CodePayer(Protocol):
    """A channel that can charge a payment code scanned at a counter (face-to-face pay)."""

    def pay_with_code(
        self, order_no: str, amount_fen: int, subject: str, auth_code: str
    ) -> PaymentStatus: ...
