"""The pay-later assessment: score adjustments, refusals and both limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.shared.errors import DomainError
from open12306.transit.domain.credit_score import CreditHistory as CreditRecord
from open12306.transit.domain.credit_score import credit_decision as assess
from open12306.transit.domain.credit_score import credit_score as line_score


def test_a_new_account_may_ride_with_the_lowest_limits() -> None:
    result = assess(CreditRecord(account_age_days=0))
    assert (result.score, result.pay_later, result.reason) == (600, True, "ok")
    assert (result.credit_limit_fen, result.offline_limit_fen) == (50_000, 2_000)


def test_arrears_refuse_whatever_the_score() -> None:
    result = assess(CreditRecord(800, paid_days=100, arrears_fen=1))
    assert (result.pay_later, result.reason, result.credit_limit_fen) == (False, "arrears", 0)


def test_failures_repaid_on_time_cost_less_than_late_ones() -> None:
    late = line_score(CreditRecord(0, failed_charges=2))
    on_time = line_score(CreditRecord(0, failed_charges=2, repaid_on_time=2))
    assert (late, on_time) == (520, 580)
    assert assess(CreditRecord(0, failed_charges=2)).reason == "score_too_low"


def test_paid_journeys_and_days_raise_the_limits() -> None:
    result = assess(CreditRecord(600, paid_days=100, paid_journeys=500))
    assert result.score == 600 + 200 + 100 + 50
    assert (result.credit_limit_fen, result.offline_limit_fen) == (500_000, 20_000)


def test_impossible_records_are_refused() -> None:
    with pytest.raises(DomainError):
        CreditRecord(0, failed_charges=1, repaid_on_time=2)


@given(st.integers(0, 5000), st.integers(0, 500), st.integers(0, 5000), st.integers(0, 20))
def test_more_paid_history_never_lowers_the_limits(
    age: int, days: int, journeys: int, failed: int
) -> None:
    base = assess(CreditRecord(age, days, paid_journeys=journeys, failed_charges=failed))
    better = assess(CreditRecord(age, days + 1, paid_journeys=journeys + 10, failed_charges=failed))
    assert better.score >= base.score
    assert better.credit_limit_fen >= base.credit_limit_fen
    assert 350 <= base.score <= 950
