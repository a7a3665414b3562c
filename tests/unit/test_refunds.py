from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.sales.domain.refunds import (
    DEFAULT_LADDER,
    RefundLadder,
    change_quote,
    check_change_window,
    fee_rate,
    refund_fee,
    refund_quote,
    round_fee,
)
from open12306.shared.errors import DomainError

TZ = ZoneInfo("Asia/Shanghai")
DEPART = datetime(2026, 2, 20, 9, 0, tzinfo=TZ)
L = DEFAULT_LADDER
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("lead", "rate"),
    [
        (timedelta(days=30), 0),
        (timedelta(days=8), 0),
        (timedelta(days=8) - SECOND, 500),
        (timedelta(hours=48), 500),
        (timedelta(hours=48) - SECOND, 1000),
        (timedelta(hours=24), 1000),
        (timedelta(hours=24) - SECOND, 2000),
        (SECOND, 2000),
    ],
)
def test_ladder_boundaries(lead: timedelta, rate: int) -> None:
    assert fee_rate(L, lead) == rate
    quote = refund_quote(L, 10000, DEPART, DEPART - lead)
    assert quote.rate == rate
    assert quote.fee_fen == rate  # 100 yuan: the rate in basis points is the fee in fen
    assert quote.refund_fen == 10000 - rate


def test_no_refund_once_departed() -> None:
    for at in (DEPART, DEPART + timedelta(minutes=1)):
        with pytest.raises(DomainError) as info:
            refund_quote(L, 10000, DEPART, at)
        assert info.value.reason == "departed"


@pytest.mark.parametrize(
    ("fen", "rounded"),
    [
        (1224, 1200),  # 12.24 → 12
        (1225, 1250),  # 12.25 → 12.5
        (1274, 1250),
        (1275, 1300),  # 12.75 → 13
        (1299, 1300),
        (1300, 1300),
        (0, 0),
    ],
)
def test_round_fee_to_half_yuan(fen: int, rounded: int) -> None:
    assert round_fee(fen * 10000) == rounded


def test_round_fee_uses_exact_fractions_of_a_fen() -> None:
    # 5 % of 4.99 yuan is 24.95 fen: below 0.25 yuan, dropped before the minimum applies.
    assert round_fee(499 * 500) == 0
    # 5 % of 5 yuan is exactly 25 fen: counts as 0.5 yuan.
    assert round_fee(500 * 500) == 50


def test_minimum_fee_and_cap() -> None:
    assert refund_fee(L, 1000, 500) == 200  # 0.5 yuan → minimum 2 yuan
    assert refund_fee(L, 150, 2000) == 150  # never more than the amount
    assert refund_fee(L, 1000, 0) == 0
    assert refund_fee(L, 0, 2000) == 0
    with pytest.raises(DomainError):
        refund_fee(L, -1, 500)


def test_real_world_example() -> None:
    # 553 yuan, refunded 30 hours before departure: 10 % = 55.30 → 55.5 yuan.
    quote = refund_quote(L, 55300, DEPART, DEPART - timedelta(hours=30))
    assert (quote.fee_fen, quote.refund_fen) == (5550, 49750)


@given(st.integers(1, 2_000_000), st.integers(1, 60 * 24 * 20))
def test_fee_never_exceeds_fare_and_follows_the_band(fare: int, minutes: int) -> None:
    lead = timedelta(minutes=minutes)
    quote = refund_quote(L, fare, DEPART, DEPART - lead)
    assert quote.fee_fen + quote.refund_fen == fare
    assert 0 <= quote.fee_fen <= fare
    exact = fare * quote.rate / 10000
    if quote.rate and quote.fee_fen < fare and quote.fee_fen > L.minimum_fee_fen:
        assert abs(quote.fee_fen - exact) <= 25 + 1e-9
    if quote.rate == 0:
        assert quote.fee_fen == 0


@given(st.integers(1, 10**6), st.sampled_from([500, 1000, 2000]))
def test_fee_grows_with_the_fare(fare: int, rate: int) -> None:
    assert refund_fee(L, fare, rate) <= refund_fee(L, fare + 1, rate)


def test_custom_ladder_validation() -> None:
    with pytest.raises(ValueError):
        RefundLadder(steps=((timedelta(hours=1), 100),))  # does not end at 0
    with pytest.raises(ValueError):
        RefundLadder(steps=((timedelta(0), 100), (timedelta(hours=1), 0)))
    with pytest.raises(ValueError):
        RefundLadder(steps=((timedelta(0), 20000),))
    flat = RefundLadder(steps=((timedelta(0), 1000),), minimum_fee_fen=0)
    assert refund_quote(flat, 10, DEPART, DEPART - timedelta(days=99)).fee_fen == 0


# --- changes ---------------------------------------------------------------------------


def test_change_window_far_ahead_allows_any_date() -> None:
    at = DEPART - timedelta(hours=48, seconds=1)
    check_change_window(L, DEPART, DEPART + timedelta(days=10), at)


def test_change_window_within_48h_same_day_only() -> None:
    at = DEPART - timedelta(hours=48)
    same_day_late = DEPART.replace(hour=23, minute=59)
    check_change_window(L, DEPART, same_day_late, at)
    check_change_window(L, DEPART, DEPART - timedelta(hours=3), at)  # an earlier train
    with pytest.raises(DomainError) as info:
        check_change_window(L, DEPART, DEPART.replace(hour=0) + timedelta(days=1), at)
    assert info.value.reason == "change_too_late"


def test_change_window_dates_are_local() -> None:
    # 23:30 in Shanghai is 15:30 UTC the same day: still the ticket's date.
    late = datetime(2026, 2, 20, 15, 30, tzinfo=ZoneInfo("UTC"))
    check_change_window(L, DEPART, late, DEPART - timedelta(hours=1))


def test_change_after_departure_or_to_a_gone_train() -> None:
    with pytest.raises(DomainError) as info:
        check_change_window(L, DEPART, DEPART + timedelta(hours=2), DEPART)
    assert info.value.reason == "departed"
    with pytest.raises(DomainError) as info:
        check_change_window(L, DEPART, DEPART - timedelta(hours=2), DEPART - timedelta(hours=1))
    assert info.value.reason == "departed"


def test_dearer_change_pays_the_difference() -> None:
    at = DEPART - timedelta(hours=30)
    quote = change_quote(L, 10000, 12500, DEPART, DEPART + timedelta(hours=2), at)
    assert (quote.pay_fen, quote.refund_fen, quote.fee_fen) == (2500, 0, 0)


def test_cheaper_change_refunds_the_difference_less_the_fee() -> None:
    at = DEPART - timedelta(hours=30)  # 10 % band
    quote = change_quote(L, 55300, 30000, DEPART, DEPART + timedelta(hours=2), at)
    # difference 253 yuan, 10 % = 25.30 → 25.5 yuan kept
    assert (quote.pay_fen, quote.refund_fen, quote.fee_fen) == (0, 25300 - 2550, 2550)
    free = change_quote(L, 55300, 30000, DEPART, DEPART, DEPART - timedelta(days=9))
    assert (free.refund_fen, free.fee_fen) == (25300, 0)


def test_change_into_the_free_band_keeps_the_fee_rate() -> None:
    at = DEPART - timedelta(days=5)  # 5 % band
    far = DEPART + timedelta(days=9)
    quote = change_quote(L, 10000, 10000, DEPART, far, at)
    assert quote.refund_floor == 500
    later = refund_quote(L, 10000, far, far - timedelta(days=10), floor=quote.refund_floor)
    assert later.fee_fen == 500
    plain = change_quote(L, 10000, 10000, DEPART, far, DEPART - timedelta(days=9))
    assert plain.refund_floor == 0
