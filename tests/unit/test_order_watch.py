"""Waiters on an order are woken from another thread: by the order, or by its run."""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from typing import Any, cast

from open12306.sales.ports import OrderRecord
from open12306.sales.services.order_watch import OrderWatch


class _Record:
    def __init__(self, number: str) -> None:
        self.number = number


def record(number: str) -> OrderRecord:
    return cast(OrderRecord, _Record(number))


RUN = ("G1", date(2026, 2, 12))


def test_a_notification_from_another_thread_wakes_only_that_order_with_it() -> None:
    watch = OrderWatch()
    changed = record("E1")

    async def scenario() -> tuple[Any, bool]:
        with watch.watching("E1") as one, watch.watching("E2") as two:
            threading.Thread(target=watch.notify, args=([changed],)).start()
            given = await asyncio.wait_for(one, 2)
            return given, two.done()

    given, other_woken = asyncio.run(scenario())
    assert given is changed and not other_woken
    assert watch.waiting == 0


def test_a_change_of_the_run_elsewhere_wakes_its_waiters_to_read_again() -> None:
    watch = OrderWatch()

    async def scenario() -> tuple[Any, bool]:
        with watch.watching("E1", RUN) as on_run, watch.watching("E2", ("G3", RUN[1])) as other:
            threading.Thread(target=watch.notify_runs, args=([RUN],)).start()
            given = await asyncio.wait_for(on_run, 2)
            return given, other.done()

    assert asyncio.run(scenario()) == (None, False)


def test_waiters_are_forgotten_when_they_leave() -> None:
    watch = OrderWatch()

    async def scenario() -> None:
        with watch.watching("E1", RUN):
            assert watch.waiting == 1

    asyncio.run(scenario())
    assert watch.waiting == 0
    watch.notify([record("E1")])  # nobody waits: nothing happens
    watch.notify_runs([RUN])


def test_a_run_named_after_registering_wakes_the_waiter_and_is_forgotten_with_it() -> None:
    watch = OrderWatch()

    async def scenario() -> Any:
        with watch.watching("E1") as waiter:
            watch.follow(waiter, RUN)
            threading.Thread(target=watch.notify_runs, args=([RUN],)).start()
            return await asyncio.wait_for(waiter, 2)

    assert asyncio.run(scenario()) is None
    assert watch.waiting == 0 and not watch._by_run and not watch._runs_of


def test_an_order_changed_before_anyone_waits_is_remembered_for_a_while() -> None:
    watch = OrderWatch(remember=2)
    first, second, third = record("E1"), record("E2"), record("E3")
    watch.notify([first])
    assert watch.recent("E1") is first
    watch.notify([second, third])
    assert watch.recent("E1") is None  # only the last two are kept
    assert watch.recent("E2") is second and watch.recent("E3") is third
    newer = record("E2")
    watch.notify([newer])
    assert watch.recent("E2") is newer
