"""Ports of the catalog: where the timetable and its runs are stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import Train
from open12306.shared.run_key import RunKey


class NetworkStore(Protocol):
    """Stations, trains and runs (the timetable side of the database)."""

    def stations(self) -> list[Station]: ...

    def trains(self) -> list[Train]: ...

    def runs(self, first: date, last: date) -> set[RunKey]: ...

    def save_network(
        self, stations: Sequence[Station], trains: Sequence[Train], source: str
    ) -> None: ...

    def add_runs(self, keys: Sequence[RunKey]) -> int: ...
