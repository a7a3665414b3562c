"""The intake's per-batch reads find a few accounts' orders through the account index on SQLite,
however many unpaid or cancelled orders the store holds (SQLite has no statistics here, and
took the state index for ``state IN (…)`` and read every unpaid order)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, insert, select

from open12306.sales.adapters.orders_repo import cancelled_since, unpaid_counts
from open12306.sales.adapters.tables import orders

NOW = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
BATCH = [f"acct{i:05d}" for i in range(1, 21)]  # the accounts of one intake batch


def _store() -> Engine:
    engine = create_engine("sqlite://")
    orders.metadata.create_all(engine, tables=[orders])
    states = ("held", "queued", "paid", "cancelled")
    rows = [
        {
            "number": f"E{i:09d}",
            "account_id": f"acct{i % 3000:05d}",
            "train_code": "G1",
            "service_date": dt.date(2026, 12, 5),
            "from_stop": 0,
            "to_stop": 3,
            "from_station": "BJP",
            "to_station": "SHH",
            "seat_class": "second",
            "state": states[i % 4],
            "reason": None,
            "deadline": NOW,
            "amount_fen": 0,
            "idempotency_key": None,
            "created_at": NOW,
            "updated_at": NOW,
            "version": 1,
            "body": "{}",
        }
        for i in range(6000)
    ]
    with engine.begin() as conn:
        conn.execute(insert(orders), rows)
    return engine


def test_unpaid_and_cancelled_counts_read_only_the_named_accounts_orders() -> None:
    engine = _store()
    plans: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def explain(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if not statement.startswith("EXPLAIN"):
            found = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            plans.append(" ".join(str(row[-1]) for row in found))

    with engine.connect() as conn:
        unpaid = unpaid_counts(conn, BATCH)
        cancelled = cancelled_since(conn, BATCH, NOW - dt.timedelta(hours=1))
    assert unpaid["acct00001"] == 2 and "acct00002" not in unpaid  # queued twice; paid twice
    assert cancelled["acct00003"] == 2
    assert len(plans) == 2
    assert all("USING INDEX ix_orders_account" in plan for plan in plans), plans


def test_control_the_plain_state_condition_takes_the_state_index() -> None:
    engine = _store()
    query = (
        select(orders.c.account_id, func.count())
        .where(orders.c.account_id.in_(BATCH), orders.c.state.in_(["queued", "held"]))
        .group_by(orders.c.account_id)
    )
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_orders_state_deadline" in plan
