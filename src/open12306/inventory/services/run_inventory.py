"""Selling and releasing seats of a run: load, change in memory, write back in one step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from open12306.inventory.domain import Allocation, Request, RunInventory
from open12306.inventory.ports import InventoryReaders, InventoryStore, StoredState
from open12306.shared.run_key import RunKey

T = TypeVar("T")


class ConflictRetriesExhausted(Exception):
    """The run kept changing under us; the caller may retry later."""


class InventoryService:
    """Applies batches of changes to one run's inventory with optimistic concurrency."""

    def __init__(
        self,
        store: InventoryStore,
        read_model: InventoryReaders,
        conflict: type[Exception],
        retries: int = 20,
    ) -> None:
        self.store = store
        self.read_model = read_model
        self.conflict = conflict
        self.retries = retries

    def change(self, key: RunKey, work: Callable[[RunInventory], T]) -> T:
        """Run ``work`` on a fresh copy of the run's inventory and store the result.

        ``work`` may raise (e.g. SoldOut): nothing is then written. On a concurrent write the
        whole step is retried on the newer state.
        """
        for _ in range(self.retries):
            stored = self.store.load(key)
            if stored is None:
                inventory = self.read_model.catalog.empty_inventory(key[0])
                version = 0
            else:
                inventory = self.read_model.catalog.decode(key[0], stored.state)
                version = stored.version
            result = work(inventory)
            try:
                saved = self.store.save(key, inventory.encode(), version)
            except self.conflict:
                continue
            self.read_model.apply(saved, inventory)
            return result
        raise ConflictRetriesExhausted(f"{key[0]} {key[1]}: too many concurrent writers")

    def sell(
        self, key: RunKey, request: Request, minutes_to_departure: int | None = None
    ) -> Allocation:
        return self.change(key, lambda inventory: inventory.allocate(request, minutes_to_departure))

    def sell_many(
        self, key: RunKey, requests: Sequence[Request], minutes_to_departure: int | None = None
    ) -> list[Allocation | None]:
        """Allocate a batch in one write (group commit); a sold-out request yields None."""
        return self.change(
            key, lambda inventory: _allocate_each(inventory, requests, minutes_to_departure)
        )

    def release(self, key: RunKey, allocation: Allocation) -> None:
        self.change(key, lambda inventory: inventory.release(allocation))

    def stored(self, key: RunKey) -> StoredState | None:
        return self.store.load(key)


def _allocate_each(
    inventory: RunInventory, requests: Sequence[Request], minutes_to_departure: int | None = None
) -> list[Allocation | None]:
    from open12306.inventory.domain import SoldOut

    results: list[Allocation | None] = []
    for request in requests:
        try:
            results.append(inventory.allocate(request, minutes_to_departure))
        except SoldOut:
            results.append(None)
    return results
