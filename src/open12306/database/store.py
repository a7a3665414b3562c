"""SqlStore: the NetworkStore and InventoryStore ports on one SQLAlchemy engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine

from open12306.catalog.adapters import network_repo
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import Train
from open12306.inventory.adapters import inventory_repo
from open12306.inventory.adapters.inventory_repo import StoredInventory
from open12306.shared.db.engine import make_engine
from open12306.shared.run_key import RunKey


class SqlStore:
    """Each method runs in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def stations(self) -> list[Station]:
        with self.engine.connect() as conn:
            return network_repo.load_stations(conn)

    def trains(self) -> list[Train]:
        with self.engine.connect() as conn:
            return network_repo.load_trains(conn)

    def runs(self, first: date, last: date) -> set[RunKey]:
        with self.engine.connect() as conn:
            return network_repo.load_runs(conn, first, last)

    def save_network(
        self, stations: Sequence[Station], trains: Sequence[Train], source: str
    ) -> None:
        with self.engine.begin() as conn:
            network_repo.upsert_stations(conn, stations, source)
            network_repo.replace_trains(conn, trains, source)

    def add_runs(self, keys: Sequence[RunKey]) -> int:
        with self.engine.begin() as conn:
            return network_repo.add_runs(conn, keys)

    def load(self, key: RunKey) -> StoredInventory | None:
        with self.engine.connect() as conn:
            return inventory_repo.load(conn, key)

    def save(self, key: RunKey, state: bytes, expected_version: int) -> StoredInventory:
        with self.engine.begin() as conn:
            return inventory_repo.save(conn, key, state, expected_version)

    def changes_since(self, seq: int) -> list[StoredInventory]:
        with self.engine.connect() as conn:
            return inventory_repo.changes_since(conn, seq)
