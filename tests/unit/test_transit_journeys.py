"""Pairing taps into journeys: complete, cancelled, incomplete, no entry, boarding, invalid."""

from __future__ import annotations

from datetime import date

from open12306.transit.domain import (
    FlatFareOperator,
    JourneyStatus,
    Operator,
    Tap,
    TapDirection,
    metro_operator,
    pair_journeys,
    service_day_bounds,
    tap_order,
)

IN, OUT, BOARD = TapDirection.ENTRY, TapDirection.EXIT, TapDirection.BOARD
MORNING = service_day_bounds(date(2026, 11, 25))[0] + 4 * 3600
METRO = metro_operator("metro", [("A", "B", 5_000), ("B", "C", 10_000), ("C", "D", 30_000)])
BUS = FlatFareOperator("bus", 200)


def tap(n: int, station: str, direction: TapDirection, minutes: int, op: str = "metro") -> Tap:
    return Tap(f"t{n:03d}", "acct", op, station, direction, MORNING + minutes * 60)


def pair(taps: list[Tap], operator: Operator | None = METRO) -> list[tuple[JourneyStatus, int]]:
    journeys = pair_journeys(sorted(taps, key=tap_order), operator)
    return [(j.status, j.fare_fen) for j in journeys]


def test_entry_then_exit_is_a_priced_journey() -> None:
    assert pair([tap(1, "A", IN, 0), tap(2, "C", OUT, 30)]) == [(JourneyStatus.COMPLETE, 500)]


def test_same_station_within_the_window_is_a_cancelled_trip() -> None:
    assert pair([tap(1, "B", IN, 0), tap(2, "B", OUT, 5)]) == [(JourneyStatus.CANCELLED, 0)]


def test_same_station_after_the_window_pays_the_minimum() -> None:
    assert pair([tap(1, "B", IN, 0), tap(2, "B", OUT, 40)]) == [(JourneyStatus.COMPLETE, 300)]


def test_exit_without_entry_is_charged_the_maximum_and_flagged() -> None:
    journeys = pair_journeys([tap(1, "C", OUT, 10)], METRO)
    assert [(j.status, j.fare_fen, j.flagged) for j in journeys] == [
        (JourneyStatus.NO_ENTRY, METRO.max_fare, True)
    ]


def test_entry_without_exit_is_incomplete_at_the_maximum() -> None:
    assert pair([tap(1, "A", IN, 0)]) == [(JourneyStatus.INCOMPLETE, 700)]


def test_two_entries_leave_the_first_incomplete() -> None:
    taps = [tap(1, "A", IN, 0), tap(2, "B", IN, 60), tap(3, "C", OUT, 80)]
    assert pair(taps) == [(JourneyStatus.INCOMPLETE, 700), (JourneyStatus.COMPLETE, 400)]


def test_exit_too_long_after_entry_breaks_into_two_flagged_journeys() -> None:
    taps = [tap(1, "A", IN, 0), tap(2, "C", OUT, 5 * 60)]
    assert pair(taps) == [(JourneyStatus.INCOMPLETE, 700), (JourneyStatus.NO_ENTRY, 700)]


def test_late_uploaded_exit_pairs_in_time_order() -> None:
    # The exit reaches settlement after a later journey's taps; time order still pairs it.
    taps = [tap(3, "B", IN, 120), tap(4, "A", OUT, 130), tap(1, "A", IN, 0), tap(2, "D", OUT, 50)]
    assert pair(taps) == [(JourneyStatus.COMPLETE, 700), (JourneyStatus.COMPLETE, 300)]


def test_bus_boardings_each_pay_the_flat_fare() -> None:
    taps = [tap(1, "route-1", BOARD, 0, "bus"), tap(2, "route-9", BOARD, 30, "bus")]
    assert pair(taps, BUS) == [(JourneyStatus.BOARDED, 200), (JourneyStatus.BOARDED, 200)]


def test_wrong_kind_of_tap_or_unknown_station_or_operator_is_invalid_and_free() -> None:
    assert pair([tap(1, "route-1", IN, 0, "bus")], BUS) == [(JourneyStatus.INVALID, 0)]
    assert pair([tap(1, "A", BOARD, 0)]) == [(JourneyStatus.INVALID, 0)]
    assert pair([tap(1, "A", IN, 0), tap(2, "Z", OUT, 9)]) == [(JourneyStatus.INVALID, 0)]
    assert pair([tap(1, "A", IN, 0)], None) == [(JourneyStatus.INVALID, 0)]
