"""Migration 0010 on SQLite and PostgreSQL: a database at 0009 with document numbers in clear
(a saved passenger, an order body as 0009 wrote it) is sealed by `open12306 db upgrade` with
the deployment's key file, the app reads it, a second run changes nothing, and a downgrade
gives the clear rows back."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.tables import accounts, passengers
from open12306.cli.main import app as cli_app
from open12306.database.migrate import alembic_config, downgrade, upgrade
from open12306.sales.adapters.orders_codec import PlainDocuments
from open12306.sales.adapters.orders_repo import SqlOrdersStore
from open12306.sales.adapters.tables import orders
from open12306.shared.db.documents_at_rest import attach_document_cipher
from open12306.shared.db.engine import make_engine
from open12306.shared.document_keys import is_sealed, load_or_create_cipher
from tests.conftest import TEST_CIPHER, fresh_postgres
from tests.integration.test_documents_at_rest import raw_database

ADULT = "11010519491231002X"
PASSPORT = "E98765432"
ORDER = "E202602100000007"
ACCOUNT = "a" * 32
TRIP = {
    "train": "G1",
    "date": "2026-02-12",
    "from": "VNP",
    "to": "AOH",
    "i": 0,
    "j": 1,
    "class": "second",
    "departs": "2026-02-12T09:00:00+08:00",
    "arrives": "2026-02-12T13:48:00+08:00",
}
# An order body exactly as the codec wrote it up to revision 0009: numbers in clear under "doc".
BODY_CLEAR = {
    "account": ACCOUNT,
    "trip": TRIP,
    "passengers": [
        {"name": "张三", "kind": "resident_id", "doc": ADULT, "type": "adult", "infant": False},
        {"name": "John Smith", "kind": "passport", "doc": PASSPORT, "type": "adult",
         "infant": False},
    ],
    "queued_at": "2026-02-10T09:00:00+08:00",
    "state": "queued",
    "seats": [],
    "deadline": None,
    "failure": None,
    "paid_at": None,
    "closed_at": None,
    "tickets": [],
    "passenger_ids": ["p1", "p2"],
    "person_keys": ["k" * 64, "j" * 64],
    "letters": [],
    "berths": [],
    "together": False,
    "allow_standing": False,
    "standing_pool": None,
}  # fmt: skip
NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_0009(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at revision 0009 holding a passenger and an order with numbers in clear."""
    url = f"sqlite:///{tmp_path}/old.db" if request.param == "sqlite" else fresh_postgres()
    upgrade(url, "0009")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(accounts).values(
                id=ACCOUNT, username="zhang_san", password_hash="x", created_at=NOW, status="active"
            )
        )
        people = [
            _passenger("p1", "张三", "resident_id", ADULT),
            _passenger("p2", "John Smith", "passport", PASSPORT),
        ]
        conn.execute(insert(passengers), people)
        conn.execute(insert(orders).values(_order_row(json.dumps(BODY_CLEAR, ensure_ascii=False))))
    engine.dispose()
    yield url


def _passenger(pid: str, name: str, kind: str, number: str) -> dict[str, object]:
    return {
        "id": pid,
        "account_id": ACCOUNT,
        "name": name,
        "id_type": kind,
        "id_number": number,
        "id_key": pid * 32,
        "birth_date": date(1949, 12, 31),
        "sex": "male",
        "student": False,
        "disabled_military": False,
        "created_at": NOW,
    }


def _order_row(body: str) -> dict[str, object]:
    return {
        "number": ORDER,
        "account_id": ACCOUNT,
        "train_code": "G1",
        "service_date": date(2026, 2, 12),
        "from_stop": 0,
        "to_stop": 1,
        "from_station": "VNP",
        "to_station": "AOH",
        "seat_class": "second",
        "state": "queued",
        "amount_fen": 0,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
        "body": body,
    }


def _stored(engine: Engine) -> tuple[list[str], str]:
    with engine.connect() as conn:
        numbers = list(
            conn.execute(select(passengers.c.id_number).order_by(passengers.c.id)).scalars()
        )
        body = conn.execute(select(orders.c.body)).scalar_one()
    return [str(n) for n in numbers], str(body)


def _cli_upgrade(url: str, folder: Path) -> None:
    env = {
        "OPEN12306_DATABASE_URL": url,
        "OPEN12306_DOCUMENT_KEY_FILE": str(folder / "document-key"),
    }
    result = CliRunner().invoke(cli_app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output


def test_db_upgrade_seals_the_clear_rows_and_the_app_reads_them(
    at_0009: str, tmp_path: Path
) -> None:
    _cli_upgrade(at_0009, tmp_path)
    key_file = tmp_path / "document-enc-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    engine = make_engine(at_0009)
    attach_document_cipher(engine, load_or_create_cipher(key_file))

    numbers, body = _stored(engine)
    assert all(is_sealed(n) for n in numbers)
    dump = raw_database(engine)
    assert "张三".encode() in dump and ORDER.encode() in dump
    assert ADULT.encode() not in dump and PASSPORT.encode() not in dump
    assert '"doc":' not in body and is_sealed(json.loads(body)["docs"])

    saved = SqlAccountsStore(engine).passengers(ACCOUNT)
    assert [(p.name, p.document.number) for p in saved] == [
        ("张三", ADULT),
        ("John Smith", PASSPORT),
    ]
    record = SqlOrdersStore(engine).get(ORDER)
    assert record is not None
    assert [p.document.number for p in record.order.passengers] == [ADULT, PASSPORT]
    assert record.order.passengers[1].name == "John Smith" and record.person_keys[0] == "k" * 64


def test_a_second_run_leaves_sealed_rows_alone_and_a_downgrade_opens_them(
    at_0009: str, tmp_path: Path
) -> None:
    cipher = load_or_create_cipher(tmp_path / "document-enc-key")
    upgrade(at_0009, cipher=cipher)
    engine = make_engine(at_0009)
    sealed = _stored(engine)
    # As after a run that sealed the rows but did not record the revision: nothing changes.
    command.stamp(alembic_config(at_0009), "0009")
    upgrade(at_0009, cipher=cipher)
    assert _stored(engine) == sealed

    downgrade(at_0009, "0009", cipher=cipher)
    numbers, body = _stored(engine)
    assert numbers == [ADULT, PASSPORT] and json.loads(body) == BODY_CLEAR


def test_without_the_key_clear_rows_stop_the_upgrade_and_stay_as_they_were(
    at_0009: str,
) -> None:
    with pytest.raises(RuntimeError, match="document cipher"):
        upgrade(at_0009)
    engine = make_engine(at_0009)
    numbers, body = _stored(engine)
    assert numbers == [ADULT, PASSPORT] and json.loads(body) == BODY_CLEAR
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0009"


def test_db_upgrade_names_a_bad_key_file_and_touches_nothing(at_0009: str, tmp_path: Path) -> None:
    (tmp_path / "document-enc-key").write_text("not a key\n")
    env = {
        "OPEN12306_DATABASE_URL": at_0009,
        "OPEN12306_DOCUMENT_KEY_FILE": str(tmp_path / "document-key"),
    }
    result = CliRunner().invoke(cli_app, ["db", "upgrade"], env=env)
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and "document-enc-key" in result.output
    assert "Traceback" not in result.output
    numbers, _ = _stored(make_engine(at_0009))
    assert numbers == [ADULT, PASSPORT]


def test_before_the_upgrade_the_app_refuses_clear_orders_by_name(at_0009: str) -> None:
    engine = make_engine(at_0009)
    attach_document_cipher(engine, TEST_CIPHER)
    with pytest.raises(PlainDocuments, match="run the migrations"):
        SqlOrdersStore(engine).get(ORDER)
