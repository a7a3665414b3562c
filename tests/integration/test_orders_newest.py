"""The operators' list of orders (``open12306 orders list``): newest first, by owner, by state.

The store answers for the states stored; the service expires overdue holds as it reads, so an
order asked for as ``expired`` may still be stored as ``held`` (the store alone misses it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from open12306.sales.domain import OrderState
from open12306.sales.ports import OrderRecord
from tests.integration.orders_support import ADULT_ID, OTHER_ID, World, build_world, request
from tests.unit.accounts_support import resident_id

THIRD_ID = resident_id("44030419900307001")


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def _numbers(records: Sequence[OrderRecord]) -> list[str]:
    return [r.number for r in records]


def _three_orders(world: World) -> tuple[str, list[str]]:
    """Held (deadline in 30 min), held a minute later, queued a minute after that: the first
    account's id and the order numbers, oldest first."""
    a, a_ids = world.account("zhang_san", ("张三", ADULT_ID))
    b, b_ids = world.account("li_si_01", ("李四", OTHER_ID))
    c, c_ids = world.account("wang_wu_1", ("王五", THIRD_ID))
    first = world.orders.submit(a, request(*a_ids))
    world.allocator.run_once()
    world.clock.advance(timedelta(minutes=1))
    second = world.orders.submit(b, request(*b_ids))
    world.allocator.run_once()
    world.clock.advance(timedelta(minutes=1))
    third = world.orders.submit(c, request(*c_ids))
    return a.id, [first.number, second.number, third.number]


def test_the_store_lists_newest_first_by_owner_state_and_limit(world: World) -> None:
    owner, (first, second, third) = _three_orders(world)
    store = world.orders_store
    assert _numbers(store.newest(None, None, 10)) == [third, second, first]
    assert _numbers(store.newest(owner, None, 10)) == [first]
    assert _numbers(store.newest(None, None, 2)) == [third, second]
    assert _numbers(store.newest(None, [OrderState.QUEUED], 10)) == [third]
    assert _numbers(store.newest(None, [OrderState.HELD], 10)) == [second, first]
    assert store.newest("nobody", None, 10) == []


def test_an_overdue_hold_is_listed_as_expired_and_no_longer_as_held(world: World) -> None:
    _, (first, second, third) = _three_orders(world)
    world.clock.advance(timedelta(minutes=28))  # the first hold is due now, the second not
    # control: the first order is still stored as held, so the stored state alone misses it
    assert world.orders_store.newest(None, [OrderState.EXPIRED], 10) == []
    expired = world.orders.newest(None, OrderState.EXPIRED, 10)
    assert _numbers(expired) == [first]
    assert expired[0].order.state is OrderState.EXPIRED
    world.clock.advance(timedelta(minutes=1))  # now the second is overdue too, stored held
    assert world.orders.newest(None, OrderState.HELD, 10) == []
    listed = world.orders.newest(None, None, 10)
    assert [(r.number, r.order.state) for r in listed] == [
        (third, OrderState.QUEUED),
        (second, OrderState.EXPIRED),
        (first, OrderState.EXPIRED),
    ]
