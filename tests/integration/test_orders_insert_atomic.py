"""A new order and its ticket rows commit together: nobody sees the order without them.

On SQLite a savepoint opened before any write is the outermost transaction, and releasing it
commits; the order's ticket rows must therefore be written inside it. A duplicate idempotency
key still reads as DuplicateOrder and leaves nothing behind.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from open12306.sales.adapters.orders_repo import DuplicateOrder, insert_order
from open12306.sales.adapters.tables import order_tickets, orders
from tests.integration.orders_support import ADULT_ID, World, build_world, request


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def _counts(world: World) -> tuple[int, int]:
    with world.store.engine.connect() as conn:
        n_orders = conn.execute(select(func.count()).select_from(orders)).scalar_one()
        n_tickets = conn.execute(select(func.count()).select_from(order_tickets)).scalar_one()
    return int(n_orders), int(n_tickets)


def test_nobody_sees_the_order_without_its_ticket_rows(world: World) -> None:
    account, ids = world.account("rider1", ("王小明", ADULT_ID))
    record = world.orders.submit(account, request(*ids), idempotency_key="k-1")
    copy = dataclasses.replace(
        record,
        order=dataclasses.replace(record.order, number=world.orders_store.next_number()),
        idempotency_key="k-2",
    )
    before = _counts(world)
    with world.store.engine.begin() as conn:
        insert_order(conn, copy)
        seen = _counts(world)  # from another connection, before this transaction ends
        assert seen in (before, (before[0] + 1, before[1] + 1))
    assert _counts(world) == (before[0] + 1, before[1] + 1)


def test_a_taken_idempotency_key_is_a_duplicate_and_writes_nothing(world: World) -> None:
    account, ids = world.account("rider2", ("王小明", ADULT_ID))
    record = world.orders.submit(account, request(*ids), idempotency_key="k-1")
    again = dataclasses.replace(
        record, order=dataclasses.replace(record.order, number=world.orders_store.next_number())
    )
    before = _counts(world)
    with pytest.raises(DuplicateOrder), world.store.engine.begin() as conn:
        insert_order(conn, again)
    assert _counts(world) == before
