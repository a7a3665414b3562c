"""The refund retry queue with an in-memory queue and a channel that fails on demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from open12306.payments.ports import PaymentError, RefundResult, RefundState
from open12306.sales.ports import PendingRefund, PendingState
from open12306.sales.services.refund_retry import MAX_DELAY, RefundRetry, retry_delay
from open12306.shared.clock import FixedClock

NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)


class MemoryQueue:
    def __init__(self) -> None:
        self.rows: dict[str, PendingRefund] = {}

    def save_refund(self, refund: PendingRefund) -> None:
        self.rows[refund.refund_no] = refund

    def pending_refund(self, refund_no: str) -> PendingRefund | None:
        return self.rows.get(refund_no)

    def due_refunds(self, now: datetime, limit: int) -> list[PendingRefund]:
        due = [
            r for r in self.rows.values() if r.state is PendingState.PENDING and r.next_at <= now
        ]
        return sorted(due, key=lambda r: r.next_at)[:limit]


class FlakyChannel:
    """Refunds fail ``failures`` times, then go through; each refund number moves money once."""

    name = "alipay"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.moved: dict[str, int] = {}
        self.calls = 0

    def refund(
        self, order_no: str, refund_no: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundResult:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise PaymentError("alipay", "network", "connection reset")
        self.moved.setdefault(refund_no, amount_fen)
        return RefundResult("alipay", order_no, refund_no, RefundState.SUCCEEDED, amount_fen)

    def refund_status(self, order_no: str, refund_no: str) -> RefundResult:
        state = RefundState.SUCCEEDED if refund_no in self.moved else RefundState.NOT_FOUND
        return RefundResult("alipay", order_no, refund_no, state)


def retry_with(channel: FlakyChannel) -> tuple[RefundRetry, MemoryQueue, FixedClock]:
    queue, clock = MemoryQueue(), FixedClock(NOW)
    return RefundRetry(queue, lambda name: channel, clock), queue, clock  # type: ignore[arg-type,return-value]


def test_the_delay_doubles_from_30_seconds_to_an_hour() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 5)] == [30, 60, 120, 240]
    assert retry_delay(40) == MAX_DELAY


@given(st.integers(min_value=1, max_value=200))
def test_the_delay_never_shrinks(attempts: int) -> None:
    assert retry_delay(attempts) <= retry_delay(attempts + 1) <= MAX_DELAY


@given(st.integers(min_value=0, max_value=6))
def test_a_refund_is_retried_until_confirmed_and_moves_money_once(failures: int) -> None:
    channel = FlakyChannel(failures)
    retry, queue, clock = retry_with(channel)
    confirmed = retry.submit("alipay", "E1", "E1", "E1R", 500, 1000)
    assert confirmed is (failures == 0)
    for _ in range(10):
        clock.advance(timedelta(hours=1))
        retry.run_due()
    row = queue.rows["E1R"]
    assert row.state is PendingState.DONE
    assert channel.moved == {"E1R": 500}
    assert row.attempts == failures + 1


def test_a_refund_the_channel_already_has_is_not_sent_again() -> None:
    channel = FlakyChannel(1)
    retry, queue, clock = retry_with(channel)
    assert not retry.submit("alipay", "E1", "E1", "E1R", 500, 1000)
    channel.moved["E1R"] = 500  # it went through; the answer was lost
    calls = channel.calls
    clock.advance(timedelta(minutes=1))
    assert retry.run_due().confirmed == 1
    assert channel.calls == calls
    assert queue.rows["E1R"].state is PendingState.DONE
