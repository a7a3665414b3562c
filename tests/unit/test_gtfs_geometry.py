"""Pure helpers of the GTFS adapter: times, great-circle and along-shape distances."""

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.catalog.adapters.gtfs import (
    along_shape_km,
    format_time,
    haversine_km,
    parse_time,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:00", 0),
        ("6:05:00", 6 * 3600 + 300),
        ("08:10:30", 8 * 3600 + 630),
        ("25:10:00", 25 * 3600 + 600),
        ("100:00:59", 360059),
    ],
)
def test_parse_time_accepts_gtfs_times(text: str, seconds: int) -> None:
    assert parse_time(text) == seconds


@pytest.mark.parametrize(
    "text", ["25:61:00", "12:00:60", "abc", "12:00", "12:5:00", "-1:00:00", "", "1:00:00:00"]
)
def test_parse_time_rejects_malformed_times(text: str) -> None:
    assert parse_time(text) is None


def test_format_time_passes_midnight() -> None:
    assert format_time(0) == "00:00:00"
    assert format_time(1510) == "25:10:00"


@given(st.integers(min_value=0, max_value=200 * 60))
def test_format_then_parse_is_exact(minutes: int) -> None:
    assert parse_time(format_time(minutes)) == minutes * 60


def test_haversine_beijing_to_shanghai() -> None:
    # Beijing South (39.865, 116.379) to Shanghai Hongqiao (31.194, 121.320): about 1,060 km
    # in a straight line; the railway is 1,318 km.
    assert 1050 < haversine_km(39.865, 116.379, 31.194, 121.320) < 1075


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.19, abs=0.05)


def test_along_shape_places_stops_at_their_projection() -> None:
    shape = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    leg = haversine_km(0.0, 0.0, 0.0, 1.0)
    stops = [(0.0, 0.0), (0.001, 0.5), (0.5, 1.001), (1.0, 1.0)]
    got = along_shape_km(shape, stops)
    assert got[0] == pytest.approx(0.0, abs=1e-6)
    assert got[1] == pytest.approx(leg / 2, rel=1e-3)
    assert got[2] == pytest.approx(leg + haversine_km(0.0, 1.0, 0.5, 1.0), rel=1e-3)
    assert got[3] == pytest.approx(leg + haversine_km(0.0, 1.0, 1.0, 1.0), rel=1e-3)


def test_along_shape_never_goes_back() -> None:
    # The third stop lies back near the start: it is kept at the second stop's place.
    shape = [(0.0, 0.0), (0.0, 1.0), (0.0, 2.0)]
    got = along_shape_km(shape, [(0.0, 0.0), (0.0, 1.5), (0.0, 0.2)])
    assert got[2] == got[1]
    assert got == sorted(got)


coordinate = st.tuples(
    st.floats(min_value=20, max_value=45, allow_nan=False),
    st.floats(min_value=100, max_value=125, allow_nan=False),
)


@given(st.lists(coordinate, min_size=2, max_size=8), st.lists(coordinate, min_size=1, max_size=8))
def test_along_shape_is_non_decreasing_and_bounded(
    shape: list[tuple[float, float]], stops: list[tuple[float, float]]
) -> None:
    got = along_shape_km(shape, stops)
    length = sum(haversine_km(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(shape))
    assert got == sorted(got)
    assert all(0 <= d <= length + 1e-6 for d in got)
    assert all(math.isfinite(d) for d in got)
