"""Encoded run inventories with optimistic versioning and a change sequence for readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from open12306.inventory.adapters.tables import run_inventory
from open12306.shared.db.metadata import counters
from open12306.shared.run_key import RunKey


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


def load_many(conn: Connection, keys: Sequence[RunKey]) -> dict[RunKey, StoredInventory]:
    """The stored states of the runs that have one."""
    found: dict[RunKey, StoredInventory] = {}
    if not keys:
        return found
    wanted = set(keys)
    query = select(
        run_inventory.c.train_code,
        run_inventory.c.service_date,
        run_inventory.c.state,
        run_inventory.c.version,
        run_inventory.c.change_seq,
    ).where(
        run_inventory.c.train_code.in_(sorted({c for c, _ in keys})),
        run_inventory.c.service_date.in_(sorted({d for _, d in keys})),
    )
    for code, day, state, version, seq in conn.execute(query):
        key = (str(code), day)
        if key in wanted:
            found[key] = StoredInventory(key, bytes(state), version, seq)
    return found


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


def save_many(
    conn: Connection, states: Sequence[tuple[RunKey, bytes, int]]
) -> list[StoredInventory]:
    """``save`` for many runs in a few statements: each written only if still at its
    expected version, else VersionConflict (and the caller's transaction must roll back)."""
    if not conn.dialect.supports_sane_multi_rowcount:
        return [save(conn, key, state, version) for key, state, version in states]
    result = conn.execute(
        update(counters)
        .where(counters.c.name == "inventory_seq")
        .values(value=counters.c.value + len(states))
        .returning(counters.c.value)
    )
    first = int(result.scalar_one()) - len(states) + 1
    saved = [
        StoredInventory(key, state, version + 1, first + n)
        for n, (key, state, version) in enumerate(sorted(states, key=lambda s: s[0]))
    ]
    fresh = [s for s in saved if s.version == 1]
    known = [s for s in saved if s.version > 1]
    if fresh:
        rows = [_row(s) for s in fresh]
        try:
            with conn.begin_nested():
                conn.execute(insert(run_inventory), rows)
        except IntegrityError:
            raise VersionConflict("an inventory of the batch was stored concurrently") from None
    if known:
        statement = (
            update(run_inventory)
            .where(
                run_inventory.c.train_code == bindparam("k_code"),
                run_inventory.c.service_date == bindparam("k_day"),
                run_inventory.c.version == bindparam("k_expected"),
            )
            .values(
                state=bindparam("k_state"),
                version=bindparam("k_version"),
                change_seq=bindparam("k_seq"),
            )
        )
        rows = [
            {
                "k_code": s.key[0],
                "k_day": s.key[1],
                "k_expected": s.version - 1,
                "k_state": s.state,
                "k_version": s.version,
                "k_seq": s.change_seq,
            }
            for s in known
        ]
        if conn.execute(statement, rows).rowcount != len(known):
            raise VersionConflict("an inventory of the batch changed concurrently")
    return saved


def _row(s: StoredInventory) -> dict[str, object]:
    return {
        "train_code": s.key[0],
        "service_date": s.key[1],
        "state": s.state,
        "version": s.version,
        "change_seq": s.change_seq,
    }


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
