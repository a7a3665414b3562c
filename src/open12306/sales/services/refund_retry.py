"""Channel refunds that must still reach the channel, and the sweeper that retries them.

A refund is committed in our database first (ticket refunded, seat back on sale, ledger
written); the money then goes back through the channel that took it. The channel call can
fail after that commit (network error, the channel's own error). So every channel refund is
first recorded here as ``pending``; a success marks it ``done``; a failure leaves it pending
with the error and a next attempt time, backing off (``retry_delay``). ``RefundRetry.run_due``
(called by the allocator loop or ``open12306 orders refunds-retry``) asks the channel about
each due refund first (``refund_status``: it may have gone through although the answer was
lost) and sends it again only if the channel does not know it; the refund number
(``out_request_no`` / ``out_refund_no``) makes a repeated request harmless at the channel.

Only transient failures are retried: the network, the channel's "system busy" answers
(Alipay ``20000`` / ``aop.unknow-error`` / ``ACQ.SYSTEM_ERROR``, WeChat Pay ``SYSTEM_ERROR`` /
``FREQUENCY_LIMITED`` / HTTP 5xx) and codes we do not know. A refusal that asking again
cannot change (``permanent_refusal``: the amount exceeds what the trade can refund, the trade
is closed, finished or unknown, the request is invalid, the merchant's balance is short) marks
the refund ``failed`` with the reason, as does a transient failure that lasts
``max_attempts`` tries. Failed refunds are never retried on their own; an operator lists them
(``failed``) and, once the cause is dealt with (a top-up, a fixed amount), ``requeue``s one.
A refund that moves no money at a channel (the credit line; a channel this process has no
provider for) is recorded ``done`` at once (``record_done``), so that what was drawn from
each trade is known (``refunds_for_order``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from open12306.payments.ports import (
    PaymentError,
    PaymentProvider,
    RefundState,
)
from open12306.sales.ports import PendingRefund, PendingState, RefundBook, RefundQueue
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError, NotFound

log = logging.getLogger("open12306.refund_retry")
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


MAX_ATTEMPTS = 48  # about a day and a half at the 1 h ceiling

# Refusals that asking again cannot change (the channels' documented refund error codes).
PERMANENT_CODES = frozenset(
    {
        # Alipay (alipay.trade.refund sub_codes, and the gateway's parameter codes)
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
        "ACQ.REASON_TRADE_REFUND_FEE_ERR",
        "ACQ.REFUND_FEE_ERROR",
        "ACQ.TRADE_NOT_EXIST",
        "ACQ.TRADE_STATUS_ERROR",
        "ACQ.TRADE_HAS_FINISHED",
        "ACQ.TRADE_HAS_CLOSE",
        "ACQ.TRADE_NOT_ALLOW_REFUND",
        "ACQ.REASON_TRADE_BEEN_FREEZEN",
        "ACQ.DISCORDANT_REPEAT_REQUEST",
        "ACQ.INVALID_PARAMETER",
        "ACQ.SELLER_BALANCE_NOT_ENOUGH",
        "ACQ.ONLINE_TRADE_VOUCHER_NOT_ALLOW_REFUND",
        "40001",
        "40002",
        "40004",
        "40006",
        # WeChat Pay (v3 refunds)
        "INVALID_REQUEST",
        "PARAM_ERROR",
        "NOT_ENOUGH",
        "ORDER_NOT_EXIST",
        "RESOURCE_NOT_EXISTS",
        "USER_ACCOUNT_ABNORMAL",
        "MCH_NOT_EXISTS",
        "NO_AUTH",
        "MISMATCH",
    }
)


def permanent_refusal(code: str) -> bool:
    """Whether a channel's refund error ``code`` is one that asking again cannot change."""
    if code in PERMANENT_CODES:
        return True
    # a bare HTTP status from WeChat Pay: 4xx is the request, 5xx (and 429) the channel
    return code.isdigit() and len(code) == 3 and code.startswith("4") and code != "429"


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failures: 30 s doubling, at most 1 h."""
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_DELAY * (1 << min(attempts - 1, 16)), MAX_DELAY)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did: refunds confirmed by the channel, those still failing (to be
    retried), and those that failed for good in this sweep (left for an operator)."""

    confirmed: int
    failing: int
    failed: int = 0


class RefundRetry:
    """Sends pending refunds to their channels until each is confirmed or fails for good."""

    def __init__(
        self,
        queue: RefundQueue,
        providers: Callable[[str], PaymentProvider | None],
        clock: Clock,
        *,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.queue = queue
        self.providers = providers
        self.clock = clock
        self.max_attempts = max_attempts

    def submit(
        self,
        channel: str,
        order_number: str,
        trade_no: str,
        refund_no: str,
        amount_fen: int,
        total_fen: int,
    ) -> bool:
        """Record the refund, then try it once now; whether the channel confirmed it."""
        now = self.clock.now()
        known = self.queue.pending_refund(refund_no)
        if known is None:
            known = PendingRefund(
                refund_no, order_number, trade_no, channel, amount_fen, total_fen, now, now
            )
            self.queue.save_refund(known)
        if known.state is not PendingState.PENDING:
            return known.state is PendingState.DONE
        return self._attempt(known, now, ask_first=False) is PendingState.DONE

    def record_done(
        self,
        channel: str,
        order_number: str,
        trade_no: str,
        refund_no: str,
        amount_fen: int,
        total_fen: int,
        note: str = "",
    ) -> None:
        """Record a refund that moves no money at a channel (the credit line) as done."""
        if self.queue.pending_refund(refund_no) is not None:
            return
        now = self.clock.now()
        self.queue.save_refund(
            PendingRefund(
                refund_no,
                order_number,
                trade_no,
                channel,
                amount_fen,
                total_fen,
                now,
                now,
                PendingState.DONE,
                last_error=note,
            )
        )

    def run_due(self, limit: int = 100) -> SweepReport:
        """One sweep over the refunds due now (the sweeper method)."""
        now = self.clock.now()
        counts = {state: 0 for state in PendingState}
        for refund in self.queue.due_refunds(now, limit):
            counts[self._attempt(refund, now, ask_first=True)] += 1
        return SweepReport(
            counts[PendingState.DONE], counts[PendingState.PENDING], counts[PendingState.FAILED]
        )

    def pending(self, refund_numbers: Sequence[str]) -> list[PendingRefund]:
        found = (self.queue.pending_refund(n) for n in refund_numbers)
        return [r for r in found if r is not None]

    def for_order(self, order_number: str) -> list[PendingRefund]:
        """Every channel refund recorded for the order (any state), oldest first."""
        return self._book().refunds_for_order(order_number)

    def failed(self, limit: int = 100) -> list[PendingRefund]:
        """Refunds that failed for good, for an operator to look at (oldest first)."""
        return self._book().failed_refunds(limit)

    def requeue(self, refund_no: str) -> PendingRefund:
        """Put a failed refund back in the queue, due now (after an operator fixed its cause);
        its attempts start again from zero."""
        known = self.queue.pending_refund(refund_no)
        if known is None:
            raise NotFound("refund", "not_found", f"no refund {refund_no}")
        if known.state is not PendingState.FAILED:
            raise DomainError("refund", "not_failed", f"refund {refund_no} is {known.state}")
        again = dataclasses.replace(
            known, state=PendingState.PENDING, attempts=0, next_at=self.clock.now()
        )
        self.queue.save_refund(again)
        return again

    def _book(self) -> RefundBook:
        if not hasattr(self.queue, "refunds_for_order"):
            raise TypeError("the refund queue cannot list refunds")
        return cast(RefundBook, self.queue)

    def _attempt(self, refund: PendingRefund, now: datetime, *, ask_first: bool) -> PendingState:
        provider = self.providers(refund.channel)
        if provider is None:
            return self._failed(refund, now, f"no provider for {refund.channel}", permanent=False)
        try:
            if ask_first:
                known = provider.refund_status(refund.trade_no, refund.refund_no)
                if known.state in (RefundState.SUCCEEDED, RefundState.PROCESSING):
                    return self._done(refund, now)
            result = provider.refund(
                refund.trade_no, refund.refund_no, refund.amount_fen, refund.total_fen
            )
        except PaymentError as exc:
            permanent = permanent_refusal(exc.code)
            return self._failed(refund, now, f"{exc.code}: {exc.message}", permanent=permanent)
        except Exception as exc:  # a channel adapter bug must not stop the sweep
            log.exception("refund %s via %s", refund.refund_no, refund.channel)
            return self._failed(refund, now, f"{type(exc).__name__}: {exc}", permanent=False)
        if result.state is RefundState.FAILED:
            return self._failed(
                refund, now, "the channel reports the refund failed", permanent=True
            )
        return self._done(refund, now)

    def _done(self, refund: PendingRefund, now: datetime) -> PendingState:
        self.queue.save_refund(
            dataclasses.replace(
                refund, state=PendingState.DONE, attempts=refund.attempts + 1, next_at=now
            )
        )
        return PendingState.DONE

    def _failed(
        self, refund: PendingRefund, now: datetime, error: str, *, permanent: bool
    ) -> PendingState:
        attempts = refund.attempts + 1
        if permanent or attempts >= self.max_attempts:
            why = "refused" if permanent else f"gave up after {attempts} attempts"
            log.error(
                "refund %s of %s via %s failed for good (%s: %s); an operator must look at it",
                refund.refund_no,
                refund.order_number,
                refund.channel,
                why,
                error,
            )
            state, next_at, error = PendingState.FAILED, now, f"{why}: {error}"
        else:
            log.warning(
                "refund %s via %s failed (%s); will retry", refund.refund_no, refund.channel, error
            )
            state, next_at = PendingState.PENDING, now + retry_delay(attempts)
        self.queue.save_refund(
            dataclasses.replace(
                refund, state=state, attempts=attempts, next_at=next_at, last_error=error[:500]
            )
        )
        return state
