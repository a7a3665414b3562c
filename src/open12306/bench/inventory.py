"""Benchmark: selling one run's seats under random origin-destination demand.

A 16-coach, 23-stop (22-segment) run of 1,278 seats (1 business coach 2+1, 3 first 2+2,
12 second 3+2) is offered random demand until the seat-segments asked for reach twice the
run's seat-segments (by then about half the requests are refused: the run is sold out for most
journeys). Demand: stop pairs uniform over all i < j, a class drawn in proportion to its seats,
parties of 1 (90 %), 2 (7 %) or 3 (3 %) seated together. Best fit and first fit see the same
request stream. The load factor (seat-segments sold / seat-segments) is taken when the demand
offered equals the capacity and at the end. The floor loop does only the random draw and the
dictionary lookup of the prebuilt request. Figures are medians over repetitions; ticket rates
count every request's time, refused ones included.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from open12306.bench.steps import Steps, Tell, quiet
from open12306.inventory.domain import Request, RunInventory, SoldOut, Strategy
from open12306.inventory.domain.seats import Seat, SeatClass

SEGMENTS = 22
DEMAND_FACTOR = 2
_LAYOUT = (
    (SeatClass.BUSINESS, 1, "ACF", 10),
    (SeatClass.FIRST, 3, "ACDF", 14),
    (SeatClass.SECOND, 12, "ABCDF", 18),
)


def build_seats() -> list[Seat]:
    """The benchmark composition: coach by coach, row by row, letter by letter."""
    seats: list[Seat] = []
    coach = 0
    for seat_class, coaches, letters, rows in _LAYOUT:
        for _ in range(coaches):
            coach += 1
            for row in range(1, rows + 1):
                for letter in letters:
                    label = f"{coach:02d}-{row:02d}{letter}"
                    seats.append(Seat(len(seats), coach, seat_class, label, row, letter))
    return seats


Draw = Callable[[], Request]


def _demand(seats: list[Seat], rng: random.Random) -> Draw:
    """A function drawing the next request: a random draw, then a dictionary lookup."""
    pairs = [(i, j) for i in range(SEGMENTS) for j in range(i + 1, SEGMENTS + 1)]
    classes = [seat.seat_class for seat in seats]
    requests = {
        (c, i, j, party): Request(c, i, j, party, together=True)
        for c in set(classes)
        for i, j in pairs
        for party in (1, 2, 3)
    }
    randrange, uniform = rng.randrange, rng.random
    n_pairs, n_seats = len(pairs), len(classes)

    def draw() -> Request:
        i, j = pairs[randrange(n_pairs)]
        roll = uniform()
        party = 1 if roll < 0.9 else 2 if roll < 0.97 else 3
        return requests[classes[randrange(n_seats)], i, j, party]

    return draw


def _sell(seats: list[Seat], seed: int, strategy: Strategy) -> dict[str, float]:
    draw = _demand(seats, random.Random(seed))
    inventory = RunInventory.empty(seats, SEGMENTS, strategy=strategy)
    allocate = inventory.allocate
    capacity = len(seats) * SEGMENTS
    tickets = requests = offered = refused = 0
    half_load = 0.0
    start = time.perf_counter()
    while offered < DEMAND_FACTOR * capacity:
        request = draw()
        requests += 1
        offered += request.party * (request.to_stop - request.from_stop)
        try:
            tickets += len(allocate(request).seats)
        except SoldOut:
            refused += 1
        if not half_load and offered >= capacity:
            half_load = inventory.sold_seat_segments() / capacity
    elapsed = time.perf_counter() - start
    problems = inventory.check()
    if problems:
        raise RuntimeError(f"inventory invariant broken: {problems[:3]}")
    return {
        "tickets": tickets,
        "requests": requests,
        "refused_share": refused / requests,
        "seconds": elapsed,
        "load_factor": inventory.sold_seat_segments() / capacity,
        "load_factor_at_capacity_demand": half_load,
    }


def _floor(seats: list[Seat], seed: int, requests: int) -> float:
    draw = _demand(seats, random.Random(seed))
    offered = 0
    start = time.perf_counter()
    for _ in range(requests):
        request = draw()
        offered += request.party * (request.to_stop - request.from_stop)
    return time.perf_counter() - start


def run(seed: int = 1, seconds: float = 3.0, progress: Tell = quiet) -> dict[str, Any]:
    """Repeat the sale with both strategies (and the floor) for about ``seconds``; medians."""
    steps = Steps(progress, "inventory", 3)
    seats = build_seats()
    results: dict[Strategy, list[dict[str, float]]] = {s: [] for s in Strategy}
    floor_rates: list[float] = []
    deadline = time.perf_counter() + seconds
    rep = 0
    while rep < 3 or time.perf_counter() < deadline:
        rep_seed = seed * 1_000_003 + rep
        for strategy in Strategy:
            results[strategy].append(_sell(seats, rep_seed, strategy))
        latest = results[Strategy.BEST_FIT][-1]
        floor_rates.append(latest["requests"] / _floor(seats, rep_seed, int(latest["requests"])))
        rep += 1
        if rep <= 3:
            steps.step()

    def median(strategy: Strategy, key: str) -> float:
        if key.endswith("_per_s"):
            unit = key.removesuffix("_per_s")
            return statistics.median(r[unit] / r["seconds"] for r in results[strategy])
        return statistics.median(r[key] for r in results[strategy])

    best, first = Strategy.BEST_FIT, Strategy.FIRST_FIT

    def paired(key: str) -> float:
        """Median over repetitions of best fit / first fit on the same request stream."""
        return statistics.median(
            b[key] / f[key] for b, f in zip(results[best], results[first], strict=True)
        )

    floor = statistics.median(floor_rates)
    return {
        "seats": len(seats),
        "segments": SEGMENTS,
        "repetitions": rep,
        "refused_share": round(median(best, "refused_share"), 3),
        "best_fit": {
            "tickets_per_s": round(median(best, "tickets_per_s")),
            "requests_per_s": round(median(best, "requests_per_s")),
            "tickets": median(best, "tickets"),
            "load_factor": round(median(best, "load_factor"), 4),
            "load_factor_at_capacity_demand": round(
                median(best, "load_factor_at_capacity_demand"), 4
            ),
        },
        "first_fit": {
            "tickets_per_s": round(median(first, "tickets_per_s")),
            "requests_per_s": round(median(first, "requests_per_s")),
            "tickets": median(first, "tickets"),
            "load_factor": round(median(first, "load_factor"), 4),
            "load_factor_at_capacity_demand": round(
                median(first, "load_factor_at_capacity_demand"), 4
            ),
        },
        "floor_requests_per_s": round(floor),
        "ratios": {
            "best_vs_first_tickets_per_s": round(
                median(best, "tickets_per_s") / median(first, "tickets_per_s"), 3
            ),
            "best_vs_first_load_factor": round(paired("load_factor"), 4),
            "best_vs_first_load_factor_at_capacity_demand": round(
                paired("load_factor_at_capacity_demand"), 4
            ),
            "best_fit_requests_vs_floor": round(median(best, "requests_per_s") / floor, 4),
        },
    }
