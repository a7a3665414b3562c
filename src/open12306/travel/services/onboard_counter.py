"""On-board sales paid by scanning the passenger's payment code (付款码) on the handheld.

The conductor's handheld charges the code through the counter channel (Alipay face-to-face
pay, ``alipay.trade.pay``): money moves at once, or the sale is refused. A walk-up passenger
need not have an account with us, so the ticket is booked to the walk-up account
(``WALK_UP_ACCOUNT``); the passenger keeps the ticket number (and the document it was sold
against). A sale that is not written after the charge (sold out meanwhile, a conflict) gives the
money back whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from open12306.payments.ports import CodePayer, PaymentError, PaymentProvider, TradeState
from open12306.sales.ports import PaymentRecord, PaymentRecordState
from open12306.sales.services.checkout import COUNTER, code_refusal
from open12306.sales.services.refund_retry import RefundRetry
from open12306.travel.ports import Authorized, OnboardCharge
from open12306.travel.services.onboard_sales import OnboardRefused

WALK_UP_ACCOUNT = "walk-up"
log = logging.getLogger("open12306.onboard")


class CounterOnboardPayment:
    """The ``counter`` channel for ``OnboardSales`` (see the module docstring)."""

    channel = COUNTER

    def __init__(
        self, provider: Callable[[], PaymentProvider | None], refunds: RefundRetry | None = None
    ) -> None:
        self.provider = provider
        self.refunds = refunds

    def _channel(self) -> Any:
        provider = self.provider()
        if provider is None or not hasattr(provider, "pay_with_code"):
            raise OnboardRefused(
                "payment", "channel_unavailable", "no payment-code channel is configured"
            )
        return provider

    def account_of(self, payer: str) -> str:
        if not payer.strip().isdigit():
            raise OnboardRefused("payment", "payment_code_malformed", "a payment code is digits")
        return WALK_UP_ACCOUNT

    def authorize(self, charge: OnboardCharge) -> Authorized:
        provider = self._channel()
        code = cast(CodePayer, provider)
        try:
            status = code.pay_with_code(
                charge.order_number, charge.amount_fen, charge.subject, charge.payer.strip()
            )
        except PaymentError as error:
            raise code_refusal(error) from None
        if status.state is not TradeState.PAID:
            try:
                provider.close(charge.order_number)
            except PaymentError:
                log.warning("closing unconfirmed on-board trade %s failed", charge.order_number)
            raise OnboardRefused(
                "payment",
                "not_confirmed",
                "the passenger must confirm the payment on their phone; scan a new code",
            )
        record = PaymentRecord(
            f"{COUNTER}:{charge.order_number}",
            charge.order_number,
            WALK_UP_ACCOUNT,
            COUNTER,
            charge.amount_fen,
            PaymentRecordState.SUCCEEDED,
            charge.at,
            charge.at,
            status.trade_no,
        )
        return Authorized(record)

    def void(self, authorized: Authorized) -> None:
        """Give the charge back whole; through the refund queue when there is one, so a
        channel failure now is retried rather than lost."""
        payment = authorized.payment
        number, amount = payment.order_number, payment.amount_fen
        if self.refunds is not None:
            self.refunds.submit(COUNTER, number, number, f"{number}V", amount, amount)
            return
        self._channel().refund(number, f"{number}V", amount, amount)
