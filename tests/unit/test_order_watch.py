"""Waiters on an order are woken by a notification from another thread."""

from __future__ import annotations

import asyncio
import threading

from open12306.services.order_watch import OrderWatch


def test_a_notification_from_another_thread_wakes_only_that_order() -> None:
    watch = OrderWatch()

    async def scenario() -> tuple[bool, bool]:
        with watch.watching("E1") as one, watch.watching("E2") as two:
            threading.Thread(target=watch.notify, args=(["E1"],)).start()
            await asyncio.wait_for(one, 2)
            return one.done(), two.done()

    assert asyncio.run(scenario()) == (True, False)
    assert watch.waiting == 0


def test_waiters_are_forgotten_when_they_leave() -> None:
    watch = OrderWatch()

    async def scenario() -> None:
        with watch.watching("E1"):
            assert watch.waiting == 1

    asyncio.run(scenario())
    assert watch.waiting == 0
    watch.notify(["E1"])  # nobody waits: nothing happens
