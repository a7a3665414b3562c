"""Wake the requests waiting on an order when it changes.

A long-poll (``GET /orders/{n}?wait=``) registers before it reads the order, then sleeps until
it is woken or its poll interval passes. This process's allocator wakes it with the changed
order itself (``notify``: no read needed). A change made by another process (another worker,
another allocator) is seen through the run's inventory, which every decision writes: the
server follows the store's change feed and wakes the waiters of the runs that moved
(``notify_runs``), who then read their order again. ``notify*`` are called from any thread;
waiters live on event loops.

A request that submits and waits at once learns its order's number only when the intake has
admitted it, and the allocator may decide it before the request registers: the last
``remember`` orders this process changed are kept (``recent``) so it needs no read either.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from open12306.sales.ports import OrderRecord
from open12306.shared.run_key import RunKey

Waiter = asyncio.Future[OrderRecord | None]
K = TypeVar("K")


class OrderWatch:
    """Order numbers and runs → the futures of the requests waiting on them."""

    def __init__(self, remember: int = 8192) -> None:
        self._by_number: dict[str, list[Waiter]] = {}
        self._recent: OrderedDict[str, OrderRecord] = OrderedDict()
        self._remember = remember
        self._by_run: dict[RunKey, list[Waiter]] = {}
        self._runs_of: dict[int, list[RunKey]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def watching(self, number: str, run: RunKey | None = None) -> Iterator[Waiter]:
        """A future completed when ``number`` (or its ``run``) next changes: with the
        changed order when this process changed it, else with None (read it again). The run
        may be named later, once the order was read (``follow``)."""
        future: Waiter = asyncio.get_running_loop().create_future()
        runs: list[RunKey] = []
        with self._lock:
            self._by_number.setdefault(number, []).append(future)
            self._runs_of[id(future)] = runs
        if run is not None:
            self.follow(future, run)
        try:
            yield future
        finally:
            with self._lock:
                _forget(self._by_number, number, future)
                for key in self._runs_of.pop(id(future), ()):
                    _forget(self._by_run, key, future)

    def follow(self, future: Waiter, run: RunKey) -> None:
        """Wake ``future`` (registered by ``watching``) also when ``run`` changes elsewhere."""
        with self._lock:
            self._by_run.setdefault(run, []).append(future)
            self._runs_of[id(future)].append(run)

    def notify(self, records: Iterable[OrderRecord]) -> None:
        """These orders changed (and are as given): wake whoever waits on them."""
        with self._lock:
            woken: list[tuple[Waiter, OrderRecord]] = []
            for record in records:
                self._recent[record.number] = record
                self._recent.move_to_end(record.number)
                woken.extend((f, record) for f in self._by_number.pop(record.number, ()))
            while len(self._recent) > self._remember:
                self._recent.popitem(last=False)
        for future, record in woken:
            future.get_loop().call_soon_threadsafe(_complete, future, record)

    def recent(self, number: str) -> OrderRecord | None:
        """The order as this process last changed it, if that was among the last few."""
        with self._lock:
            return self._recent.get(number)

    def notify_runs(self, runs: Iterable[RunKey]) -> None:
        """These runs changed elsewhere: their waiters should read their orders again."""
        with self._lock:
            if not self._by_run:
                return
            woken = [f for run in runs for f in self._by_run.pop(run, ())]
        for future in woken:
            future.get_loop().call_soon_threadsafe(_complete, future, None)

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._by_number.values())


def _forget(table: dict[K, list[Waiter]], key: K, future: Waiter) -> None:
    waiters = table.get(key)
    if waiters is None:
        return
    if future in waiters:
        waiters.remove(future)
    if not waiters:
        del table[key]


def _complete(future: Waiter, record: OrderRecord | None) -> None:
    if not future.done():
        future.set_result(record)
