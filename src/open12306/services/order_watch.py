"""Wake the requests waiting on an order when this process changes it.

A long-poll (``GET /orders/{n}?wait=``) registers before it reads the order, then sleeps
until ``notify`` names the order or its poll interval passes (changes made by other processes
are seen by reading again). ``notify`` is called from any thread; waiters live on event loops.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class OrderWatch:
    """Order numbers → the futures of the requests waiting on them."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def watching(self, number: str) -> Iterator[asyncio.Future[None]]:
        """A future completed when ``number`` is next notified (register, then read)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.setdefault(number, []).append(future)
        try:
            yield future
        finally:
            with self._lock:
                waiters = self._waiting.get(number, [])
                if future in waiters:
                    waiters.remove(future)
                if not waiters:
                    self._waiting.pop(number, None)

    def notify(self, numbers: Iterable[str]) -> None:
        """The named orders changed: wake whoever waits on them."""
        with self._lock:
            if not self._waiting:
                return
            woken = [f for n in numbers for f in self._waiting.pop(n, ())]
        for future in woken:
            future.get_loop().call_soon_threadsafe(_complete, future)

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._waiting.values())


def _complete(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
