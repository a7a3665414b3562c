"""Decoded run inventories kept by the writer that owns them, valid for one stored version.

Decoding a run's bytes rebuilds its seat pools (milliseconds for a long train); a writer that
changes the same runs again and again keeps what it decoded and checks only the version.
``take`` hands the inventory over (it leaves the cache), so a writer whose transaction fails
never leaves a changed, unsaved inventory behind; ``put`` gives it back with the version the
writer stored.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from open12306.inventory.domain import RunInventory
from open12306.inventory.ports import StoredState
from open12306.shared.run_key import RunKey

Decode = Callable[[RunKey, StoredState | None], RunInventory]


class InventoryCache:
    """At most ``size`` decoded inventories, least recently used dropped first (a 16-coach run
    on 22 segments takes about 190 KiB, so the default holds under 100 MiB)."""

    def __init__(self, decode: Decode, size: int = 512) -> None:
        self.decode = decode
        self.size = size
        self._held: OrderedDict[RunKey, tuple[int, RunInventory]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, key: RunKey, stored: StoredState | None) -> RunInventory:
        """The run's inventory at the stored version: the kept one when it is that version,
        else decoded from ``stored``. The caller owns it until it ``put``s it back."""
        version = 0 if stored is None else stored.version
        with self._lock:
            held = self._held.pop(key, None)
            if held is not None and held[0] == version:
                self.hits += 1
                return held[1]
            self.misses += 1
        return self.decode(key, stored)

    def put(self, key: RunKey, version: int, inventory: RunInventory) -> None:
        """Keep ``inventory`` as the run's state at ``version`` (the caller stops changing it)."""
        with self._lock:
            self._held[key] = (version, inventory)
            self._held.move_to_end(key)
            while len(self._held) > self.size:
                self._held.popitem(last=False)

    def __len__(self) -> int:
        return len(self._held)

    def holds(self, key: RunKey) -> bool:
        with self._lock:
            return key in self._held

    @property
    def full(self) -> bool:
        with self._lock:
            return len(self._held) >= self.size

    def warm(self, key: RunKey, version: int, inventory: RunInventory) -> None:
        """Keep a decoded inventory made ahead of need, unless the run is held already or the
        cache is full (warming never pushes out what a writer is using)."""
        with self._lock:
            if key in self._held or len(self._held) >= self.size:
                return
            self._held[key] = (version, inventory)
            self._held.move_to_end(key, last=False)

    def drop(self, key: RunKey) -> None:
        with self._lock:
            self._held.pop(key, None)
