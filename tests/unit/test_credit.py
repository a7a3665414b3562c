"""The pay-later credit score: range, each rule's direction, eligibility and offline limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.shared.errors import DomainError
from open12306.transit.domain.credit_score import (
    DEFAULT_CREDIT_RULES,
    CreditHistory,
    credit_decision,
    credit_score,
)


def test_a_new_account_starts_at_600_and_may_ride_with_the_lowest_limit() -> None:
    decision = credit_decision(CreditHistory(account_age_days=0))
    assert decision.score == 600
    assert decision.pay_later
    assert decision.offline_limit_fen == 2_000


def test_paid_days_and_age_raise_the_score_up_to_their_caps() -> None:
    assert credit_score(CreditHistory(account_age_days=0, paid_days=30)) == 660
    assert credit_score(CreditHistory(account_age_days=90)) == 615
    assert credit_score(CreditHistory(account_age_days=30 * 100, paid_days=1_000)) == 900


def test_failed_charges_lower_the_score() -> None:
    assert credit_score(CreditHistory(account_age_days=0, failed_charges=1)) == 560
    assert credit_score(CreditHistory(account_age_days=0, failed_charges=2)) == 520
    decision = credit_decision(CreditHistory(account_age_days=0, failed_charges=2))
    assert not decision.pay_later
    assert decision.reason == "score_too_low"


def test_arrears_block_pay_later_whatever_the_score() -> None:
    history = CreditHistory(account_age_days=3_000, paid_days=500, arrears_fen=300)
    decision = credit_decision(history)
    assert decision.score == 800  # 900 less the 100 points of open arrears
    assert not decision.pay_later
    assert decision.offline_limit_fen == 0
    assert decision.reason == "arrears"


@pytest.mark.parametrize(
    ("paid_days", "limit"), [(0, 2_000), (25, 5_000), (75, 10_000), (100, 10_000)]
)
def test_offline_limit_tiers(paid_days: int, limit: int) -> None:
    history = CreditHistory(account_age_days=0, paid_days=paid_days)
    assert credit_decision(history).offline_limit_fen == limit


def test_top_tier_needs_850() -> None:
    history = CreditHistory(account_age_days=30 * 20, paid_days=75)
    assert credit_score(history) == 850
    assert credit_decision(history).offline_limit_fen == 20_000


def test_negative_history_is_refused() -> None:
    with pytest.raises(DomainError):
        CreditHistory(account_age_days=-1)


HISTORIES = st.builds(
    CreditHistory,
    account_age_days=st.integers(0, 10_000),
    paid_days=st.integers(0, 5_000),
    failed_charges=st.integers(0, 50),
    arrears_fen=st.integers(0, 100_000),
)


@given(HISTORIES)
def test_score_stays_in_range_and_limits_follow_eligibility(history: CreditHistory) -> None:
    decision = credit_decision(history)
    assert DEFAULT_CREDIT_RULES.floor <= decision.score <= DEFAULT_CREDIT_RULES.ceiling
    assert decision.pay_later == (history.arrears_fen == 0 and decision.score >= 550)
    assert (decision.offline_limit_fen > 0) == decision.pay_later


@given(HISTORIES, st.integers(1, 50))
def test_a_failure_never_raises_the_score(history: CreditHistory, more: int) -> None:
    worse = CreditHistory(
        history.account_age_days,
        history.paid_days,
        history.failed_charges + more,
        history.arrears_fen,
    )
    assert credit_score(worse) <= credit_score(history)
