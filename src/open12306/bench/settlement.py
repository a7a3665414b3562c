"""Benchmark: settling one city day of taps (``open12306 bench settlement``).

A seeded city day: a metro of four crossing lines (Beijing fare bands, daily and weekly caps),
a flat-fare bus network (daily cap) and the Beijing–Tianjin intercity as a walk-up ride-code
line. Riders make metro, bus and railway journeys; some leave without tapping out, some tap
out without tapping in, some cancel; a share of taps is uploaded twice and the whole upload
arrives shuffled, as gates sync whenever they can.

``settle_day`` runs ``repeats`` times, and more (up to ``MAX_REPEATS``) while ``seconds`` have
not passed; the median rate is reported in taps per second. The floor is sorting the same
taps by time and tap id (``TAP_ORDER_KEY``), the least any settlement pairing taps in time
order must do; ``ratio_to_floor`` = settlement rate / floor rate.

As ``timeit`` does, the garbage collector is paused inside the timed runs (both settle and floor):
a million live taps make CPython's generational collector rescan them again and again, which
measures the collector rather than settlement. ``taps_per_s_gc_on`` is one run with it on; a
settlement job can get the same effect with ``gc.freeze()`` after loading the taps.
"""

from __future__ import annotations

import gc
import itertools
import random
import statistics
import time
from datetime import date
from typing import Any

from open12306.catalog.domain.corridors import Corridor, CorridorStation
from open12306.transit.domain import (
    TAP_ORDER_KEY,
    Caps,
    FlatFareOperator,
    Operator,
    Tap,
    TapDirection,
    metro_operator,
    railway_operator,
    service_day_bounds,
)
from open12306.transit.services.day_settlement import settle_day

DAY = date(2026, 11, 25)
MAX_REPEATS = 9
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


def city_operators(rnd: random.Random) -> dict[str, Operator]:
    """Metro (4 lines × 20 stations, crossing at their middles), bus and walk-up railway."""
    edges: list[tuple[str, str, int]] = []
    for line in range(4):
        names = [f"M{line}-{n:02d}" for n in range(20)]
        names[10] = "HUB"
        edges += [(a, b, rnd.randint(900, 2_600)) for a, b in itertools.pairwise(names)]
    return {
        "metro": metro_operator("metro", edges, caps=Caps(daily_fen=2_000, weekly_fen=10_000)),
        "bus": FlatFareOperator("bus", 200, Caps(daily_fen=1_000, weekly_fen=5_000)),
        "rail": railway_operator("rail", JINGJIN),
    }


def city_day(count: int, seed: int = 12306) -> tuple[dict[str, Operator], list[Tap]]:
    """About ``count`` taps of one service day (duplicates included), shuffled."""
    rnd = random.Random(seed)
    operators = city_operators(rnd)
    metro_stations = sorted({a for a, _ in operators["metro"].fares})  # type: ignore[union-attr]
    rail_stations = [s.code for s in JINGJIN.stations]
    start = service_day_bounds(DAY)[0] + 3_600
    taps: list[Tap] = []
    account = 0
    while len(taps) < count:
        token = f"a{account:07d}"
        account += 1
        clock = start + rnd.randrange(0, 14 * 3_600)
        for _ in range(rnd.choice((1, 2, 2, 3, 4))):
            clock = _journey(rnd, taps, token, clock, metro_stations, rail_stations)
    taps.extend(rnd.sample(taps, len(taps) // 50))
    rnd.shuffle(taps)
    return operators, taps


def _journey(
    rnd: random.Random,
    taps: list[Tap],
    token: str,
    clock: int,
    metro: list[str],
    rail: list[str],
) -> int:
    def add(operator: str, station: str, direction: TapDirection, at: int) -> None:
        taps.append(Tap(f"t{len(taps)}", token, operator, station, direction, at))

    kind = rnd.random()
    if kind < 0.3:
        add("bus", f"route-{rnd.randrange(300)}", TapDirection.BOARD, clock)
        return clock + rnd.randrange(600, 3_600)
    operator, stations = ("rail", rail) if kind < 0.35 else ("metro", metro)
    origin, destination = rnd.choice(stations), rnd.choice(stations)
    arrive = clock + rnd.randrange(300, 3_600)
    chance = rnd.random()
    if chance >= 0.01:
        add(operator, origin, TapDirection.ENTRY, clock)
    if chance < 0.01 or chance >= 0.02:
        add(operator, destination, TapDirection.EXIT, arrive)
    return arrive + rnd.randrange(600, 7_200)


def run(seconds: float = 3.0, taps: int = 1_000_000, repeats: int = 3) -> dict[str, Any]:
    """Settle one generated city day; rates in taps per second (one core)."""
    operators, day_taps = city_day(taps)
    settle_times: list[float] = []
    floor_times: list[float] = []
    charges: list[Any] = []
    began = time.perf_counter()
    settle_day(day_taps, operators, DAY)
    gc_on = time.perf_counter() - began
    deadline = time.perf_counter() + seconds
    while len(settle_times) < repeats or (
        time.perf_counter() < deadline and len(settle_times) < MAX_REPEATS
    ):
        gc.collect()
        gc.disable()
        try:
            began = time.perf_counter()
            sorted(day_taps, key=TAP_ORDER_KEY)
            floor_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            charges = settle_day(day_taps, operators, DAY)
            settle_times.append(time.perf_counter() - began)
        finally:
            gc.enable()
    rate = len(day_taps) / statistics.median(settle_times)
    floor = len(day_taps) / statistics.median(floor_times)
    return {
        "taps": len(day_taps),
        "accounts_charged": len(charges),
        "flagged_accounts": sum(1 for c in charges if c.flagged),
        "total_yuan": round(sum(c.amount_fen for c in charges) / 100, 2),
        "repeats": len(settle_times),
        "settle_s_median": round(statistics.median(settle_times), 3),
        "taps_per_s": round(rate),
        "taps_per_s_gc_on": round(len(day_taps) / gc_on),
        "floor_sort_taps_per_s": round(floor),
        "ratio_to_floor": round(rate / floor, 3),
    }
