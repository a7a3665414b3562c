"""Eight allocator processes drain one queue on PostgreSQL at once. Each claims runs no other
holds (a transaction-scoped advisory lock per run), so no batch is ever redone and every order
is decided exactly once with no seat-segment sold twice; the control (every process takes
every run, as on SQLite) shows the processes would otherwise collide."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from open12306.accounts.domain.identity import Document, DocumentKind
from open12306.catalog.domain.fares import PassengerType
from open12306.catalog.services.catalog import Catalog
from open12306.database.store import SqlStore
from open12306.inventory.adapters.inventory_repo import VersionConflict
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.adapters import orders_repo
from open12306.sales.adapters.orders_repo import SqlOrdersStore
from open12306.sales.adapters.tables import order_tickets
from open12306.sales.domain import OrderState, Passenger, Trip, queue
from open12306.sales.ports import OrderRecord
from open12306.sales.services.allocator import Allocator
from open12306.search.services.read_model import ReadModel
from open12306.shared.clock import FixedClock
from open12306.shared.db.documents_at_rest import attach_document_cipher
from tests.conftest import TEST_CIPHER
from tests.integration.orders_support import G1, G3, NOW, STATIONS, ZONE
from tests.unit.accounts_support import resident_id

pytestmark = pytest.mark.postgres
PROCESSES = 8
DAYS = [date(2026, 2, 12) + timedelta(days=d) for d in range(6)]
PER_RUN = 25


def _trip(train_code: str, day: date) -> Trip:
    train = G1 if train_code == "G1" else G3
    midnight = datetime.combine(day, datetime.min.time(), ZONE)
    last = len(train.stops) - 1
    depart, arrive = train.stops[0].depart, train.stops[last].arrive
    assert depart is not None and arrive is not None
    return Trip(
        train.code,
        day,
        "VNP",
        "AOH",
        0,
        last,
        SeatClass.BUSINESS,
        midnight + timedelta(minutes=depart),
        midnight + timedelta(minutes=arrive),
    )


def _queue_orders(url: str) -> list[str]:
    store = SqlStore.from_url(url)
    attach_document_cipher(store.engine, TEST_CIPHER)
    store.save_network(STATIONS, [G1, G3], "test")
    store.add_runs([(code, day) for code in ("G1", "G3") for day in DAYS])
    orders = SqlOrdersStore(store.engine)
    records = []
    numbers = orders.next_numbers(2 * len(DAYS) * PER_RUN)
    for n, number in enumerate(numbers):
        code, day = ("G1", "G3")[n % 2], DAYS[(n // 2) % len(DAYS)]
        document = resident_id(f"11010119800101{n % 1000:03d}")
        person = Passenger(f"乘客{chr(0x4E00 + n)}", Document(DocumentKind.RESIDENT_ID, document),
                           PassengerType.ADULT)  # fmt: skip
        order = queue(number, f"acct{n:04d}", _trip(code, day), [person], NOW)
        records.append(OrderRecord(order, (f"p{n}",), (f"k{n}",)))
    orders.add_many(records)
    store.engine.dispose()
    return numbers


def _drain(args: tuple[str, bool, object]) -> tuple[int, int]:
    url, claim, barrier = args
    if not claim:  # the control: take every run with queued orders, as on SQLite

        def every_run(conn, runs, now=None):  # type: ignore[no-untyped-def]
            query = (
                select(orders_repo.orders.c.train_code, orders_repo.orders.c.service_date)
                .where(orders_repo.orders.c.state == OrderState.QUEUED.value)
                .distinct()
            )
            return [(str(c), d) for c, d in conn.execute(query)]

        orders_repo.claim_runs = every_run  # type: ignore[assignment]
    store = SqlStore.from_url(url)
    attach_document_cipher(store.engine, TEST_CIPHER)
    catalog = Catalog(STATIONS, [G1, G3])
    read_model = ReadModel(catalog, store, set(store.runs(DAYS[0], DAYS[-1])))
    allocator = Allocator(
        SqlOrdersStore(store.engine),
        catalog,
        read_model,
        FixedClock(NOW),
        VersionConflict,
        batch=40,
        runs=2,
    )
    barrier.wait()  # type: ignore[attr-defined]
    decided = 0
    while True:
        done = allocator.drain_all()
        decided += done
        if done == 0 and not allocator.store.runs_with_queued():
            break
    store.engine.dispose()
    return decided, allocator.conflicts


def _run(url: str, claim: bool) -> tuple[list[tuple[int, int]], Sequence[str]]:
    numbers = _queue_orders(url)
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(PROCESSES)
    with context.Pool(PROCESSES) as pool:
        results = pool.map(_drain, [(url, claim, barrier)] * PROCESSES)
    return results, numbers


def _audit(url: str, numbers: Sequence[str]) -> tuple[dict[str, int], int]:
    store = SqlStore.from_url(url)
    attach_document_cipher(store.engine, TEST_CIPHER)
    orders = SqlOrdersStore(store.engine)
    states: dict[str, int] = {}
    for number in numbers:
        record = orders.get(number)
        assert record is not None
        states[record.order.state.value] = states.get(record.order.state.value, 0) + 1
    catalog = Catalog(STATIONS, [G1, G3])
    doubled = 0
    for code in ("G1", "G3"):
        for day in DAYS:
            stored = store.load((code, day))
            assert stored is not None
            inventory = catalog.decode(code, stored.state)
            assert inventory.check() == []
            with store.engine.connect() as conn:
                seats = [
                    row.seat_index
                    for row in conn.execute(
                        select(order_tickets.c.seat_index).where(
                            order_tickets.c.train_code == code,
                            order_tickets.c.service_date == day,
                            order_tickets.c.state == "pending",
                            order_tickets.c.seat_index.is_not(None),
                        )
                    )
                ]
            doubled += len(seats) - len(set(seats))  # every order rides the whole route
    store.engine.dispose()
    return states, doubled


@pytest.fixture
def pg_url() -> str:
    from open12306.database.migrate import upgrade
    from tests.conftest import fresh_postgres

    url = fresh_postgres()
    upgrade(url)
    return url


def test_allocator_processes_claim_different_runs(pg_url: str) -> None:
    results, numbers = _run(pg_url, claim=True)
    assert sum(decided for decided, _ in results) == len(numbers)
    assert sum(conflicts for _, conflicts in results) == 0
    assert sum(1 for decided, _ in results if decided) >= 2  # the work was shared
    states, doubled = _audit(pg_url, numbers)
    assert set(states) <= {"held", "failed"} and doubled == 0
    assert states.get("failed", 0) > 0  # business class sold out: seats were contended


def test_control_processes_taking_every_run_collide(pg_url: str) -> None:
    results, numbers = _run(pg_url, claim=False)
    assert sum(conflicts for _, conflicts in results) > 0
    states, doubled = _audit(pg_url, numbers)
    assert doubled == 0  # the version checks still keep every seat sold once
    assert sum(states.values()) == len(numbers) and "queued" not in states
