"""Ports the services need; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from open12306.domain.stations import Station
from open12306.domain.timetable import Train

RunKey = tuple[str, date]


class Clock(Protocol):
    """The current time, timezone-aware. Injected so a sale day can be replayed."""

    def now(self) -> datetime: ...


class StoredState(Protocol):
    """One run's stored inventory state."""

    @property
    def key(self) -> RunKey: ...

    @property
    def state(self) -> bytes: ...

    @property
    def version(self) -> int: ...

    @property
    def change_seq(self) -> int: ...


class NetworkStore(Protocol):
    """Stations, trains and runs (the timetable side of the database)."""

    def stations(self) -> list[Station]: ...

    def trains(self) -> list[Train]: ...

    def runs(self, first: date, last: date) -> set[RunKey]: ...

    def save_network(
        self, stations: Sequence[Station], trains: Sequence[Train], source: str
    ) -> None: ...

    def add_runs(self, keys: Sequence[RunKey]) -> int: ...


class InventoryStore(Protocol):
    """Run inventories with optimistic versions and a change feed for read models."""

    def load(self, key: RunKey) -> StoredState | None: ...

    def save(self, key: RunKey, state: bytes, expected_version: int) -> StoredState: ...

    def changes_since(self, seq: int) -> Sequence[StoredState]: ...
