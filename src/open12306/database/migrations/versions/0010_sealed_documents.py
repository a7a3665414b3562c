"""sealed document numbers: passengers.id_number and the orders' bodies hold them encrypted

Revision ID: 0010
Revises: 0009

Rows written before this revision hold document numbers in clear: ``passengers.id_number``
and ``"doc"`` in each passenger of ``orders.body``. They are sealed here with the deployment's
document cipher (``open12306 db upgrade`` passes it, see ``migrate.upgrade``), in batches by
primary key; rows already sealed are left alone, so a run stopped half-way can be started
again. Downgrading opens them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import context, op

from open12306.database.migrate import CIPHER
from open12306.shared.db.documents_at_rest import order_purpose, passenger_purpose
from open12306.shared.document_keys import SEALED_FORMAT, DocumentCipher, is_sealed

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 500
SEALED_LIKE = SEALED_FORMAT + ".%"
PLAIN_BODY_LIKE = '%"doc":%'  # a quote inside a JSON string is escaped, so only a key matches
SEALED_BODY_LIKE = '%"docs":%'

passengers = sa.table("passengers", sa.column("id", sa.String), sa.column("id_number", sa.String))
orders = sa.table("orders", sa.column("number", sa.String), sa.column("body", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("passengers", schema=None) as batch_op:
        batch_op.alter_column(
            "id_number",
            existing_type=sa.String(length=32),
            type_=sa.String(length=128),
            existing_nullable=False,
        )
    bind = op.get_bind()
    _overwrite_freed_space(bind)
    _rewrite_passengers(bind, sa.not_(passengers.c.id_number.like(SEALED_LIKE)), _seal_number)
    _rewrite_orders(bind, orders.c.body.like(PLAIN_BODY_LIKE), _seal_body)


def downgrade() -> None:
    bind = op.get_bind()
    _rewrite_passengers(bind, passengers.c.id_number.like(SEALED_LIKE), _open_number)
    _rewrite_orders(bind, orders.c.body.like(SEALED_BODY_LIKE), _open_body)
    with op.batch_alter_table("passengers", schema=None) as batch_op:
        batch_op.alter_column(
            "id_number",
            existing_type=sa.String(length=128),
            type_=sa.String(length=32),
            existing_nullable=False,
        )


def _cipher() -> DocumentCipher:
    cipher = context.config.attributes.get(CIPHER)
    if not isinstance(cipher, DocumentCipher):
        raise RuntimeError(
            "stored document numbers need the deployment's document cipher: "
            "run `open12306 db upgrade` (it reads OPEN12306_DOCUMENT_ENC_KEY_FILE)"
        )
    return cipher


def _overwrite_freed_space(bind: sa.Connection) -> None:
    """SQLite: freed cells are zeroed, so the clear numbers do not linger in the file."""
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")


def _batches(
    bind: sa.Connection, key: sa.ColumnElement[Any], value: sa.ColumnElement[Any], where: Any
) -> Iterator[list[tuple[str, str]]]:
    """(key, value) of the rows matching ``where``, by key, ``BATCH`` at a time."""
    last = ""
    while True:
        query = sa.select(key, value).where(key > last, where).order_by(key).limit(BATCH)
        rows = [(str(k), str(v)) for k, v in bind.execute(query)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _rewrite_passengers(
    bind: sa.Connection, where: Any, change: Callable[[str, str, DocumentCipher], str]
) -> None:
    statement = (
        sa.update(passengers)
        .where(passengers.c.id == sa.bindparam("k"))
        .values(id_number=sa.bindparam("v"))
    )
    for rows in _batches(bind, passengers.c.id, passengers.c.id_number, where):
        cipher = _cipher()
        bind.execute(statement, [{"k": k, "v": change(k, v, cipher)} for k, v in rows])


def _rewrite_orders(
    bind: sa.Connection, where: Any, change: Callable[[str, str, DocumentCipher], str | None]
) -> None:
    statement = (
        sa.update(orders).where(orders.c.number == sa.bindparam("k")).values(body=sa.bindparam("v"))
    )
    for rows in _batches(bind, orders.c.number, orders.c.body, where):
        cipher = _cipher()
        changed = [(k, change(k, v, cipher)) for k, v in rows]
        values = [{"k": k, "v": v} for k, v in changed if v is not None]
        if values:
            bind.execute(statement, values)


def _seal_number(passenger_id: str, number: str, cipher: DocumentCipher) -> str:
    return cipher.seal(number, passenger_purpose(passenger_id))


def _open_number(passenger_id: str, sealed: str, cipher: DocumentCipher) -> str:
    return cipher.open(sealed, passenger_purpose(passenger_id))


def _seal_body(number: str, text: str, cipher: DocumentCipher) -> str | None:
    body = msgspec.json.decode(text)
    people = body["passengers"]
    if "docs" in body or not all("doc" in p for p in people):
        return None
    numbers = [p.pop("doc") for p in people]
    body["docs"] = cipher.seal(msgspec.json.encode(numbers).decode(), order_purpose(number))
    return msgspec.json.encode(body).decode()


def _open_body(number: str, text: str, cipher: DocumentCipher) -> str | None:
    body = msgspec.json.decode(text)
    sealed = body.get("docs")
    if not isinstance(sealed, str) or not is_sealed(sealed):
        return None
    numbers = msgspec.json.decode(cipher.open(sealed, order_purpose(number)))
    del body["docs"]
    for person, doc in zip(body["passengers"], numbers, strict=True):
        person["doc"] = doc
    return msgspec.json.encode(body).decode()
