"""The ``credit`` provider: an order (or a dearer change) paid on the account's credit line.

"Ride now, pay later": ``prepare`` pays at once while the account's standing credit payments
plus the amount stay within the line's limit, and declines (``credit_limit``) otherwise. The
line is our own books: the payment the order services record is the draw, and what they
refund to the line (their refund book) is taken off what stands, so there is no trade at any
channel to query, close or be notified of, and a refund moves no money anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from open12306.payments.ports import (
    Notification,
    NotificationRejected,
    NotificationReply,
    PaymentDeclined,
    PaymentFlow,
    PaymentOptions,
    PaymentPrompt,
    PaymentStatus,
    RefundResult,
    RefundState,
    TradeState,
)

CREDIT = "credit"


class CreditLineProvider:
    """The credit line behind the payment port (see the module docstring).

    ``drawn(account_id)`` is the fen the account has standing on the line; ``limit_fen()`` the
    line's limit, read at each payment (the owning service may change it)."""

    name = CREDIT
    flow = PaymentFlow.AT_ONCE

    def __init__(self, drawn: Callable[[str], int], limit_fen: Callable[[], int]) -> None:
        self.drawn = drawn
        self.limit_fen = limit_fen

    def prepare(
        self, order_no: str, amount_fen: int, subject: str, options: PaymentOptions
    ) -> PaymentPrompt:
        """Pay ``amount_fen`` for ``order_no`` on the payer's line: the trade number is ours
        (``credit:<order_no>``), the payment is complete when this returns."""
        if options.payer is None:
            raise ValueError("the credit line draws on the payer's line: options.payer is needed")
        if self.drawn(options.payer) + amount_fen > self.limit_fen():
            raise PaymentDeclined(
                CREDIT, "credit_limit", "the amount is above the payer's remaining credit"
            )
        trade_no = f"{CREDIT}:{order_no}"
        paid = PaymentStatus(
            CREDIT, order_no, TradeState.PAID, amount_fen=amount_fen, trade_no=trade_no
        )
        return PaymentPrompt(CREDIT, order_no, status=paid)

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        raise NotificationRejected(CREDIT, "the credit line sends no notifications")

    def acknowledge(self, accepted: bool) -> NotificationReply:
        return NotificationReply(404, "text/plain; charset=utf-8", b"no notifications here")

    def query(self, order_no: str) -> PaymentStatus:
        """No trade exists at a channel: the payment the order services recorded is all."""
        return PaymentStatus(CREDIT, order_no, TradeState.NOT_FOUND)

    def refund(
        self, order_no: str, refund_no: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundResult:
        """Nothing to send: the refund is its ledger entry, and once the order services record
        it done it no longer stands on the line."""
        return RefundResult(CREDIT, order_no, refund_no, RefundState.SUCCEEDED, amount_fen)

    def refund_status(self, order_no: str, refund_no: str) -> RefundResult:
        """The line keeps no refunds of its own (the order services' refund book does)."""
        return RefundResult(CREDIT, order_no, refund_no, RefundState.NOT_FOUND)

    def close(self, order_no: str) -> None:
        """Nothing is ever left open on the line."""
