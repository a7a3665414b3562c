"""A network: the stations and the trains that run between them, as one value.

Importers (GTFS, generators) build a Network; the integrator persists it. It holds no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from open12306.catalog.domain.service_calendar import check_shared_calendars
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import Train
from open12306.shared.errors import DomainError, NotFound


@dataclass(frozen=True, slots=True)
class Network:
    """Stations and trains of one operator, with the agency that runs them and the data's source.

    ``agency`` is the operator's name (GTFS agency_name); ``source`` says where the data came
    from (a feed publisher, a file name, "generator"), or is empty. ``timezone`` is the IANA
    zone whose wall clock the trains' times are in (GTFS agency_timezone).
    """

    stations: tuple[Station, ...]
    trains: tuple[Train, ...]
    agency: str = "open12306"
    source: str = ""
    timezone: str = "Asia/Shanghai"

    def station_index(self) -> dict[str, Station]:
        """Stations by code."""
        return {station.code: station for station in self.stations}

    def station(self, code: str) -> Station:
        """The station with this code; NotFound when there is none."""
        for station in self.stations:
            if station.code == code:
                return station
        raise NotFound("station", "unknown_station", f"no station with code {code!r}")

    def train(self, code: str) -> Train:
        """The train with this number; NotFound when there is none."""
        for train in self.trains:
            if train.code == code:
                return train
        raise NotFound("train", "unknown_train", f"no train numbered {code!r}")

    def served_station_codes(self) -> frozenset[str]:
        """Codes of the stations at which at least one train stops."""
        return frozenset(stop.station for train in self.trains for stop in train.stops)


def validate_network(network: Network) -> None:
    """Raise DomainError when codes repeat, a train stops at a station the network lacks, or
    trains give one service_id different dates."""
    codes: set[str] = set()
    for station in network.stations:
        if station.code in codes:
            raise DomainError(
                "stations", "duplicate_station", f"station code {station.code!r} repeats"
            )
        codes.add(station.code)
    numbers: set[str] = set()
    for train in network.trains:
        if train.code in numbers:
            raise DomainError("trains", "duplicate_train", f"train number {train.code!r} repeats")
        numbers.add(train.code)
        for stop in train.stops:
            if stop.station not in codes:
                raise DomainError(
                    "trains",
                    "unknown_station",
                    f"{train.code} stops at {stop.station!r}, which is not in the network",
                )
    check_shared_calendars((train.code, train.calendar) for train in network.trains)
