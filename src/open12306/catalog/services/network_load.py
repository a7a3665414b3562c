"""Loading a timetable into the store: the demo network, or a GTFS feed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from open12306.catalog.domain.composition import COMPOSITIONS
from open12306.catalog.domain.corridors import Corridor
from open12306.catalog.domain.network import Network
from open12306.catalog.domain.service_calendar import check_shared_calendars
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import Train, validate_train
from open12306.catalog.domain.timetable_generator import generate_timetable
from open12306.catalog.ports import NetworkStore
from open12306.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load wrote."""

    stations: int
    trains: int
    stops: int


def demo_network(
    stations: Sequence[Station],
    corridors: Sequence[Corridor],
    seed: int,
    target: int,
    through_routes: Sequence[Corridor] = (),
) -> Network:
    """The demo timetable: real stations and corridors, synthetic trains from a seed."""
    trains = generate_timetable(
        list(corridors), random.Random(seed), target=target, through_routes=list(through_routes)
    )
    return Network(stations=tuple(stations), trains=tuple(trains), source="generator")


def check_trains(trains: Sequence[Train], known_stations: set[str]) -> None:
    """Every train valid, every stop a known station, every composition defined, and one set
    of dates per service_id."""
    check_shared_calendars((train.code, train.calendar) for train in trains)
    for train in trains:
        validate_train(train)
        if train.composition not in COMPOSITIONS:
            raise DomainError(
                "composition",
                "unknown_composition",
                f"{train.code}: unknown composition {train.composition!r}",
            )
        for stop in train.stops:
            if stop.station not in known_stations:
                raise DomainError(
                    "station", "unknown_station", f"{train.code}: unknown station {stop.station}"
                )


def load_network(store: NetworkStore, network: Network, source: str) -> LoadReport:
    """Validate a network and write it; trains from the same source are replaced."""
    known = {s.code for s in store.stations()} | {s.code for s in network.stations}
    check_trains(network.trains, known)
    store.save_network(network.stations, network.trains, source)
    return LoadReport(
        stations=len(network.stations),
        trains=len(network.trains),
        stops=sum(len(t.stops) for t in network.trains),
    )
