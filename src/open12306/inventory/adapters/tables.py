"""The run inventory table: one encoded inventory per run, versioned, with a change sequence."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, Integer, LargeBinary, String, Table

from open12306.shared.db.metadata import metadata

run_inventory = Table(
    "run_inventory",
    metadata,
    Column("train_code", String(64), primary_key=True),
    Column("service_date", Date, primary_key=True),
    Column("state", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False),
    Column("change_seq", BigInteger, nullable=False),
)
Index("ix_run_inventory_change_seq", run_inventory.c.change_seq)
