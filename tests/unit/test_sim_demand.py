"""The simulator's demand model and plan: gravity ordering, the holiday waves, the release
spike, and a plan that is the same for the same seed."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.bench.demand import (
    City,
    Gravity,
    Holidays,
    Release,
    day_demand,
    day_factor,
    direction_factor,
    distance_km,
    gravity,
    release_profile,
)
from open12306.bench.sim_plan import Leg, PlanSpec, plan

BEIJING = City("北京", 21_893_095, 39.9042, 116.4074)
TIANJIN = City("天津", 13_866_009, 39.0842, 117.2009)
SHANGHAI = City("上海", 24_870_895, 31.2304, 121.4737)
LANZHOU = City("兰州", 4_359_446, 36.0611, 103.8343)
CITIES = [BEIJING, TIANJIN, SHANGHAI, LANZHOU]
# Spring Festival 2026: 正月初一 17 Feb, days off 15-23 Feb, 春运 2 Feb - 13 Mar.
HOLIDAYS = Holidays(
    date(2026, 2, 17), date(2026, 2, 15), date(2026, 2, 23), date(2026, 2, 2), date(2026, 3, 13)
)


def test_distance_is_the_great_circle() -> None:
    assert 1050 < distance_km(BEIJING, SHANGHAI) < 1090  # about 1,070 km as the crow flies
    assert distance_km(BEIJING, TIANJIN) == distance_km(TIANJIN, BEIJING)


def test_gravity_favours_big_and_near_cities() -> None:
    shares = gravity(CITIES)
    assert abs(sum(shares.values()) - 1) < 1e-9
    assert shares[("北京", "天津")] > shares[("北京", "上海")] > shares[("北京", "兰州")]
    # the same distance, a smaller destination: fewer trips
    assert shares[("上海", "北京")] > shares[("上海", "兰州")]
    flat = gravity(CITIES, Gravity(c=0.0))
    assert flat[("北京", "上海")] > flat[("北京", "天津")]  # without distance, size alone


def test_gravity_keeps_to_the_pairs_served() -> None:
    shares = gravity(CITIES, served=[("北京", "上海"), ("上海", "北京"), ("北京", "北京")])
    assert set(shares) == {("北京", "上海"), ("上海", "北京")}
    assert gravity(CITIES, served=[]) == {}


def test_the_outbound_and_return_waves_and_the_quiet_new_year() -> None:
    ordinary = day_factor(date(2026, 5, 12), HOLIDAYS)
    outbound = day_factor(date(2026, 2, 14), HOLIDAYS)  # the day before the days off
    new_year = day_factor(date(2026, 2, 17), HOLIDAYS)
    back = day_factor(date(2026, 2, 23), HOLIDAYS)  # the last day off
    assert ordinary == 1.0
    assert outbound > 3 * ordinary and back > 2.5 * ordinary
    assert new_year < ordinary < outbound
    assert day_factor(date(2026, 2, 5), HOLIDAYS) > ordinary  # inside 春运


def test_before_the_festival_people_leave_the_big_cities() -> None:
    before, after = date(2026, 2, 14), date(2026, 2, 23)
    assert direction_factor(BEIJING, LANZHOU, before, HOLIDAYS) > 1
    assert direction_factor(LANZHOU, BEIJING, before, HOLIDAYS) < 1
    assert direction_factor(LANZHOU, BEIJING, after, HOLIDAYS) > 1
    assert direction_factor(BEIJING, LANZHOU, date(2026, 6, 1), HOLIDAYS) == 1


def test_the_release_spike() -> None:
    profile = release_profile(60, Release(at=10, peak=8.0, decay=5.0))
    assert profile[:10] == [0.0] * 10
    assert profile[10] == 9.0
    assert all(a > b for a, b in itertools.pairwise(profile[10:]))
    assert 1.0 < profile[-1] < 1.01


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1_000, 30_000_000),
            st.floats(20.0, 50.0),
            st.floats(90.0, 130.0),
        ),
        min_size=2,
        max_size=6,
    ),
    st.integers(-40, 60),
)
def test_demand_is_never_negative_and_shares_sum_to_one(
    rows: list[tuple[int, float, float]], offset: int
) -> None:
    cities = [City(f"c{i}", p, lat, lon) for i, (p, lat, lon) in enumerate(rows)]
    shares = gravity(cities)
    assert all(v >= 0 for v in shares.values())
    assert abs(sum(shares.values()) - 1) < 1e-6
    day = HOLIDAYS.festival + timedelta(days=offset)
    demand = day_demand(cities, [day], HOLIDAYS)
    assert all(v >= 0 for v in demand.values())
    assert day_factor(day, HOLIDAYS) > 0


def _inputs() -> tuple[list[dict[tuple[str, str], float]], list[dict[tuple[str, str], list[Leg]]]]:
    legs = {
        ("北京", "上海"): [Leg("G1", "VNP", "AOH", ("business", "first", "second"), "jinghu-hsr")],
        ("北京", "天津"): [Leg("C2001", "VNP", "TJP", ("first", "second"), "jingjin-intercity")],
    }
    demand = {("北京", "上海"): 0.7, ("北京", "天津"): 0.3, ("上海", "兰州"): 0.5}
    return [demand, demand], [legs, legs]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32), st.floats(0.0, 0.6))
def test_the_plan_is_the_seed_s_and_keeps_its_shares(seed: int, bots: float) -> None:
    demand, legs = _inputs()
    spec = PlanSpec(seconds=20, order_rate=6.0, bots=bots)
    intensity = [[0.25] * 20, release_profile(20, Release(at=2, decay=4.0))]
    one = plan(spec, demand, legs, intensity, seed)
    assert one == plan(spec, demand, legs, intensity, seed)
    assert [e.at for e in one] == sorted(e.at for e in one)
    orders = [e for e in one if e.kind == "order"]
    robots = [e for e in one if e.kind == "bot"]
    assert all(0 <= e.at < 20 for e in one)
    assert all(e.leg is not None and (e.origin, e.destination) in legs[e.day] for e in orders)
    assert all(e.seat_class in e.leg.classes for e in orders + robots if e.leg is not None)
    assert not any(e.day == 1 and e.at < 2 for e in orders + robots)  # nothing before the release
    if orders:
        assert abs(len(robots) - len(orders) * bots / (1 - bots)) <= 1
        assert all(e.at >= 2 for e in robots)
    assert not any(e.origin == "兰州" or e.destination == "兰州" for e in orders)  # no train


def test_searches_are_about_nine_in_ten_requests() -> None:
    demand, legs = _inputs()
    spec = PlanSpec(seconds=60, order_rate=10.0, bots=0.0)
    intensity = [[1.0] * 60, [1.0] * 60]
    events = plan(spec, demand, legs, intensity, 7)
    searches = sum(1 for e in events if e.kind == "search")
    assert 0.85 < searches / len(events) < 0.93
    assert plan(spec, demand, legs, intensity, 8) != events
