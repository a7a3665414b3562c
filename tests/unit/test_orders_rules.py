from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.catalog.domain.fares import PassengerType
from open12306.sales.domain import (
    Interval,
    Passenger,
    PassengerKey,
    SaleRules,
    Trip,
    check_submission,
    overlaps,
    pay_deadline,
)
from open12306.shared.errors import DomainError
from tests.unit.test_orders_support import NOW, TZ, a_passenger, a_trip

RULES = SaleRules()


def submit(
    trip: Trip | None = None,
    passengers: Sequence[Passenger] | None = None,
    now: datetime = NOW,
    unpaid: int = 0,
    existing: Mapping[PassengerKey, Sequence[Interval]] | None = None,
    rules: SaleRules = RULES,
) -> None:
    check_submission(
        trip or a_trip(),
        [a_passenger(1)] if passengers is None else passengers,
        now,
        unpaid,
        existing or {},
        rules,
    )


def rejected(**kwargs: object) -> tuple[str, str]:
    with pytest.raises(DomainError) as info:
        submit(**kwargs)  # type: ignore[arg-type]
    return info.value.field, info.value.reason


def test_a_plain_order_passes() -> None:
    submit()


def test_presale_window_counts_today() -> None:
    last_day = NOW.replace(hour=22) + timedelta(days=14)
    submit(trip=a_trip(last_day))
    first_closed = NOW.replace(hour=6) + timedelta(days=15)
    assert rejected(trip=a_trip(first_closed)) == ("trip", "not_on_sale_yet")
    assert rejected(trip=a_trip(first_closed), rules=SaleRules(presale_days=15)) == (
        "trip",
        "not_on_sale_yet",
    )
    submit(trip=a_trip(first_closed), rules=SaleRules(presale_days=16))


def test_presale_day_is_taken_in_the_trip_zone() -> None:
    # 17:30 UTC on 9 Feb is 01:30 on 10 Feb in Shanghai, so 24 Feb is on sale (day 15).
    now = datetime(2026, 2, 9, 17, 30, tzinfo=ZoneInfo("UTC"))
    submit(trip=a_trip(datetime(2026, 2, 24, 20, 0, tzinfo=TZ)), now=now)
    late = a_trip(datetime(2026, 2, 25, 7, 0, tzinfo=TZ))
    assert rejected(trip=late, now=now) == ("trip", "not_on_sale_yet")


def test_closing_time_before_departure() -> None:
    departs = NOW + timedelta(hours=2)
    submit(trip=a_trip(departs), now=departs - timedelta(minutes=5))
    assert rejected(trip=a_trip(departs), now=departs - timedelta(minutes=4, seconds=59)) == (
        "trip",
        "departure_too_close",
    )
    assert rejected(trip=a_trip(departs), now=departs + timedelta(hours=1)) == (
        "trip",
        "departure_too_close",
    )
    submit(trip=a_trip(departs), now=departs, rules=SaleRules(stop_sale_minutes=0))


def test_passenger_count() -> None:
    assert rejected(passengers=[]) == ("passengers", "no_passengers")
    five = [a_passenger(i) for i in range(5)]
    submit(passengers=five)
    six = [a_passenger(i) for i in range(6)]
    assert rejected(passengers=six) == ("passengers", "too_many_passengers")
    assert rejected(passengers=five, rules=SaleRules(max_passengers=4)) == (
        "passengers",
        "too_many_passengers",
    )


def test_duplicates() -> None:
    one = a_passenger(1, "张三")
    same_doc = Passenger("张三三", one.document, PassengerType.ADULT)
    assert rejected(passengers=[one, same_doc]) == ("passengers", "duplicate_passenger")
    child = Passenger("张小小", one.document, PassengerType.CHILD)
    submit(passengers=[one, child])
    twin = Passenger("张小小", one.document, PassengerType.CHILD)
    assert rejected(passengers=[one, child, twin]) == ("passengers", "duplicate_passenger")


def test_infants_need_company() -> None:
    baby = Passenger("小宝", a_passenger(7).document, PassengerType.CHILD, infant=True)
    sister = Passenger("小妹", a_passenger(8).document, PassengerType.CHILD)
    assert rejected(passengers=[baby]) == ("passengers", "infant_alone")
    assert rejected(passengers=[baby, sister]) == ("passengers", "infant_alone")
    submit(passengers=[baby, sister, a_passenger(1)])
    submit(passengers=[sister])  # a 6-13 year old may travel on their own ticket
    with pytest.raises(DomainError) as info:
        Passenger("小宝", baby.document, PassengerType.ADULT, infant=True)
    assert info.value.reason == "infant_not_child"


def test_unpaid_orders() -> None:
    assert rejected(unpaid=1) == ("account", "too_many_unpaid")
    submit(unpaid=1, rules=SaleRules(max_unpaid_orders=2))
    assert rejected(unpaid=2, rules=SaleRules(max_unpaid_orders=2)) == (
        "account",
        "too_many_unpaid",
    )


def test_overlapping_trips() -> None:
    trip = a_trip()
    start, end = trip.interval
    me = a_passenger(1)
    other = a_passenger(2)
    overlapping = {me.key: [(end - 1, end + 100)]}
    assert rejected(trip=trip, passengers=[other, me], existing=overlapping) == (
        "passengers",
        "overlapping_trip",
    )
    submit(trip=trip, passengers=[other], existing=overlapping)
    touching = {me.key: [(start - 100, start), (end, end + 60)]}
    submit(trip=trip, passengers=[me], existing=touching)


@given(st.integers(0, 1000), st.integers(1, 500), st.integers(0, 1000), st.integers(1, 500))
def test_overlap_is_symmetric_and_matches_minutes(a: int, la: int, b: int, lb: int) -> None:
    x, y = (a, a + la), (b, b + lb)
    assert overlaps(x, y) == overlaps(y, x)
    shared = set(range(*x)) & set(range(*y))
    assert overlaps(x, y) == bool(shared)


def test_rules_are_checked_in_a_fixed_order() -> None:
    departs = NOW + timedelta(minutes=1)
    assert rejected(trip=a_trip(departs), unpaid=3, passengers=[]) == (
        "trip",
        "departure_too_close",
    )
    assert rejected(unpaid=3, passengers=[]) == ("account", "too_many_unpaid")


def test_pay_deadline() -> None:
    far = a_trip(NOW + timedelta(days=2))
    assert pay_deadline(NOW, far) == NOW + timedelta(minutes=30)
    soon = a_trip(NOW + timedelta(minutes=20))
    assert pay_deadline(NOW, soon) == NOW + timedelta(minutes=15)
    assert pay_deadline(NOW, far, SaleRules(pay_minutes=45)) == NOW + timedelta(minutes=45)


@pytest.mark.parametrize(
    "kwargs",
    [{"presale_days": 0}, {"max_passengers": 0}, {"stop_sale_minutes": -1}, {"pay_minutes": 0}],
)
def test_rules_validation(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        SaleRules(**kwargs)
