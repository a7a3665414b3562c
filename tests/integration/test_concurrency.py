"""Eight processes sell the same run at once. With the version guard no seat-segment is sold
twice; the control (the same writes without the guard) shows the race is real."""

from __future__ import annotations

import multiprocessing
import random
from datetime import date

import pytest
from sqlalchemy import update

from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train
from open12306.catalog.services.catalog import Catalog
from open12306.database.store import SqlStore
from open12306.inventory.adapters import inventory_repo
from open12306.inventory.adapters.tables import run_inventory
from open12306.inventory.domain import Request, SoldOut
from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.services.run_inventory import InventoryService
from open12306.search.services.read_model import ReadModel

pytestmark = pytest.mark.postgres
DAY = date(2026, 12, 1)
KEY = ("G7", DAY)
STATIONS = [Station(code, code) for code in ("AAA", "BBB", "CCC", "DDD", "EEE")]
TRAIN = Train(
    "G7",
    tuple(
        StopTime(s.code, None if n == 0 else 60 * n, None if n == 4 else 60 * n + 2, 100 * n)
        for n, s in enumerate(STATIONS)
    ),
    "emu-8",
)
PROCESSES = 8
SALES = 60


class UnguardedStore(SqlStore):
    """The control: writes the new state whatever happened since it was read."""

    def save(self, key, state, expected_version):  # type: ignore[no-untyped-def]
        if expected_version == 0:
            return super().save(key, state, 0)
        with self.engine.begin() as conn:
            seq = inventory_repo._next_seq(conn)
            conn.execute(
                update(run_inventory)
                .where(run_inventory.c.train_code == key[0])
                .values(state=state, version=expected_version + 1, change_seq=seq)
            )
            return inventory_repo.StoredInventory(key, state, expected_version + 1, seq)


def _sell(args: tuple[str, int, bool]) -> list[tuple[int, int, int]]:
    url, seed, guarded = args
    store = (SqlStore if guarded else UnguardedStore).from_url(url)
    catalog = Catalog(STATIONS, [TRAIN])
    service = InventoryService(
        store, ReadModel(catalog, store, {KEY}), inventory_repo.VersionConflict, retries=1000
    )
    rng = random.Random(seed)
    sold = []
    for _ in range(SALES):
        i = rng.randrange(4)
        j = rng.randrange(i + 1, 5)
        try:
            allocation = service.sell(KEY, Request(SeatClass.SECOND, i, j, together=False))
        except SoldOut:
            continue
        sold.extend((seat, i, j) for seat in allocation.seats if seat is not None)
    store.engine.dispose()
    return sold


def _double_sales(url: str, guarded: bool) -> int:
    store = SqlStore.from_url(url)
    store.save_network(STATIONS, [TRAIN], "test")
    store.add_runs([KEY])
    first = Catalog(STATIONS, [TRAIN]).empty_inventory("G7")
    first.allocate(Request(SeatClass.FIRST, 0, 1))
    store.save(KEY, first.encode(), 0)
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = pool.map(_sell, [(url, seed, guarded) for seed in range(PROCESSES)])
    taken: dict[tuple[int, int], int] = {}
    for sold in results:
        for seat, i, j in sold:
            for segment in range(i, j):
                taken[(seat, segment)] = taken.get((seat, segment), 0) + 1
    return sum(count - 1 for count in taken.values() if count > 1)


@pytest.fixture
def pg_url() -> str:
    from open12306.database.migrate import upgrade
    from tests.conftest import fresh_postgres

    url = fresh_postgres()
    upgrade(url)
    return url


def test_version_guard_prevents_double_sales(pg_url: str) -> None:
    assert _double_sales(pg_url, guarded=True) == 0


def test_control_without_the_guard_double_sells(pg_url: str) -> None:
    assert _double_sales(pg_url, guarded=False) > 0
