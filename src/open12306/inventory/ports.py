"""Ports of the inventory: where run inventories are stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
