"""An idle allocator decodes the runs on sale ahead of need; what it warmed is checked against
the stored version, so a run changed by another writer since is decoded again."""

from __future__ import annotations

import pytest

from open12306.sales.domain import OrderState
from open12306.sales.services.allocator import Allocator
from tests.integration.orders_support import ADULT_ID, DAY, OTHER_ID, World, build_world, request
from tests.unit.accounts_support import resident_id


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def _fresh(world: World) -> Allocator:
    """Another allocator on the same store, as after a restart: nothing decoded yet."""
    old = world.allocator
    return Allocator(old.store, old.catalog, old.read_model, old.clock, old.conflict)


def _seat(world: World, account: object, number: str) -> tuple[int, str]:
    record = world.orders.get(account, number)  # type: ignore[arg-type]
    assert record.order.state is OrderState.HELD
    seat = record.order.seats[0]
    return seat.coach, seat.seat_label


def test_warming_decodes_every_run_once_soonest_first(world: World) -> None:
    a, a_ids = world.account("zhang_san", ("张三", ADULT_ID))
    first = world.orders.submit(a, request(*a_ids))
    assert world.allocator.drain_all() == 1
    fresh = _fresh(world)
    assert fresh.warm(limit=2) == 2
    assert all(fresh.cache.holds(k) for k in (("G1", DAY), ("G3", DAY)))  # the soonest day
    assert fresh.warm() == 1 and fresh.warm() == 0
    b, b_ids = world.account("li_si_01", ("李四", OTHER_ID))
    second = world.orders.submit(b, request(*b_ids))
    assert fresh.drain_all() == 1
    assert (fresh.cache.hits, fresh.cache.misses) == (1, 0)
    assert _seat(world, b, second.number) != _seat(world, a, first.number)


def test_a_run_sold_elsewhere_after_warming_is_decoded_again(world: World) -> None:
    fresh = _fresh(world)
    assert fresh.warm() == 3
    a, a_ids = world.account("zhang_san", ("张三", ADULT_ID))
    first = world.orders.submit(a, request(*a_ids, train="G3"))
    assert world.allocator.drain_all() == 1  # the other writer: G3 is now version 1
    c, c_ids = world.account("zhao_liu", ("赵六", resident_id("11010119900101308")))
    second = world.orders.submit(c, request(*c_ids, train="G3"))
    assert fresh.drain_all() == 1
    assert fresh.cache.misses == 1  # the warmed version 0 was not used
    assert _seat(world, c, second.number) != _seat(world, a, first.number)
    stored = world.store.load(("G3", DAY))
    assert stored is not None and stored.version == 2


def test_warming_stops_when_the_cache_is_full(world: World) -> None:
    old = world.allocator
    small = Allocator(old.store, old.catalog, old.read_model, old.clock, old.conflict, cache_runs=2)
    assert small.warm() == 2 and small.warm() == 0
