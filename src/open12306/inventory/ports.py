"""Ports of the inventory: where run inventories are stored, where they come from, and who
is told when one changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from open12306.inventory.domain import RunInventory
from open12306.shared.run_key import RunKey


class StoredState(Protocol):
    """One run's stored inventory state."""

    @property
    def key(self) -> RunKey: ...

    @property
    def state(self) -> bytes: ...

    @property
    def version(self) -> int: ...

    @property
    def change_seq(self) -> int: ...


class InventoryStore(Protocol):
    """Run inventories with optimistic versions and a change feed for read models."""

    def load(self, key: RunKey) -> StoredState | None: ...

    def save(self, key: RunKey, state: bytes, expected_version: int) -> StoredState: ...

    def changes_since(self, seq: int) -> Sequence[StoredState]: ...


class PristineInventories(Protocol):
    """Run inventories by train: never sold, or decoded from stored bytes (the catalog)."""

    def empty_inventory(self, code: str) -> RunInventory: ...

    def decode(self, code: str, state: bytes) -> RunInventory: ...


class InventoryReaders(Protocol):
    """Who reads inventories and must see every stored change (the search read model)."""

    @property
    def catalog(self) -> PristineInventories: ...

    def apply(self, stored: StoredState, inventory: RunInventory | None = None) -> None: ...
