"""Document numbers at rest, on SQLite and PostgreSQL: after a passenger is saved, an order is
paid and a ticket is sold on board, no number is anywhere in the database in clear (the raw
SQLite files, every PostgreSQL row), and the app still reads every number back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.engine import make_url

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.tables import passengers
from open12306.accounts.domain.identity import Document, DocumentKind, Sex
from open12306.accounts.domain.passengers import PassengerDetails
from open12306.sales.adapters.gate_tickets_repo import SqlGateTickets
from open12306.sales.adapters.tables import orders
from open12306.shared.db.documents_at_rest import NoDocumentCipher
from open12306.shared.document_keys import SealedValueError
from tests.integration.orders_support import DAY, OTHER_ID
from tests.integration.test_onboard_conductor import CONDUCTOR, Onboard, board, build_onboard, paid
from tests.integration.test_onboard_sales import WALK_UP_ID, payer, request

SAVED_NAME = "张三丰"
PASSPORT = "E98765432"


@pytest.fixture
def onboard(db_url: str) -> Onboard:
    return build_onboard(db_url)


def raw_database(engine: Engine) -> bytes:
    """Everything the database holds: the SQLite files' bytes (with the write-ahead log), or
    every PostgreSQL row of every table as text."""
    if engine.dialect.name == "sqlite":
        database = Path(make_url(str(engine.url)).database or "")
        files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
        return b"".join(f.read_bytes() for f in files if f.exists())
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        rows = [
            str(value)
            for table in tables
            for (value,) in conn.execute(text(f'SELECT CAST(t AS text) FROM "{table}" AS t'))
        ]
    return "\n".join(rows).encode()


def test_no_document_number_is_stored_in_clear(onboard: Onboard) -> None:
    world = onboard.world
    account, record = paid(world, ("zhang_san", SAVED_NAME, OTHER_ID))
    world.accounts.add_passenger(
        account,
        PassengerDetails(
            "John Smith", Document(DocumentKind.PASSPORT, PASSPORT), date(1980, 1, 1), Sex.MALE
        ),
    )
    _, token = payer(onboard)
    board(onboard, "TIP")
    sold = onboard.sales.sell(CONDUCTOR, request(token))

    dump = raw_database(world.store.engine)
    assert SAVED_NAME.encode() in dump and record.number.encode() in dump  # the scan sees rows
    for number in (OTHER_ID, PASSPORT, WALK_UP_ID):
        assert number.encode() not in dump

    saved = {p.name: p.document.number for p in world.accounts.passengers(account)}
    assert saved == {SAVED_NAME: OTHER_ID, "John Smith": PASSPORT}
    assert world.orders.get(account, record.number).order.passengers[0].document.number == (
        OTHER_ID
    )
    stored = onboard.store.get(sold.record.number)
    assert stored is not None and stored.order.passengers[0].document.number == WALK_UP_ID
    issued = SqlGateTickets(world.store.engine).orders_with_issued_tickets(DAY, DAY)
    assert {r.order.passengers[0].document.number for r in issued} == {OTHER_ID, WALK_UP_ID}


def test_a_sealed_value_moved_to_another_row_does_not_open(onboard: Onboard) -> None:
    world = onboard.world
    account, (first, second) = world.account("li_si_001", ("李四", OTHER_ID), ("王五", WALK_UP_ID))
    engine = world.store.engine
    with engine.begin() as conn:
        taken = conn.execute(
            select(passengers.c.id_number).where(passengers.c.id == first)
        ).scalar_one()
        conn.execute(update(passengers).where(passengers.c.id == second).values(id_number=taken))
    with pytest.raises(SealedValueError):
        world.accounts.store.passenger(account.id, second)


def test_an_order_body_moved_to_another_order_does_not_open(onboard: Onboard) -> None:
    world = onboard.world
    _, one = paid(world, ("zhang_san", SAVED_NAME, OTHER_ID))
    _, two = paid(world, ("li_si_001", "李四", WALK_UP_ID))
    with world.store.engine.begin() as conn:
        body = conn.execute(select(orders.c.body).where(orders.c.number == one.number))
        conn.execute(
            update(orders).where(orders.c.number == two.number).values(body=body.scalar_one())
        )
    with pytest.raises(SealedValueError):
        world.orders_store.get(two.number)


def test_a_store_without_the_cipher_refuses_numbers_and_writes_nothing(db_url: str) -> None:
    bare = SqlAccountsStore.from_url(db_url)
    world = build_onboard(db_url).world
    account, (saved,) = world.account("zhang_san", (SAVED_NAME, OTHER_ID))
    stranger = replace(world.accounts.store.passenger(account.id, saved), id="p" * 32)
    with pytest.raises(NoDocumentCipher):
        bare.add_passenger(stranger, "k" * 64)
    with pytest.raises(NoDocumentCipher):
        bare.passengers(account.id)
    assert bare.count_passengers(account.id) == 1  # accounts and counts need no cipher
