"""Submitting orders and draining a run's queue, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from open12306.inventory.domain import Request, SoldOut
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import OrderState
from open12306.shared.errors import DomainError, NotFound
from tests.integration.orders_support import (
    ADULT_ID,
    CHILD_ID,
    DAY,
    OTHER_ID,
    World,
    build_world,
    request,
)


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def test_submit_queues_and_a_retry_returns_the_same_order(world: World) -> None:
    account, ids = world.account("zhang_san", ("张三", ADULT_ID))
    first = world.orders.submit(account, request(*ids), "key-1")
    again = world.orders.submit(account, request(*ids), "key-1")
    assert first.order.state is OrderState.QUEUED
    assert again.number == first.number
    assert [r.number for r in world.orders.list(account)] == [first.number]


def test_drain_holds_seats_in_one_batch_and_counts_follow(world: World) -> None:
    key = ("G1", DAY)
    before = world.read_model.remaining(key, SeatClass.SECOND, 0, 2)
    a, a_ids = world.account("zhang_san", ("张三", ADULT_ID), ("张小", CHILD_ID))
    b, b_ids = world.account("li_si_01", ("李四", OTHER_ID))
    one = world.orders.submit(a, request(*a_ids))
    two = world.orders.submit(b, request(*b_ids))
    assert world.allocator.drain(key) == 2
    held = [world.orders.get(a, one.number), world.orders.get(b, two.number)]
    assert [r.order.state for r in held] == [OrderState.HELD, OrderState.HELD]
    seats = [s.seat_index for r in held for s in r.order.seats]
    assert len(set(seats)) == 3 and None not in seats
    assert held[0].order.pay_deadline == world.clock.now() + timedelta(minutes=30)
    child_fare, adult_fare = held[0].order.seats[1].fare_fen, held[0].order.seats[0].fare_fen
    assert 0 < child_fare < adult_fare
    assert world.read_model.remaining(key, SeatClass.SECOND, 0, 2) == before - 3
    stored = world.store.load(key)
    assert stored is not None
    assert world.read_model.catalog.decode("G1", stored.state).check() == []


def test_a_sold_out_class_fails_the_order(world: World) -> None:
    key = ("G1", DAY)
    while True:
        try:
            world.inventory.sell(key, Request(SeatClass.BUSINESS, 0, 2))
        except SoldOut:
            break
    account, ids = world.account("zhang_san", ("张三", ADULT_ID))
    record = world.orders.submit(account, request(*ids, seat_class=SeatClass.BUSINESS))
    world.allocator.run_once()
    failed = world.orders.get(account, record.number).order
    assert failed.state is OrderState.FAILED and failed.failure == "sold_out"


def test_overdue_holds_expire_on_read_and_seats_return(world: World) -> None:
    key = ("G1", DAY)
    before = world.read_model.remaining(key, SeatClass.SECOND, 0, 2)
    account, ids = world.account("zhang_san", ("张三", ADULT_ID))
    record = world.orders.submit(account, request(*ids))
    world.allocator.drain(key)
    assert world.read_model.remaining(key, SeatClass.SECOND, 0, 2) == before - 1
    world.clock.advance(timedelta(minutes=31))
    expired = world.orders.get(account, record.number)
    assert expired.order.state is OrderState.EXPIRED
    assert world.read_model.remaining(key, SeatClass.SECOND, 0, 2) == before
    # the account may order again now that its unpaid order is gone
    again = world.orders.submit(account, request(*ids))
    assert again.order.state is OrderState.QUEUED


def test_sweeper_expires_without_a_read(world: World) -> None:
    account, ids = world.account("zhang_san", ("张三", ADULT_ID))
    world.orders.submit(account, request(*ids))
    world.allocator.run_once()
    world.clock.advance(timedelta(minutes=30))
    assert world.allocator.sweep() == 1
    assert world.allocator.sweep() == 0


def test_sale_rules_have_their_own_reasons(world: World) -> None:
    account, ids = world.account("zhang_san", ("张三", ADULT_ID))
    world.orders.submit(account, request(*ids))
    with pytest.raises(DomainError) as unpaid:
        world.orders.submit(account, request(*ids, train="G3"))
    assert unpaid.value.reason == "too_many_unpaid"
    other, other_ids = world.account("li_si_01", ("张三", ADULT_ID))
    with pytest.raises(DomainError) as overlap:
        world.orders.submit(other, request(*other_ids, train="G3"))
    assert overlap.value.reason == "overlapping_trip"
    with pytest.raises(NotFound):
        world.orders.get(other, world.orders.list(account)[0].number)
    with pytest.raises(NotFound) as unknown:
        world.orders.submit(other, request(*other_ids, train="G7"))
    assert unknown.value.reason == "unknown_train"
