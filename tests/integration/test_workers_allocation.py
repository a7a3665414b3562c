"""Two workers' allocators on one database, each keeping inventories decoded in memory: worker
A expires an unpaid hold while worker B allocates on the same run between A's read and A's
write. The version check on the run's inventory refuses A's write (A redoes it on B's state),
so no seat is sold twice; the control, the same race with the inventory written whatever its
version, loses B's sale from the inventory and sells that seat again."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select

from open12306.accounts.domain.identity import Document, DocumentKind
from open12306.catalog.domain.fares import PassengerType
from open12306.catalog.services.catalog import Catalog
from open12306.database.store import SqlStore
from open12306.inventory.adapters import inventory_repo
from open12306.inventory.adapters.inventory_repo import StoredInventory, VersionConflict
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.adapters.orders_repo import SqlOrdersStore
from open12306.sales.adapters.tables import order_tickets, orders
from open12306.sales.domain import OrderState, Passenger, Trip, queue
from open12306.sales.ports import OrderRecord
from open12306.sales.services.allocator import Allocator
from open12306.search.services.read_model import ReadModel
from open12306.shared.clock import FixedClock
from open12306.shared.db.documents_at_rest import attach_document_cipher
from tests.conftest import TEST_CIPHER
from tests.integration.orders_support import DAY, G1, G3, NOW, STATIONS, ZONE
from tests.unit.accounts_support import resident_id

KEY = ("G1", DAY)
_serial = itertools.count(1)


@dataclass
class Worker:
    """One server process's allocator: its own engine, read model, cache and clock."""

    allocator: Allocator
    orders: SqlOrdersStore
    clock: FixedClock


def _worker(url: str) -> Worker:
    store = SqlStore.from_url(url)
    attach_document_cipher(store.engine, TEST_CIPHER)
    catalog = Catalog(STATIONS, [G1, G3])
    read_model = ReadModel(catalog, store, {KEY})
    clock = FixedClock(NOW)
    orders_store = SqlOrdersStore(store.engine)
    allocator = Allocator(orders_store, catalog, read_model, clock, VersionConflict)
    return Worker(allocator, orders_store, clock)


def _trip() -> Trip:
    midnight = datetime.combine(DAY, datetime.min.time(), ZONE)
    last = len(G1.stops) - 1
    depart, arrive = G1.stops[0].depart, G1.stops[last].arrive
    assert depart is not None and arrive is not None
    return Trip(
        "G1",
        DAY,
        "VNP",
        "AOH",
        0,
        last,
        SeatClass.BUSINESS,
        midnight + timedelta(minutes=depart),
        midnight + timedelta(minutes=arrive),
    )


def _queue(worker: Worker, count: int) -> list[str]:
    """``count`` one-passenger business orders over the whole route, queued now."""
    records = []
    for number in worker.orders.next_numbers(count):
        n = next(_serial)
        document = Document(DocumentKind.RESIDENT_ID, resident_id(f"11010119800101{n:03d}"))
        person = Passenger(f"乘客{chr(0x4E00 + n)}", document, PassengerType.ADULT)
        order = queue(number, f"acct{n:04d}", _trip(), [person], worker.clock.now())
        records.append(OrderRecord(order, (f"p{n}",), (f"k{n}",)))
    worker.orders.add_many(records)
    return [r.number for r in records]


def _unguarded(save: Callable[..., StoredInventory]) -> Callable[..., StoredInventory]:
    """``inventory_repo.save`` writing whatever version it was read at (the control)."""

    def save_anyway(conn: Connection, key: Any, state: bytes, _expected: int) -> StoredInventory:
        current = inventory_repo.load(conn, key)
        return save(conn, key, state, 0 if current is None else current.version)

    return save_anyway


def _audit(worker: Worker) -> tuple[int, int, int]:
    """(held orders, held orders sharing a seat with another, seats the inventory has sold)."""
    engine = worker.orders.engine
    with engine.connect() as conn:
        seats = [
            int(s)
            for (s,) in conn.execute(
                select(order_tickets.c.seat_index)
                .join(orders, orders.c.number == order_tickets.c.order_number)
                .where(orders.c.state == OrderState.HELD.value)
            )
        ]
        stored = inventory_repo.load(conn, KEY)
    assert stored is not None
    inventory = worker.allocator.catalog.decode("G1", stored.state)
    sold = inventory.sold_seat_segments(SeatClass.BUSINESS) // inventory.segments
    return len(seats), len(seats) - len(set(seats)), sold


@pytest.mark.parametrize("guarded", [True, False], ids=["version-checked", "control"])
def test_an_expiry_on_one_worker_racing_an_allocation_on_another(
    db_url: str, guarded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore.from_url(db_url)
    store.save_network(STATIONS, [G1, G3], "test")
    store.add_runs([KEY])
    store.engine.dispose()
    a, b = _worker(db_url), _worker(db_url)
    (first,) = _queue(a, 1)
    assert a.allocator.drain_all() == 1  # A holds it, and keeps the run decoded
    held = a.orders.get(first)
    assert held is not None and held.order.pay_deadline is not None
    a.clock.current = held.order.pay_deadline + timedelta(minutes=1)  # A sees it overdue
    (second,) = _queue(b, 1)
    if not guarded:
        monkeypatch.setattr(inventory_repo, "save", _unguarded(inventory_repo.save))
    write = a.orders.write
    raced: list[int] = []

    def write_after_b(*args: Any, **kwargs: Any) -> Any:
        if not raced:  # between A's read of the run and A's write: B allocates on it
            raced.append(b.allocator.drain_all())
        return write(*args, **kwargs)

    monkeypatch.setattr(a.orders, "write", write_after_b)
    assert [r.number for r in a.allocator.expire_run(KEY, {first})] == [first]
    assert raced == [1]
    monkeypatch.undo()
    seats = sum(1 for s in b.allocator.seats_of("G1") if s.seat_class is SeatClass.BUSINESS)
    _queue(b, seats)  # one more order than the seats left: the last sells out
    while b.allocator.drain_all():
        pass
    held_orders, shared, sold = _audit(b)
    expired, sold_by_b = b.orders.get(first), b.orders.get(second)
    assert expired is not None and expired.order.state is OrderState.EXPIRED
    assert sold_by_b is not None and sold_by_b.order.state is OrderState.HELD
    if guarded:
        assert (held_orders, shared, sold) == (seats, 0, seats)
    else:  # the control: B's sale of ``second`` vanished from the inventory ...
        assert held_orders == seats + 1 and sold == seats
        assert shared == 1  # ... and its seat was sold again
