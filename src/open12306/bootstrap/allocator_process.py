"""The allocator in a process of its own: `open12306 allocator`, or a child of the server.

The server admits submissions (``OrderIntake``) and answers; this process decides the queued
orders (``Allocator.run_once``: drain many runs per transaction, expire overdue holds). Being a
separate interpreter it runs on a core of its own instead of sharing the server's. Several may
run at once on PostgreSQL: each claims runs no other holds. Waiting requests in the server learn
the outcome through the store's change feed.

As the server's child (``OPEN12306_ALLOCATOR=process``) it is woken through a shared event right
after each admitted batch; run alone it looks for queued orders every ``interval`` seconds.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from dataclasses import dataclass
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


def _child(settings: Settings, wake: Event, stop: Event) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops it through ``stop``
    run_allocator(settings, wake, stop)


@dataclass
class AllocatorChild:
    """A child process running the allocator for this server process."""

    process: multiprocessing.process.BaseProcess
    wake: Event
    stop_event: Event

    @classmethod
    def start(cls, settings: Settings) -> AllocatorChild:
        context = multiprocessing.get_context("spawn")
        wake, stop = context.Event(), context.Event()
        process = context.Process(
            target=_child, args=(settings, wake, stop), name="open12306-allocator", daemon=True
        )
        process.start()
        return cls(process, wake, stop)

    def nudge(self) -> None:
        self.wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.wake.set()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout)
