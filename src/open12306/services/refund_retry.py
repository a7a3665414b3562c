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
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from open12306.services.payments_port import (
    PaymentError,
    PaymentProvider,
    RefundState,
)
from open12306.services.ports import Clock

log = logging.getLogger("open12306.refund_retry")
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


class PendingState(StrEnum):
    PENDING = "pending"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class PendingRefund:
    """A channel refund we owe: ``refund_no`` is its idempotency number at the channel;
    ``trade_no`` is our trade number there (the order number, or a change payment's)."""

    refund_no: str
    order_number: str
    trade_no: str
    channel: str
    amount_fen: int
    total_fen: int
    created_at: datetime
    next_at: datetime
    state: PendingState = PendingState.PENDING
    attempts: int = 0
    last_error: str = ""


class RefundQueue(Protocol):
    """Where pending refunds are kept (one row per refund number)."""

    def save_refund(self, refund: PendingRefund) -> None: ...

    def pending_refund(self, refund_no: str) -> PendingRefund | None: ...

    def due_refunds(self, now: datetime, limit: int) -> list[PendingRefund]: ...


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failures: 30 s doubling, at most 1 h."""
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_DELAY * (1 << min(attempts - 1, 16)), MAX_DELAY)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did: refunds confirmed by the channel, and those still failing."""

    confirmed: int
    failing: int


class RefundRetry:
    """Sends pending refunds to their channels until each is confirmed."""

    def __init__(
        self,
        queue: RefundQueue,
        providers: Callable[[str], PaymentProvider | None],
        clock: Clock,
    ) -> None:
        self.queue = queue
        self.providers = providers
        self.clock = clock

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
        if known.state is PendingState.DONE:
            return True
        return self._attempt(known, now, ask_first=False)

    def run_due(self, limit: int = 100) -> SweepReport:
        """One sweep over the refunds due now (the sweeper method)."""
        now = self.clock.now()
        confirmed = failing = 0
        for refund in self.queue.due_refunds(now, limit):
            if self._attempt(refund, now, ask_first=True):
                confirmed += 1
            else:
                failing += 1
        return SweepReport(confirmed, failing)

    def pending(self, refund_numbers: Sequence[str]) -> list[PendingRefund]:
        found = (self.queue.pending_refund(n) for n in refund_numbers)
        return [r for r in found if r is not None]

    def _attempt(self, refund: PendingRefund, now: datetime, *, ask_first: bool) -> bool:
        provider = self.providers(refund.channel)
        if provider is None:
            return self._failed(refund, now, f"no provider for {refund.channel}")
        try:
            if ask_first:
                known = provider.refund_status(refund.trade_no, refund.refund_no)
                if known.state in (RefundState.SUCCEEDED, RefundState.PROCESSING):
                    return self._done(refund, now)
            result = provider.refund(
                refund.trade_no, refund.refund_no, refund.amount_fen, refund.total_fen
            )
        except PaymentError as exc:
            return self._failed(refund, now, f"{exc.code}: {exc.message}")
        except Exception as exc:  # a channel adapter bug must not stop the sweep
            log.exception("refund %s via %s", refund.refund_no, refund.channel)
            return self._failed(refund, now, f"{type(exc).__name__}: {exc}")
        if result.state is RefundState.FAILED:
            return self._failed(refund, now, "the channel reports the refund failed")
        return self._done(refund, now)

    def _done(self, refund: PendingRefund, now: datetime) -> bool:
        self.queue.save_refund(
            dataclasses.replace(
                refund, state=PendingState.DONE, attempts=refund.attempts + 1, next_at=now
            )
        )
        return True

    def _failed(self, refund: PendingRefund, now: datetime, error: str) -> bool:
        attempts = refund.attempts + 1
        log.warning(
            "refund %s via %s failed (%s); will retry", refund.refund_no, refund.channel, error
        )
        self.queue.save_refund(
            dataclasses.replace(
                refund,
                attempts=attempts,
                next_at=now + retry_delay(attempts),
                last_error=error[:500],
            )
        )
        return False
