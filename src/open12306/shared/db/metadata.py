"""The one SQLAlchemy ``MetaData`` every context's tables are declared on, and named counters.

Each context declares its own tables on ``metadata``; ``open12306.database.tables`` imports them
all, which is what migrations and ``create_all`` need.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table

metadata = MetaData()

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
