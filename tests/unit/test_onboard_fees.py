"""On-board prices: fare + fee, and the surcharge for riding beyond a ticket."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.shared.errors import DomainError
from open12306.travel.domain.onboard import (
    OnboardFees,
    plan_extension,
    plan_supplementary,
    supplementary_price,
    surcharge,
    undeclared_ride_price,
)

DEFAULT = OnboardFees()


def test_the_default_fee_and_surcharge() -> None:
    assert (DEFAULT.onboard_fee_fen, DEFAULT.surcharge_basis_points) == (200, 5000)


def test_a_supplementary_ticket_costs_fare_and_fee() -> None:
    price = supplementary_price(5_450, DEFAULT)
    assert (price.fare_fen, price.fee_fen, price.extras_fen, price.total_fen) == (
        5_450,
        200,
        200,
        5_650,
    )


def test_an_undeclared_ride_pays_the_ridden_fare_half_again() -> None:
    price = undeclared_ride_price(3_000, 1_001, DEFAULT)
    assert price.ridden_fen == 1_001
    assert price.surcharge_fen == 501  # 500.5 rounded half up
    assert price.total_fen == 3_000 + 200 + 1_001 + 501


@given(st.integers(0, 10**7), st.integers(0, 10_000))
def test_the_surcharge_is_the_rate_of_the_ridden_fare(fare: int, rate: int) -> None:
    fees = OnboardFees(0, rate)
    extra = surcharge(fare, fees)
    assert abs(extra * 10_000 - fare * rate) <= 5_000
    assert 0 <= extra <= fare


@pytest.mark.parametrize(
    "bad",
    [{"onboard_fee_fen": -1}, {"surcharge_basis_points": 10_001}, {"surcharge_basis_points": -1}],
)
def test_fee_settings_are_checked(bad: dict[str, int]) -> None:
    with pytest.raises(DomainError):
        OnboardFees(**bad)


def test_a_ticket_costs_something() -> None:
    with pytest.raises(DomainError):
        supplementary_price(0, DEFAULT)


# --- where the new ticket starts -----------------------------------------------------------


def test_a_supplementary_ticket_starts_at_the_current_stop() -> None:
    plan = plan_supplementary(1, 3, 4)
    assert (plan.from_stop, plan.to_stop, plan.ridden) == (1, 3, None)
    with pytest.raises(DomainError) as back:
        plan_supplementary(2, 2, 4)
    assert back.value.field == "to"
    with pytest.raises(DomainError) as last:
        plan_supplementary(3, 4, 4)
    assert (last.value.field, last.value.status) == ("from", 422)


def test_an_extension_asked_in_time_starts_where_the_ticket_ends() -> None:
    assert plan_extension(0, 2, 1, 4, 5).from_stop == 2
    assert plan_extension(0, 2, 2, 4, 5).ridden is None


def test_an_extension_found_late_owes_the_ridden_stretch() -> None:
    plan = plan_extension(0, 2, 3, 4, 5)
    assert (plan.from_stop, plan.to_stop, plan.ridden) == (3, 4, (2, 3))


def test_an_extension_must_go_beyond_and_be_on_board() -> None:
    with pytest.raises(DomainError) as short:
        plan_extension(0, 3, 1, 3, 5)
    assert short.value.reason == "not_beyond"
    with pytest.raises(DomainError) as early:
        plan_extension(2, 3, 1, 4, 5)
    assert early.value.reason == "not_boarded"


# --- when sales are open ---------------------------------------------------------------------


def test_sales_open_before_the_segment_and_close_after_a_late_arrival() -> None:
    from datetime import UTC, datetime, timedelta

    from open12306.travel.domain.onboard import OutsideWindow, SaleWindow

    departs = datetime(2026, 2, 12, 4, 0, tzinfo=UTC)
    arrives = departs + timedelta(minutes=30)
    window = SaleWindow(opens_minutes=60, late_minutes=120)
    window.check(departs, arrives, departs - timedelta(minutes=60))
    window.check(departs, arrives, arrives + timedelta(minutes=120))
    with pytest.raises(OutsideWindow) as early:
        window.check(departs, arrives, departs - timedelta(minutes=61))
    assert (early.value.status, early.value.reason) == (409, "not_under_way")
    with pytest.raises(OutsideWindow) as late:
        window.check(departs, arrives, arrives + timedelta(minutes=121))
    assert late.value.reason == "segment_over"
    with pytest.raises(DomainError):
        SaleWindow(opens_minutes=-1)
