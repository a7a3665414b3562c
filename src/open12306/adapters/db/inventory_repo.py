"""Encoded run inventories with optimistic versioning and a change sequence for readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select, update

from open12306.adapters.db.schema import counters, run_inventory

RunKey = tuple[str, date]


class VersionConflict(Exception):
    """Another writer changed the run's inventory since it was read."""


@dataclass(frozen=True, slots=True)
class StoredInventory:
    """One run's encoded inventory as stored."""

    key: RunKey
    state: bytes
    version: int
    change_seq: int


def load(conn: Connection, key: RunKey, *, for_update: bool = False) -> StoredInventory | None:
    query = select(
        run_inventory.c.state, run_inventory.c.version, run_inventory.c.change_seq
    ).where(run_inventory.c.train_code == key[0], run_inventory.c.service_date == key[1])
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    return StoredInventory(key, bytes(row[0]), row[1], row[2])


def _next_seq(conn: Connection) -> int:
    result = conn.execute(
        update(counters)
        .where(counters.c.name == "inventory_seq")
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    )
    return int(result.scalar_one())


def save(conn: Connection, key: RunKey, state: bytes, expected_version: int) -> StoredInventory:
    """Write a run's state if its version is still ``expected_version`` (0 = never stored)."""
    seq = _next_seq(conn)
    version = expected_version + 1
    if expected_version == 0:
        exists = load(conn, key)
        if exists is not None:
            raise VersionConflict(f"{key[0]} {key[1]}: inventory already stored")
        conn.execute(
            run_inventory.insert().values(
                train_code=key[0],
                service_date=key[1],
                state=state,
                version=version,
                change_seq=seq,
            )
        )
    else:
        result = conn.execute(
            update(run_inventory)
            .where(
                run_inventory.c.train_code == key[0],
                run_inventory.c.service_date == key[1],
                run_inventory.c.version == expected_version,
            )
            .values(state=state, version=version, change_seq=seq)
        )
        if result.rowcount != 1:
            raise VersionConflict(f"{key[0]} {key[1]}: inventory changed concurrently")
    return StoredInventory(key, state, version, seq)


def changes_since(conn: Connection, seq: int) -> list[StoredInventory]:
    """Inventories written after change sequence ``seq``, oldest first."""
    result = conn.execute(
        select(
            run_inventory.c.train_code,
            run_inventory.c.service_date,
            run_inventory.c.state,
            run_inventory.c.version,
            run_inventory.c.change_seq,
        )
        .where(run_inventory.c.change_seq > seq)
        .order_by(run_inventory.c.change_seq)
    )
    return [StoredInventory((c, d), bytes(s), v, q) for c, d, s, v, q in result]


def current_seq(conn: Connection) -> int:
    return int(
        conn.execute(
            select(counters.c.value).where(counters.c.name == "inventory_seq")
        ).scalar_one()
    )
