"""The search read model: runs on sale and their remaining-seat counts, kept in process.

Writes made in this process are applied at once (``apply``); writes made by other processes
are picked up from the store's change feed at most ``refresh_interval`` seconds later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

from open12306.catalog.services.catalog import Catalog
from open12306.inventory.domain import RunInventory
from open12306.inventory.domain.counts import RunCounts, SeatCounts
from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.ports import InventoryStore, StoredState
from open12306.shared.run_key import RunKey


class ReadModel:
    """Runs and per-run inventories for search; ``generation`` moves on every change."""

    def __init__(
        self,
        catalog: Catalog,
        store: InventoryStore,
        runs: set[RunKey],
        *,
        refresh_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.runs = runs
        self.refresh_interval = refresh_interval
        self._monotonic = monotonic
        self._inventories: dict[RunKey, tuple[int, RunInventory | bytes]] = {}
        self._counts: dict[RunKey, tuple[int, RunCounts]] = {}
        self._seq = 0
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self.generation = 0

    def has_run(self, code: str, day: date) -> bool:
        return (code, day) in self.runs

    def inventory(self, key: RunKey) -> RunInventory:
        """The run's current inventory (a shared pristine one when nothing was ever sold)."""
        held = self._inventories.get(key)
        if held is None:
            return self.catalog.pristine(key[0])
        if isinstance(held[1], RunInventory):
            return held[1]
        with self._lock:
            version, state = self._inventories[key]
            if isinstance(state, RunInventory):
                return state
            decoded = self.catalog.decode(key[0], state)
            self._inventories[key] = (version, decoded)
            return decoded

    def counts(self, key: RunKey) -> SeatCounts:
        """What search and run views count from: the run's current free places (a decoded
        inventory when one is held, else counts read from the stored bytes, kept per version)."""
        held = self._inventories.get(key)
        if held is None:
            return self.catalog.pristine(key[0])
        version, state = held
        if isinstance(state, RunInventory):
            return state
        counted = self._counts.get(key)
        if counted is not None and counted[0] == version:
            return counted[1]
        counts = self.catalog.counts(key[0], state)
        self._counts[key] = (version, counts)
        return counts

    def held_state(self, key: RunKey) -> tuple[int, RunInventory | bytes] | None:
        """The run's version and what is held of it (decoded or not); None: never sold. A
        decoded inventory is the read model's own: copy it before changing it."""
        return self._inventories.get(key)

    def version(self, key: RunKey) -> int:
        held = self._inventories.get(key)
        return 0 if held is None else held[0]

    def remaining(
        self,
        key: RunKey,
        seat_class: SeatClass,
        i: int,
        j: int,
        minutes_to_departure: int | None = None,
    ) -> int:
        return self.counts(key).remaining(seat_class, i, j, minutes_to_departure)

    def apply(self, stored: StoredState, inventory: RunInventory | None = None) -> None:
        """Take a newer stored state of one run (older or equal versions are ignored).

        The bytes are decoded when the run is next read, not now: a run written many times
        between two searches is decoded once. A writer that still holds the inventory it just
        stored may hand it over instead (and must not change it afterwards)."""
        with self._lock:
            held = self._inventories.get(stored.key)
            if held is not None and held[0] >= stored.version:
                return
            self._inventories[stored.key] = (
                stored.version,
                stored.state if inventory is None else inventory,
            )
            self.generation += 1

    def pull(self) -> list[RunKey]:
        """Take the changes other processes wrote since the last look; the runs that moved.

        The feed position moves only here, never on this process's own writes: those may be
        numbered after another process's change this one has not read yet."""
        moved: list[RunKey] = []
        for stored in self.store.changes_since(self._seq):
            before = self.version(stored.key)
            self.apply(stored)
            self._seq = max(self._seq, stored.change_seq)
            if self.version(stored.key) != before:
                moved.append(stored.key)
        self._checked = self._monotonic()
        return moved

    def refresh(self, *, force: bool = False) -> bool:
        """Pull changes written by other processes; True when anything changed."""
        if not force and self._monotonic() - self._checked < self.refresh_interval:
            return False
        return bool(self.pull())
