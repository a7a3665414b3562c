"""The allocator in a process of its own: `open12306 allocator`.

Servers started with ``OPEN12306_ALLOCATOR=none`` admit submissions (``OrderIntake``) and answer;
this process decides the queued orders (``Allocator.run_once``: drain many runs per transaction,
expire overdue holds), looking for them every ``interval`` seconds. Several may run at once on
PostgreSQL: each claims runs no other holds. Waiting requests in the servers learn the outcome
through the store's change feed. (``OPEN12306_ALLOCATOR=process`` is the order desk instead:
see ``order_desk``.)
"""

from __future__ import annotations

import logging
from typing import Protocol

from open12306.config import Settings
from open12306.sales.services.allocator import WARM_PAUSE

log = logging.getLogger("open12306.allocator")


class Event(Protocol):
    """A threading or multiprocessing event."""

    def set(self) -> None: ...

    def clear(self) -> None: ...

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def run_allocator(settings: Settings, wake: Event, stop: Event, interval: float = 0.05) -> None:
    """Allocate until ``stop`` is set: after every ``wake``, and every ``interval`` s."""
    from open12306.bootstrap import build

    container = build(settings, materialise=False)
    allocator = container.allocator
    assert allocator is not None
    allocator.catalog.warm()
    warming = False  # an idle pass decoded runs ahead of need: go on after a short pause
    while not stop.is_set():
        wake.wait(WARM_PAUSE if warming else interval)
        wake.clear()
        warming = False
        try:
            if not allocator.run_once() and not wake.is_set():
                warming = allocator.warm() > 0
        except Exception:
            log.exception("allocator pass failed")
    container.store.engine.dispose()
