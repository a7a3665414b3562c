"""Alembic environment: the URL comes from the config set by open12306.database.migrate."""

from __future__ import annotations

from alembic import context

from open12306.database.tables import metadata
from open12306.shared.db.engine import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
