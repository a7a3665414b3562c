"""Which trains serve which station pairs, and the legs and transfers they make on a date.

Absolute times are integer minutes since 0001-01-01 00:00 local time (``date.toordinal()``
based), so the core stays free of time zones; the edges convert to aware datetimes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from open12306.catalog.domain.timetable import Train

DAY = 1440
HasRun = Callable[[str, date], bool]


def day_minute(day: date) -> int:
    """Absolute minute of a date's midnight."""
    return day.toordinal() * DAY


@dataclass(frozen=True, slots=True)
class Leg:
    """One train ridden from stop ``i`` to stop ``j`` on the run of ``service_date``."""

    train: Train
    i: int
    j: int
    service_date: date

    @property
    def departs(self) -> int:
        return day_minute(self.service_date) + self.train.departure(self.i)

    @property
    def arrives(self) -> int:
        return day_minute(self.service_date) + self.train.arrival(self.j)

    @property
    def minutes(self) -> int:
        return self.arrives - self.departs

    @property
    def km(self) -> int:
        return self.train.stops[self.j].km - self.train.stops[self.i].km

    @property
    def board(self) -> str:
        return self.train.stops[self.i].station

    @property
    def alight(self) -> str:
        return self.train.stops[self.j].station


@dataclass(frozen=True, slots=True)
class Transfer:
    """Two legs with a change between them (same station, or another station of one city)."""

    first: Leg
    second: Leg

    @property
    def wait(self) -> int:
        return self.second.departs - self.first.arrives

    @property
    def minutes(self) -> int:
        return self.second.arrives - self.first.departs

    @property
    def same_station(self) -> bool:
        return self.first.alight == self.second.board


@dataclass(frozen=True, slots=True)
class TransferRules:
    """Connection windows: 12306 suggests longer changes between stations of one city."""

    min_same_station: int = 15
    min_same_city: int = 60
    max_wait: int = 360
    limit: int = 20


class RouteIndex:
    """Trains indexed by the stations they call at (built once per timetable)."""

    def __init__(self, trains: Iterable[Train]) -> None:
        self.trains: dict[str, Train] = {}
        self._calls: dict[str, list[tuple[Train, int]]] = defaultdict(list)
        for train in trains:
            self.trains[train.code] = train
            for n, stop in enumerate(train.stops):
                self._calls[stop.station].append((train, n))

    def calls(self, station: str) -> list[tuple[Train, int]]:
        return self._calls.get(station, [])

    def served(self, station: str) -> bool:
        return station in self._calls


def _best_pairs(
    index: RouteIndex, origins: Collection[str], destinations: Collection[str]
) -> dict[str, tuple[Train, int, int]]:
    """Per train, the (i, j) with i in origins before j in destinations; the shortest ride wins."""
    best: dict[str, tuple[Train, int, int]] = {}
    for origin in origins:
        for train, i in index.calls(origin):
            if i == len(train.stops) - 1:
                continue
            for j in range(i + 1, len(train.stops)):
                if train.stops[j].station not in destinations:
                    continue
                ride = train.arrival(j) - train.departure(i)
                held = best.get(train.code)
                if held is None or ride < held[0].arrival(held[2]) - held[0].departure(held[1]):
                    best[train.code] = (train, i, j)
                break
    return best


def direct_legs(
    index: RouteIndex,
    origins: Collection[str],
    destinations: Collection[str],
    boarding: date,
    has_run: HasRun,
) -> list[Leg]:
    """Trains boarding at one of ``origins`` on the boarding date and calling later at one of
    ``destinations``, each on the run whose service date makes it board that day."""
    legs: list[Leg] = []
    for train, i, j in _best_pairs(index, origins, destinations).values():
        service = boarding - timedelta(days=train.departure(i) // DAY)
        if has_run(train.code, service):
            legs.append(Leg(train, i, j, service))
    legs.sort(key=lambda leg: (leg.departs, leg.train.code))
    return legs


def _feeders(
    index: RouteIndex, destinations: Collection[str]
) -> dict[str, list[tuple[Train, int, int]]]:
    """Station X -> the (train, i, j) rides from X to a destination."""
    feeders: dict[str, list[tuple[Train, int, int]]] = defaultdict(list)
    for destination in destinations:
        for train, j in index.calls(destination):
            for i in range(j):
                feeders[train.stops[i].station].append((train, i, j))
    return feeders


def transfers(
    index: RouteIndex,
    origins: Collection[str],
    destinations: Collection[str],
    boarding: date,
    has_run: HasRun,
    city_of: Callable[[str], str],
    siblings: Callable[[str], Collection[str]],
    rules: TransferRules = TransferRules(),
) -> list[Transfer]:
    """One-change itineraries from origins to destinations, boarding on ``boarding``.

    The change happens at a station outside both end cities, either at the same station
    (at least ``min_same_station`` minutes) or at another station of the same city (at least
    ``min_same_city``), waiting at most ``max_wait``. The fastest per pair of trains win.
    """
    end_cities = {city_of(s) for s in origins} | {city_of(s) for s in destinations}
    feeders = _feeders(index, destinations)
    found: dict[tuple[str, str], Transfer] = {}
    for origin in origins:
        for train, i in index.calls(origin):
            if i == len(train.stops) - 1:
                continue
            service = boarding - timedelta(days=train.departure(i) // DAY)
            if not has_run(train.code, service):
                continue
            base = day_minute(service)
            departs = base + train.departure(i)
            for k in range(i + 1, len(train.stops)):
                hub = train.stops[k].station
                if hub in destinations or city_of(hub) in end_cities:
                    continue
                arrived = base + train.arrival(k)
                for station in siblings(hub):
                    rides = feeders.get(station)
                    if not rides:
                        continue
                    minimum = rules.min_same_station if station == hub else rules.min_same_city
                    for second_train, i2, j2 in rides:
                        if second_train.code == train.code:
                            continue
                        second = _connecting_leg(
                            second_train, i2, j2, arrived, minimum, rules.max_wait, has_run
                        )
                        if second is None:
                            continue
                        pair = (train.code, second_train.code)
                        held = found.get(pair)
                        if held is None or second.arrives - departs < held.minutes:
                            found[pair] = Transfer(Leg(train, i, k, service), second)
    ranked = sorted(found.values(), key=lambda t: (t.minutes, t.first.departs))
    return ranked[: rules.limit]


def _connecting_leg(
    train: Train, i: int, j: int, arrived: int, minimum: int, maximum: int, has_run: HasRun
) -> Leg | None:
    earliest = arrived + minimum
    offset = train.departure(i)
    service_ordinal = (earliest - offset) // DAY
    for ordinal in (service_ordinal, service_ordinal + 1):
        departs = ordinal * DAY + offset
        if departs < earliest or departs > arrived + maximum:
            continue
        service = date.fromordinal(ordinal)
        if has_run(train.code, service):
            return Leg(train, i, j, service)
    return None
