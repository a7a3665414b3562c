"""Settling days: caps in time order, idempotent re-uploads, late exits, weekly caps."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.transit.domain import (
    Caps,
    Charge,
    FlatFareOperator,
    JourneyStatus,
    Operator,
    Tap,
    TapDirection,
    metro_operator,
    service_day_bounds,
    settle_accounts,
)

IN, OUT, BOARD = TapDirection.ENTRY, TapDirection.EXIT, TapDirection.BOARD
MONDAY = date(2026, 11, 23)
WEEK = [MONDAY + timedelta(days=n) for n in range(7)]
METRO = metro_operator(
    "metro",
    [("A", "B", 5_000), ("B", "C", 10_000), ("C", "D", 30_000)],
    caps=Caps(daily_fen=1_000, weekly_fen=2_500),
)
BUS = FlatFareOperator("bus", 200, Caps(daily_fen=500, weekly_fen=1_300))
OPERATORS: dict[str, Operator] = {"metro": METRO, "bus": BUS}


def at(day: date, minutes: int) -> int:
    return service_day_bounds(day)[0] + minutes * 60


def tap(n: int, station: str, direction: TapDirection, when: int, op: str = "metro") -> Tap:
    return Tap(f"t{n:04d}", "acct", op, station, direction, when)


def by_day(taps: list[Tap]) -> dict[date, list[Charge]]:
    return {day: settle_accounts(taps, OPERATORS, day) for day in WEEK}


def test_daily_cap_stops_charging_in_time_order() -> None:
    day = WEEK[2]
    taps: list[Tap] = []
    for n in range(4):  # four A→C trips at 5 yuan: 5 + 5 reach the 10 yuan cap
        taps += [
            tap(2 * n, "A", IN, at(day, 60 * n)),
            tap(2 * n + 1, "C", OUT, at(day, 60 * n + 20)),
        ]
    [charge] = settle_accounts(taps, OPERATORS, day)
    assert [p.charged_fen for p in charge.journeys] == [500, 500, 0, 0]
    assert charge.amount_fen == 1_000
    assert charge.reference == "acct/2026-11-25"


def test_weekly_cap_limits_later_days() -> None:
    taps: list[Tap] = []
    for d, day in enumerate(WEEK[:4]):
        for n in range(3):
            seq = 100 * d + 2 * n
            taps += [
                tap(seq, "A", IN, at(day, 60 * n)),
                tap(seq + 1, "C", OUT, at(day, 60 * n + 20)),
            ]
    totals = [c[0].amount_fen for c in by_day(taps).values() if c]
    assert totals == [1_000, 1_000, 500, 0]


def test_a_journey_belongs_to_the_service_day_it_started() -> None:
    day = WEEK[1]
    # In at 04:20 (still the previous service day), out at 04:50.
    taps = [tap(1, "A", IN, at(day, -10)), tap(2, "C", OUT, at(day, 20))]
    charges = by_day(taps)
    assert [c.amount_fen for c in charges[WEEK[0]]] == [500]
    assert charges[day] == []


def test_late_exit_corrects_an_incomplete_journey() -> None:
    day = WEEK[2]
    entry = tap(1, "A", IN, at(day, 100))
    [before] = settle_accounts([entry], OPERATORS, day)
    assert before.amount_fen == METRO.max_fare
    assert before.flagged
    [after] = settle_accounts([entry, tap(2, "B", OUT, at(day, 115))], OPERATORS, day)
    assert after.amount_fen == 300
    assert not after.flagged
    assert after.journeys[0].journey.status is JourneyStatus.COMPLETE


def test_cancelled_trip_costs_nothing_and_exit_without_entry_costs_the_maximum() -> None:
    day = WEEK[3]
    cancelled = [tap(1, "B", IN, at(day, 0)), tap(2, "B", OUT, at(day, 3))]
    [charge] = settle_accounts(cancelled, OPERATORS, day)
    assert charge.amount_fen == 0
    assert charge.journeys[0].journey.status is JourneyStatus.CANCELLED
    [dodger] = settle_accounts([tap(3, "D", OUT, at(day, 50))], OPERATORS, day)
    assert dodger.amount_fen == METRO.max_fare
    assert dodger.flagged


def test_accounts_are_charged_separately_and_sorted() -> None:
    day = WEEK[0]
    taps = [
        Tap("x1", "zed", "bus", "r1", BOARD, at(day, 5)),
        Tap("x2", "amy", "bus", "r1", BOARD, at(day, 6)),
        Tap("x3", "amy", "bus", "r2", BOARD, at(day, 50)),
    ]
    charges = settle_accounts(taps, OPERATORS, day)
    assert [(c.account_token, c.amount_fen) for c in charges] == [("amy", 400), ("zed", 200)]


STATIONS = st.sampled_from(["A", "B", "C", "D"])
TAP_SPECS = st.lists(
    st.tuples(
        st.sampled_from(["amy", "bob"]),
        st.sampled_from(["metro", "bus"]),
        STATIONS,
        st.sampled_from([IN, OUT, BOARD]),
        st.integers(min_value=0, max_value=7 * 1440 - 1),
    ),
    max_size=60,
)


def make_taps(specs: list[tuple[str, str, str, TapDirection, int]]) -> list[Tap]:
    start = service_day_bounds(MONDAY)[0]
    taps = []
    for n, (account, op, station, direction, minute) in enumerate(specs):
        if op == "bus":
            direction = BOARD
        elif direction is BOARD:
            direction = IN
        taps.append(Tap(f"h{n}", account, op, station, direction, start + minute * 60))
    return taps


@settings(max_examples=60, deadline=None)
@given(TAP_SPECS)
def test_caps_are_never_exceeded_and_applied_greedily(
    specs: list[tuple[str, str, str, TapDirection, int]],
) -> None:
    charges = by_day(make_taps(specs))
    spent_week: dict[tuple[str, str], int] = defaultdict(int)
    clipped_week: dict[tuple[str, str], int] = defaultdict(int)
    for day in WEEK:
        for charge in charges[day]:
            assert charge.amount_fen == sum(p.charged_fen for p in charge.journeys)
            spent: dict[str, int] = defaultdict(int)
            fares: dict[str, int] = defaultdict(int)
            for priced in charge.journeys:
                assert 0 <= priced.charged_fen <= priced.journey.fare_fen
                spent[priced.journey.operator] += priced.charged_fen
                fares[priced.journey.operator] += priced.journey.fare_fen
            for op, fen in spent.items():
                caps = OPERATORS[op].caps
                assert caps.daily_fen is not None and caps.weekly_fen is not None
                assert fen <= caps.daily_fen
                key = (charge.account_token, op)
                spent_week[key] += fen
                clipped_week[key] += min(fares[op], caps.daily_fen)
                assert spent_week[key] <= caps.weekly_fen
                assert spent_week[key] == min(clipped_week[key], caps.weekly_fen)


@settings(max_examples=60, deadline=None)
@given(TAP_SPECS, st.data())
def test_reuploading_in_any_order_with_duplicates_gives_the_same_charges(
    specs: list[tuple[str, str, str, TapDirection, int]], data: st.DataObject
) -> None:
    taps = make_taps(specs)
    again = taps + data.draw(st.lists(st.sampled_from(taps), max_size=20)) if taps else []
    data.draw(st.randoms(use_true_random=False)).shuffle(again)
    assert by_day(again) == by_day(taps)


def test_differing_copies_of_one_tap_id_settle_the_same_in_any_order() -> None:
    day = WEEK[4]
    entry = tap(1, "A", IN, at(day, 0))
    exit_c = tap(2, "C", OUT, at(day, 30))
    exit_b = tap(2, "B", OUT, at(day, 25))  # a faulty gate re-sent tap 2 with other content
    forward = settle_accounts([entry, exit_c, exit_b], OPERATORS, day)
    backward = settle_accounts([exit_b, exit_c, entry], OPERATORS, day)
    assert forward == backward
    assert forward[0].amount_fen == 300  # the earlier copy (B) is kept
