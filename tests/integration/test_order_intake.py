"""Submissions admitted as a batch: one commit, the rules seen across the batch too."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import OrderState
from open12306.sales.services.allocator import AllocatorLoop
from open12306.sales.services.orders import OrderRequest
from open12306.shared.errors import DomainError
from tests.integration.orders_support import ADULT_ID, DAY, OTHER_ID, World, build_world, request
from tests.unit.accounts_support import resident_id

NAMES = "甲乙丙丁戊己庚辛壬癸子丑寅"


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def test_a_batch_is_checked_against_itself(world: World) -> None:
    a, a_ids = world.account("zhang_san", ("张三", ADULT_ID))
    b, b_ids = world.account("li_si_01", ("李四", OTHER_ID))
    c, c_ids = world.account("zhang_jr", ("张三", ADULT_ID))  # the same person, another account
    # 张三 twice on overlapping trips in one batch, and one key sent twice
    g1 = world.orders.prepare(a, request(*a_ids), "k1")
    g1_again = world.orders.prepare(a, request(*a_ids), "k1")
    g3 = world.orders.prepare(c, request(*c_ids, train="G3"), "k2")
    other = world.orders.prepare(b, request(*b_ids), None)
    outcomes = world.orders.intake.admit([g1, g1_again, g3, other])
    first, repeat, clash, fine = outcomes
    assert not isinstance(first, DomainError) and not isinstance(fine, DomainError)
    assert not isinstance(repeat, DomainError) and repeat.number == first.number
    assert isinstance(clash, DomainError) and clash.reason == "overlapping_trip"
    assert first.order.state is OrderState.QUEUED
    assert {r.number for r in world.orders.list(a)} == {first.number}
    assert [r.number for r in world.orders.list(b)] == [fine.number]
    assert first.number != fine.number


def test_the_unpaid_limit_counts_orders_of_the_same_batch(world: World) -> None:
    people = [("乘客" + NAMES[n], resident_id(f"11010119900101{n:03d}")) for n in range(1, 5)]
    account, ids = world.account("wang_wu_1", *people)
    days = [DAY, date(2026, 2, 13)]
    batch = [
        world.orders.prepare(
            account, OrderRequest("G1", days[n % 2], "VNP", "AOH", SeatClass.SECOND, (ids[n],))
        )
        for n in range(4)
    ]
    outcomes = world.orders.intake.admit(batch)
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert world.orders.rules.max_unpaid_orders == 1
    assert len(refused) == 3 and {e.reason for e in refused} == {"too_many_unpaid"}
    assert not isinstance(outcomes[0], DomainError)


def test_a_taken_key_in_a_later_batch_returns_the_stored_order(world: World) -> None:
    account, ids = world.account("zhang_san", ("张三", ADULT_ID))
    first = world.orders.submit(account, request(*ids), "key-9")
    (again,) = world.orders.intake.admit([world.orders.prepare(account, request(*ids), "key-9")])
    assert not isinstance(again, DomainError) and again.number == first.number


def test_background_mode_batches_riders_and_the_allocator_decides(world: World) -> None:
    loop = AllocatorLoop(world.allocator, world.orders.intake, interval=0.05)
    accounts = [
        world.account(f"rider_{n:03d}", ("乘客" + NAMES[n], resident_id(f"11010119800201{n:03d}")))
        for n in range(1, 13)
    ]
    results: dict[str, str] = {}
    loop.start()
    try:

        def order(account_and_ids: tuple[object, list[str]]) -> None:
            account, ids = account_and_ids
            record = world.orders.submit(account, request(*ids))  # type: ignore[arg-type]
            results[record.number] = record.order.state.value

        threads = [threading.Thread(target=order, args=(a,)) for a in accounts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        loop.stop()
    assert len(results) == 12 and set(results.values()) == {"queued"}
    world.allocator.run_once()
    states = {world.orders_store.get(n).order.state for n in results}  # type: ignore[union-attr]
    assert states == {OrderState.HELD}


def test_drain_all_decides_many_runs_in_one_pass(world: World) -> None:
    a, a_ids = world.account("zhang_san", ("张三", ADULT_ID))
    b, b_ids = world.account("li_si_01", ("李四", OTHER_ID))
    one = world.orders.submit(a, request(*a_ids))
    two = world.orders.submit(b, request(*b_ids, train="G3"))
    assert world.allocator.drain_all() == 2
    for account, record in ((a, one), (b, two)):
        assert world.orders.get(account, record.number).order.state is OrderState.HELD
    for key in (("G1", DAY), ("G3", DAY)):
        stored = world.store.load(key)
        assert stored is not None and stored.version == 1
    # the kept inventories serve the next pass without decoding again
    misses = world.allocator.cache.misses
    c, c_ids = world.account("wang_wu_1", ("王五", resident_id("11010119750101456")))
    world.orders.submit(c, request(*c_ids))
    assert world.allocator.drain_all() == 1
    assert world.allocator.cache.misses == misses


def test_each_admitted_order_knows_the_passengers_queued_before_it(world: World) -> None:
    world.orders.intake.seats_left = lambda _: 100
    a, a_ids = world.account("zhang_san", ("张三", ADULT_ID))
    pair = (("李四", OTHER_ID), ("王五", resident_id("11010119900101201")))
    b, b_ids = world.account("li_si_01", *pair)
    c, c_ids = world.account("zhao_liu", ("赵六", resident_id("11010119900101308")))
    first = world.orders.submit(a, request(*a_ids))
    world.clock.advance(timedelta(milliseconds=5))
    batch = [world.orders.prepare(b, request(*b_ids)), world.orders.prepare(c, request(*c_ids))]
    two, three = world.orders.intake.admit(batch)
    assert not isinstance(two, DomainError) and not isinstance(three, DomainError)
    assert first.queue_ahead == 0  # in a batch, the allocator's order: queue time, number
    assert {two.queue_ahead, three.queue_ahead} in ({1, 3}, {1, 2})
    for record in (first, two, three):
        counted = world.orders_store.queue_ahead(record.number)
        assert counted is not None and counted[0] == record.queue_ahead
    stored = world.orders_store.get(three.number)
    assert stored is not None and stored.queue_ahead is None  # not stored: counted on reads
