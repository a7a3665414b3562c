"""Fare rules of transit operators: Beijing subway bands, shortest distances, walk-up railway."""

from __future__ import annotations

from datetime import date

import pytest

from open12306.catalog.domain.corridors import Corridor, CorridorStation
from open12306.shared.errors import DomainError
from open12306.transit.domain import (
    BEIJING_SUBWAY_BANDS,
    Caps,
    FlatFareOperator,
    TableFareOperator,
    metro_operator,
    railway_operator,
    service_day,
    service_day_bounds,
    shortest_distances,
    week_start,
)

JINGJIN = Corridor(
    "jingjin-intercity",
    "京津城际铁路",
    "intercity",
    350,
    (
        CorridorStation("VNP", "北京南", 0, True),
        CorridorStation("YUP", "亦庄", 16),
        CorridorStation("WWP", "武清", 84),
        CorridorStation("TJP", "天津", 120, True),
    ),
)


@pytest.mark.parametrize(
    ("metres", "fen"),
    [
        (1, 300),
        (6_000, 300),
        (6_001, 400),
        (12_000, 400),
        (12_001, 500),
        (22_000, 500),
        (22_001, 600),
        (32_000, 600),
        (32_001, 700),
        (52_000, 700),
        (52_001, 800),
        (72_001, 900),
    ],
)
def test_beijing_subway_bands(metres: int, fen: int) -> None:
    assert BEIJING_SUBWAY_BANDS.fare(metres) == fen


def test_shortest_distance_takes_the_shorter_branch() -> None:
    edges = [("A", "B", 3_000), ("B", "C", 3_000), ("A", "D", 1_000), ("D", "C", 1_500)]
    table = shortest_distances(edges)
    assert table[("A", "C")] == 2_500
    assert table[("C", "A")] == 2_500
    assert table[("B", "D")] == 4_000
    assert table[("A", "A")] == 0


def test_shortest_distance_rejects_zero_length_sections() -> None:
    with pytest.raises(DomainError):
        shortest_distances([("A", "B", 0)])


def test_metro_operator_prices_by_distance_and_knows_its_maximum() -> None:
    metro = metro_operator("bj-metro", [("A", "B", 5_000), ("B", "C", 10_000), ("C", "D", 30_000)])
    assert metro.fare("A", "B") == 300
    assert metro.fare("A", "C") == 500
    assert metro.fare("C", "A") == 500
    assert metro.fare("A", "D") == 700  # 45 km: 6 yuan to 32 km, +1 for the next 20 km
    assert metro.fare("A", "A") == 300
    assert metro.fare("A", "Z") is None
    assert metro.max_fare == 700


def test_railway_walk_up_charges_second_class_intercity_fare() -> None:
    line = railway_operator("jingjin", JINGJIN)
    assert line.fare("VNP", "TJP") == 5400  # 120 km × 0.45 yuan
    assert line.fare("TJP", "VNP") == 5400
    assert line.fare("VNP", "WWP") == 3800  # 84 km × 0.45 = 37.8, to the nearest 0.5 yuan
    assert line.max_fare == 5400


def test_operators_refuse_bad_figures() -> None:
    with pytest.raises(DomainError):
        FlatFareOperator("bus", -1)
    with pytest.raises(DomainError):
        TableFareOperator("m", {})
    with pytest.raises(DomainError):
        Caps(daily_fen=-5)


def test_service_day_starts_at_half_past_four_shanghai_time() -> None:
    start, end = service_day_bounds(date(2026, 11, 25))
    assert end - start == 86_400
    # 04:30 Beijing time is 20:30 UTC the day before.
    assert start == 1_795_552_200
    assert service_day(start) == date(2026, 11, 25)
    assert service_day(start - 1) == date(2026, 11, 24)
    assert service_day(end - 1) == date(2026, 11, 25)


def test_week_starts_on_monday() -> None:
    assert week_start(date(2026, 11, 29)) == date(2026, 11, 23)
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)
