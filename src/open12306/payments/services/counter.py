"""The ``counter`` provider: a station cashier (or a conductor's handheld) scans the rider's
payment code (付款码) and it is charged through a channel that takes codes (Alipay face-to-face
pay, ``alipay.trade.pay`` with scene ``bar_code``).

``prepare`` is the charge: paid when the channel answers so, pending while the buyer confirms
on the phone (Alipay 10003), a ``PaymentError`` when the code is refused. The trade is the
channel's own (its notifications, queries, refunds and closing are the channel's), so every
other call goes to the channel unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from open12306.payments.ports import (
    CodePayer,
    Notification,
    NotificationReply,
    PaymentFlow,
    PaymentOptions,
    PaymentPrompt,
    PaymentProvider,
    PaymentStatus,
    RefundResult,
)

COUNTER = "counter"


class CodeChannel(PaymentProvider, CodePayer, Protocol):
    """A channel that also charges scanned payment codes (Alipay)."""


class CounterProvider:
    """Payment codes charged through ``channel`` (see the module docstring)."""

    name = COUNTER
    flow = PaymentFlow.PAYMENT_CODE

    def __init__(self, channel: CodeChannel) -> None:
        self.channel = channel

    def prepare(
        self, order_no: str, amount_fen: int, subject: str, options: PaymentOptions
    ) -> PaymentPrompt:
        """Charge ``options.auth_code``; the prompt's ``status`` says paid or pending."""
        if options.auth_code is None:
            raise ValueError("a counter payment charges a payment code: options.auth_code")
        status = self.channel.pay_with_code(order_no, amount_fen, subject, options.auth_code)
        return PaymentPrompt(COUNTER, order_no, status=status)

    def pay_with_code(
        self, order_no: str, amount_fen: int, subject: str, auth_code: str
    ) -> PaymentStatus:
        """The channel's own charge of a code (the on-board handheld calls it directly)."""
        return self.channel.pay_with_code(order_no, amount_fen, subject, auth_code)

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        return self.channel.parse_notification(headers, body)

    def acknowledge(self, accepted: bool) -> NotificationReply:
        return self.channel.acknowledge(accepted)

    def query(self, order_no: str) -> PaymentStatus:
        return self.channel.query(order_no)

    def refund(
        self, order_no: str, refund_no: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundResult:
        return self.channel.refund(order_no, refund_no, amount_fen, total_fen)

    def refund_status(self, order_no: str, refund_no: str) -> RefundResult:
        return self.channel.refund_status(order_no, refund_no)

    def close(self, order_no: str) -> None:
        self.channel.close(order_no)
