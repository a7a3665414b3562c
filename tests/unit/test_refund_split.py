"""Splitting a refund across an order's trades, and which channel refusals are for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.payments.ports import PaymentError, RefundResult, RefundState
from open12306.sales.domain.refund_split import Draw, Trade, lineage, split_refund
from open12306.sales.ports import PendingRefund, PendingState
from open12306.sales.services.refund_retry import RefundRetry, permanent_refusal
from open12306.shared.clock import FixedClock
from open12306.shared.errors import DomainError

NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)
ORDER = Trade("alipay", "E1", 10_000, 0, NOW)
CHANGE = Trade("alipay", "E110C1", 6_000, 0, NOW + timedelta(hours=1), "E110")
OTHER = Trade("wechatpay", "E120C1", 3_000, 0, NOW + timedelta(hours=2), "E120")


def test_the_changed_tickets_own_trade_goes_first_then_the_order_trade() -> None:
    plan = split_refund(15_200, [ORDER, CHANGE, OTHER], {"E111", "E110"})
    assert plan.draws == (
        Draw("alipay", "E110C1", 6_000, 6_000),
        Draw("alipay", "E1", 9_200, 10_000),
    )
    assert plan.shortfall_fen == 0


def test_another_tickets_refund_leaves_the_change_trades_alone() -> None:
    plan = split_refund(4_000, [ORDER, CHANGE, OTHER], {"E130"})
    assert plan.draws == (Draw("alipay", "E1", 4_000, 10_000),)


def test_what_was_refunded_before_is_not_asked_again_and_the_rest_is_short() -> None:
    spent = Trade("alipay", "E1", 10_000, 9_000, NOW)
    plan = split_refund(20_000, [spent, CHANGE], {"E110"})
    assert plan.draws == (
        Draw("alipay", "E110C1", 6_000, 6_000),
        Draw("alipay", "E1", 1_000, 10_000),
    )
    assert plan.shortfall_fen == 13_000


def test_a_trade_listed_twice_or_a_negative_refund_is_refused() -> None:
    with pytest.raises(DomainError):
        split_refund(1, [ORDER, ORDER])
    with pytest.raises(DomainError):
        split_refund(-1, [ORDER])


def test_lineage_follows_changes_back() -> None:
    from open12306.sales.domain.tickets import Ticket

    def ticket(number: str, before: str | None) -> Ticket:
        return Ticket(number, "E1", 0, None, 1, "01A", 100, changed_from=before)  # type: ignore[arg-type]

    tickets = [ticket("E110", None), ticket("E111", "E110"), ticket("E120", None)]
    assert lineage(tickets, ["E111"]) == {"E111", "E110"}
    assert lineage(tickets, ["E120"]) == {"E120"}


trades = st.lists(
    st.tuples(st.integers(1, 50_000), st.integers(0, 50_000), st.integers(0, 3), st.booleans()),
    min_size=1,
    max_size=6,
)


@given(trades, st.integers(0, 200_000))
def test_draws_never_exceed_a_trade_and_add_up(
    specs: list[tuple[int, int, int, bool]], amount: int
) -> None:
    listed = [
        Trade(
            "alipay",
            f"T{i}",
            paid,
            min(done, paid),
            NOW + timedelta(hours=h),
            f"K{i}" if own else None,
        )
        for i, (paid, done, h, own) in enumerate(specs)
    ]
    plan = split_refund(amount, listed, {"K0", "K1"})
    left = {t.trade_no: t.paid_fen - t.refunded_fen for t in listed}
    assert plan.drawn_fen + plan.shortfall_fen == amount
    assert len({d.trade_no for d in plan.draws}) == len(plan.draws)
    for draw in plan.draws:
        assert 0 < draw.amount_fen <= left[draw.trade_no]
    if plan.shortfall_fen:
        assert plan.drawn_fen == sum(left.values())


@pytest.mark.parametrize(
    ("code", "permanent"),
    [
        ("ACQ.REASON_TRADE_REFUND_FEE_ERR", True),
        ("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", True),
        ("ACQ.TRADE_HAS_FINISHED", True),
        ("INVALID_REQUEST", True),
        ("NOT_ENOUGH", True),
        ("404", True),
        ("aop.unknow-error", False),
        ("ACQ.SYSTEM_ERROR", False),
        ("SYSTEM_ERROR", False),
        ("FREQUENCY_LIMITED", False),
        ("network", False),
        ("NETWORK", False),
        ("500", False),
        ("429", False),
    ],
)
def test_which_refusals_are_for_good(code: str, permanent: bool) -> None:
    assert permanent_refusal(code) is permanent


class Queue:
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

    def refunds_for_order(self, order_number: str) -> list[PendingRefund]:
        return [r for r in self.rows.values() if r.order_number == order_number]

    def failed_refunds(self, limit: int) -> list[PendingRefund]:
        return [r for r in self.rows.values() if r.state is PendingState.FAILED][:limit]


class Failing:
    """A channel that always fails with ``code``."""

    name = "alipay"

    def __init__(self, code: str) -> None:
        self.code = code
        self.calls = 0

    def refund(
        self, order_no: str, refund_no: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundResult:
        self.calls += 1
        raise PaymentError("alipay", self.code, "no")

    def refund_status(self, order_no: str, refund_no: str) -> RefundResult:
        return RefundResult("alipay", order_no, refund_no, RefundState.NOT_FOUND)


def test_a_transient_failure_gives_up_after_max_attempts() -> None:
    channel, queue, clock = Failing("aop.unknow-error"), Queue(), FixedClock(NOW)
    retry = RefundRetry(queue, lambda name: channel, clock, max_attempts=4)  # type: ignore[arg-type,return-value]
    assert not retry.submit("alipay", "E1", "E1", "E1R", 100, 1000)
    for _ in range(10):
        clock.advance(timedelta(hours=1))
        retry.run_due()
    row = queue.rows["E1R"]
    assert row.state is PendingState.FAILED and row.attempts == 4 == channel.calls
    assert row.last_error.startswith("gave up after 4 attempts")
    assert retry.failed() == [row]


def test_only_a_failed_refund_can_be_requeued() -> None:
    channel, queue, clock = Failing("ACQ.TRADE_HAS_FINISHED"), Queue(), FixedClock(NOW)
    retry = RefundRetry(queue, lambda name: channel, clock)  # type: ignore[arg-type,return-value]
    retry.record_done("credit", "E1", "E1", "E1R", 100, 1000)
    with pytest.raises(DomainError) as refused:
        retry.requeue("E1R")
    assert refused.value.reason == "not_failed"
    assert not retry.submit("alipay", "E2", "E2", "E2R", 100, 1000)
    assert queue.rows["E2R"].state is PendingState.FAILED
    assert retry.requeue("E2R").attempts == 0
    assert retry.run_due().failed == 1 and channel.calls == 2
