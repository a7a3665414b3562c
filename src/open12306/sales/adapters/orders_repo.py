"""Orders, their ticket rows, payments and ledger entries (SQLAlchemy Core).

``SqlOrdersStore.write`` is the unit of work of the order path: order updates (each checked
against the version it was read at), a run's inventory (checked likewise), payments and
ledger entries, all in one transaction, so a batch of holds and the seats they take are
written together or not at all (group commit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from open12306.inventory.adapters import inventory_repo
from open12306.inventory.adapters.inventory_repo import StoredInventory, VersionConflict
from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.ports import StoredState
from open12306.sales.adapters.orders_codec import decode, encode
from open12306.sales.adapters.tables import (
    ledger_entries,
    order_tickets,
    orders,
    payments,
    pending_refunds,
)
from open12306.sales.domain import OrderState, absolute_minutes, order_number
from open12306.sales.domain.ledger import Entry, EntryKind, Totals
from open12306.sales.ports import (
    DrainWork,
    DuplicateKey,
    OrderRecord,
    PaymentRecord,
    PaymentRecordState,
)
from open12306.shared.db.documents_at_rest import (
    document_cipher,
    sealed_engine,
)
from open12306.shared.db.metadata import counters
from open12306.shared.document_keys import DocumentCipher
from open12306.shared.run_key import RunKey

UNPAID = (OrderState.QUEUED.value, OrderState.HELD.value)
LIVE_TICKET_ROWS = ("pending", "issued", "used")


class OrderConflict(VersionConflict):
    """An order changed since it was read; the caller reloads and retries."""


class DuplicateOrder(DuplicateKey):
    """The account already has an order with this idempotency key."""


def next_order_number(conn: Connection) -> str:
    result = conn.execute(
        update(counters)
        .where(counters.c.name == "order_serial")
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    )
    return order_number(int(result.scalar_one()))


def _columns(conn: Connection, record: OrderRecord, now: datetime) -> dict[str, object]:
    o = record.order
    return {
        "account_id": o.account,
        "train_code": o.trip.train_code,
        "service_date": o.trip.service_date,
        "from_stop": o.trip.from_stop,
        "to_stop": o.trip.to_stop,
        "from_station": o.trip.from_station,
        "to_station": o.trip.to_station,
        "seat_class": o.trip.seat_class.value,
        "state": o.state.value,
        "reason": o.failure,
        "deadline": o.pay_deadline,
        "amount_fen": o.total_fen,
        "updated_at": now,
        "body": encode(record, document_cipher(conn)),
    }


def _ticket_rows(record: OrderRecord) -> list[dict[str, object]]:
    o = record.order
    rows: list[dict[str, object]] = []
    base = {"order_number": o.number}

    def person(p: int) -> dict[str, object]:
        return {
            "passenger_id": record.passenger_ids[p],
            "passenger_name": o.passengers[p].name,
            "person_key": record.person_keys[p],
        }

    if o.tickets:
        for t in o.tickets:
            rows.append(
                base
                | person(t.passenger)
                | {
                    "position": t.passenger + 1,
                    "generation": t.changes,
                    "ticket_number": t.number,
                    "train_code": t.trip.train_code,
                    "service_date": t.trip.service_date,
                    "departs_min": absolute_minutes(t.trip.departs_at),
                    "arrives_min": absolute_minutes(t.trip.arrives_at),
                    "coach": t.coach,
                    "seat_label": t.seat_label,
                    "seat_index": o.seats[t.passenger].seat_index if t.changes == 0 else None,
                    "fare_fen": t.fare_fen,
                    "state": t.state.value,
                }
            )
        return rows
    state = "pending" if o.state.value in UNPAID else "void"
    for p in range(len(o.passengers)):
        seat = o.seats[p] if o.seats else None
        rows.append(
            base
            | person(p)
            | {
                "position": p + 1,
                "generation": 0,
                "ticket_number": None,
                "train_code": o.trip.train_code,
                "service_date": o.trip.service_date,
                "departs_min": absolute_minutes(o.trip.departs_at),
                "arrives_min": absolute_minutes(o.trip.arrives_at),
                "coach": None if seat is None else seat.coach,
                "seat_label": None if seat is None else seat.seat_label,
                "seat_index": None if seat is None else seat.seat_index,
                "fare_fen": None if seat is None else seat.fare_fen,
                "state": state,
            }
        )
    return rows


def insert_order(conn: Connection, record: OrderRecord) -> OrderRecord:
    """Store a new order (version 1); DuplicateOrder when its idempotency key is taken."""
    now = record.order.queued_at
    values = _columns(conn, record, now) | {
        "number": record.number,
        "idempotency_key": record.idempotency_key,
        "created_at": record.queue_at or now,
        "version": 1,
    }
    # The ticket rows go in the same savepoint: on SQLite (pysqlite) a savepoint opened before
    # any write is the outermost transaction and its release commits, so rows written after it
    # would land in a second transaction, after the allocator could already see the order.
    with conn.begin_nested() as nested:
        try:
            conn.execute(insert(orders).values(values))
        except IntegrityError:
            nested.rollback()
            raise DuplicateOrder(record.idempotency_key) from None
        conn.execute(insert(order_tickets), _ticket_rows(record))
    return _with_version(record, 1)


def _with_version(record: OrderRecord, version: int) -> OrderRecord:
    return replace(record, version=version)


def update_order(conn: Connection, record: OrderRecord, now: datetime) -> OrderRecord:
    """Write a changed order if it is still at ``record.version``; OrderConflict if not."""
    result = conn.execute(
        update(orders)
        .where(orders.c.number == record.number, orders.c.version == record.version)
        .values(_columns(conn, record, now) | {"version": record.version + 1})
    )
    if result.rowcount != 1:
        raise OrderConflict(f"order {record.number} changed concurrently")
    conn.execute(delete(order_tickets).where(order_tickets.c.order_number == record.number))
    conn.execute(insert(order_tickets), _ticket_rows(record))
    return _with_version(record, record.version + 1)


_ORDER_COLUMNS = (orders.c.number, orders.c.body, orders.c.idempotency_key, orders.c.version)


def read_orders(conn: Connection, query: Select[Any]) -> list[OrderRecord]:
    """The orders ``query`` selects (the ``_ORDER_COLUMNS``), decoded."""
    cipher = document_cipher(conn)
    return [
        decode(str(n), str(b), None if k is None else str(k), int(str(v)), cipher)
        for n, b, k, v in conn.execute(query)
    ]


def order(conn: Connection, number: str) -> OrderRecord | None:
    found = read_orders(conn, select(*_ORDER_COLUMNS).where(orders.c.number == number))
    return found[0] if found else None


def order_by_key(conn: Connection, account_id: str, key: str) -> OrderRecord | None:
    query = select(*_ORDER_COLUMNS).where(
        orders.c.account_id == account_id, orders.c.idempotency_key == key
    )
    found = read_orders(conn, query)
    return found[0] if found else None


def account_orders(conn: Connection, account_id: str, limit: int) -> list[OrderRecord]:
    query = (
        select(*_ORDER_COLUMNS)
        .where(orders.c.account_id == account_id)
        .order_by(orders.c.created_at.desc(), orders.c.number.desc())
        .limit(limit)
    )
    return read_orders(conn, query)


def newest_orders(
    conn: Connection, account_id: str | None, states: Sequence[OrderState] | None, limit: int
) -> list[OrderRecord]:
    """Orders newest first, of one account (None: every account), in the stored states given
    (None: any)."""
    query = select(*_ORDER_COLUMNS)
    if account_id is not None:
        query = query.where(orders.c.account_id == account_id)
    if states is not None:
        query = query.where(orders.c.state.in_(sorted(s.value for s in states)))
    query = query.order_by(orders.c.created_at.desc(), orders.c.number.desc()).limit(limit)
    return read_orders(conn, query)


def queued_orders(conn: Connection, key: RunKey, limit: int) -> list[OrderRecord]:
    """The run's queued orders, oldest first; on PostgreSQL locked, skipping locked ones."""
    query = (
        select(*_ORDER_COLUMNS)
        .where(
            orders.c.train_code == key[0],
            orders.c.service_date == key[1],
            orders.c.state == OrderState.QUEUED.value,
        )
        .order_by(orders.c.created_at, orders.c.number)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return read_orders(conn, query)


def runs_with_queued(conn: Connection) -> list[RunKey]:
    query = (
        select(orders.c.train_code, orders.c.service_date)
        .where(orders.c.state == OrderState.QUEUED.value)
        .distinct()
    )
    return [(str(c), d) for c, d in conn.execute(query)]


def next_order_numbers(conn: Connection, count: int) -> list[str]:
    """``count`` fresh order numbers from one counter update."""
    result = conn.execute(
        update(counters)
        .where(counters.c.name == "order_serial")
        .values(value=counters.c.value + count)
        .returning(counters.c.value)
    )
    last = int(result.scalar_one())
    return [order_number(serial) for serial in range(last - count + 1, last + 1)]


def insert_orders(conn: Connection, records: Sequence[OrderRecord]) -> list[OrderRecord]:
    """Store new orders (version 1) with two statements; IntegrityError when a key is taken."""
    rows = [
        _columns(conn, r, r.order.queued_at)
        | {
            "number": r.number,
            "idempotency_key": r.idempotency_key,
            "created_at": r.queue_at or r.order.queued_at,
            "version": 1,
        }
        for r in records
    ]
    conn.execute(insert(orders), rows)
    conn.execute(insert(order_tickets), [row for r in records for row in _ticket_rows(r)])
    return [_with_version(r, 1) for r in records]


def update_orders(
    conn: Connection, records: Sequence[OrderRecord], now: datetime
) -> list[OrderRecord]:
    """Write changed orders, each only if still at its version (OrderConflict if not), in a
    few statements whatever their number."""
    if not records:
        return []
    if not conn.dialect.supports_sane_multi_rowcount:
        return [update_order(conn, r, now) for r in records]
    statement = (
        update(orders)
        .where(orders.c.number == bindparam("n"), orders.c.version == bindparam("v"))
        .values({**{c: bindparam(f"c_{c}") for c in _UPDATED}, "version": bindparam("v2")})
    )
    rows = []
    for r in records:
        columns = _columns(conn, r, now)
        rows.append(
            {f"c_{c}": columns[c] for c in _UPDATED}
            | {"n": r.number, "v": r.version, "v2": r.version + 1}
        )
    result = conn.execute(statement, rows)
    if result.rowcount != len(records):
        raise OrderConflict("an order of the batch changed concurrently")
    numbers = [r.number for r in records]
    conn.execute(delete(order_tickets).where(order_tickets.c.order_number.in_(numbers)))
    conn.execute(insert(order_tickets), [row for r in records for row in _ticket_rows(r)])
    return [_with_version(r, r.version + 1) for r in records]


_UPDATED = ("state", "reason", "deadline", "amount_fen", "updated_at", "body")


def orders_by_keys(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], OrderRecord]:
    """Orders by (account, idempotency key), for the keys that have one."""
    if not keys:
        return {}
    accounts = sorted({a for a, _ in keys})
    wanted = set(keys)
    query = select(*_ORDER_COLUMNS, orders.c.account_id).where(
        orders.c.account_id.in_(accounts),
        orders.c.idempotency_key.in_(sorted({k for _, k in keys})),
    )
    found: dict[tuple[str, str], OrderRecord] = {}
    cipher = document_cipher(conn)
    for n, b, k, v, a in conn.execute(query):
        if (str(a), str(k)) in wanted:
            found[(str(a), str(k))] = decode(str(n), str(b), str(k), int(v), cipher)
    return found


def _not_by_index(column: ColumnElement[str]) -> ColumnElement[str]:
    """``column`` as an expression no index serves. Without statistics (SQLite is never
    ANALYZEd here) the planner took ``ix_orders_state_deadline`` for ``state IN (…)`` and read
    every unpaid order of every account (4 ms per batch at 20,000 orders against 0.2 ms through
    ``ix_orders_account``, which a few accounts' orders always make the better choice)."""
    return column.concat("")


def unpaid_counts(conn: Connection, accounts: Sequence[str]) -> dict[str, int]:
    query = (
        select(orders.c.account_id, func.count())
        .where(orders.c.account_id.in_(list(accounts)), _not_by_index(orders.c.state).in_(UNPAID))
        .group_by(orders.c.account_id)
    )
    return {str(a): int(n) for a, n in conn.execute(query)}


def cancelled_since(conn: Connection, accounts: Sequence[str], since: datetime) -> dict[str, int]:
    """Orders each account cancelled since ``since`` (a cancelled order is not written again)."""
    query = (
        select(orders.c.account_id, func.count())
        .where(
            orders.c.account_id.in_(list(accounts)),
            _not_by_index(orders.c.state) == OrderState.CANCELLED.value,
            orders.c.updated_at >= since,
        )
        .group_by(orders.c.account_id)
    )
    return {str(a): int(n) for a, n in conn.execute(query)}


def overdue_of(conn: Connection, accounts: Sequence[str], now: datetime) -> list[OrderRecord]:
    """The named accounts' holds whose pay deadline passed."""
    query = select(*_ORDER_COLUMNS).where(
        orders.c.account_id.in_(list(accounts)),
        orders.c.state == OrderState.HELD.value,
        orders.c.deadline <= now,
    )
    return read_orders(conn, query)


def _due(now: datetime | None) -> list[Any]:
    """Queued orders whose place in the queue has come (a slow-queue order waits for it)."""
    due = [orders.c.state == OrderState.QUEUED.value]
    if now is not None:
        due.append(orders.c.created_at <= now)
    return due


def claim_runs(conn: Connection, runs: int, now: datetime | None = None) -> list[RunKey]:
    """Up to ``runs`` runs with queued orders due by ``now`` that this transaction now owns:
    on PostgreSQL a transaction-scoped advisory lock per run, so concurrent allocators take
    different runs; on SQLite every run (one writer at a time; the version checks guard the
    rest)."""
    candidates = select(orders.c.train_code, orders.c.service_date).where(*_due(now)).distinct()
    if conn.dialect.name != "postgresql":
        return [(str(c), d) for c, d in conn.execute(candidates.limit(runs))]
    pending = candidates.limit(runs * 4).subquery()
    name = pending.c.train_code + "|" + cast(pending.c.service_date, String)
    owned = (
        select(pending.c.train_code, pending.c.service_date)
        .where(func.pg_try_advisory_xact_lock(_RUN_LOCK, func.hashtext(name)))
        .limit(runs)
    )
    return [(str(c), d) for c, d in conn.execute(owned)]


_RUN_LOCK = 12306


def queued_of_runs(
    conn: Connection, keys: Sequence[RunKey], limit: int, now: datetime | None = None
) -> dict[RunKey, list[OrderRecord]]:
    """The runs' queued orders due by ``now``, in queue order, at most ``limit`` in all."""
    found: dict[RunKey, list[OrderRecord]] = {}
    if not keys:
        return found
    codes = sorted({c for c, _ in keys})
    days = sorted({d for _, d in keys})
    wanted = set(keys)
    query = (
        select(*_ORDER_COLUMNS, orders.c.train_code, orders.c.service_date)
        .where(*_due(now), orders.c.train_code.in_(codes), orders.c.service_date.in_(days))
        .order_by(orders.c.created_at, orders.c.number)
        .limit(limit)
    )
    cipher = document_cipher(conn)
    for n, b, k, v, code, day in conn.execute(query):
        key = (str(code), day)
        if key in wanted:
            record = decode(str(n), str(b), None if k is None else str(k), int(v), cipher)
            found.setdefault(key, []).append(record)
    return found


def overdue_orders(conn: Connection, now: datetime, limit: int) -> list[OrderRecord]:
    query = (
        select(*_ORDER_COLUMNS)
        .where(orders.c.state == OrderState.HELD.value, orders.c.deadline <= now)
        .limit(limit)
    )
    return read_orders(conn, query)


def queued_people(conn: Connection, runs: Sequence[RunKey]) -> dict[tuple[RunKey, SeatClass], int]:
    """Passengers of the runs' queued orders, by run and class."""
    if not runs:
        return {}
    wanted = set(runs)
    query = (
        select(orders.c.train_code, orders.c.service_date, orders.c.seat_class, func.count())
        .select_from(orders.join(order_tickets, order_tickets.c.order_number == orders.c.number))
        .where(
            orders.c.state == OrderState.QUEUED.value,
            orders.c.train_code.in_(sorted({c for c, _ in runs})),
            orders.c.service_date.in_(sorted({d for _, d in runs})),
        )
        .group_by(orders.c.train_code, orders.c.service_date, orders.c.seat_class)
    )
    found: dict[tuple[RunKey, SeatClass], int] = {}
    for code, day, seat_class, people in conn.execute(query):
        if (str(code), day) in wanted:
            found[((str(code), day), SeatClass(seat_class))] = int(people)
    return found


def queue_ahead(conn: Connection, number: str) -> tuple[int, datetime] | None:
    """Passengers queued before the order in its run and class, and when its place in the
    queue comes; None unless it is queued."""
    me = conn.execute(
        select(
            orders.c.train_code,
            orders.c.service_date,
            orders.c.seat_class,
            orders.c.created_at,
            orders.c.state,
        ).where(orders.c.number == number)
    ).first()
    if me is None or me.state != OrderState.QUEUED.value:
        return None
    earlier = (orders.c.created_at < me.created_at) | (
        (orders.c.created_at == me.created_at) & (orders.c.number < number)
    )
    query = (
        select(func.count())
        .select_from(orders.join(order_tickets, order_tickets.c.order_number == orders.c.number))
        .where(
            orders.c.state == OrderState.QUEUED.value,
            orders.c.train_code == me.train_code,
            orders.c.service_date == me.service_date,
            orders.c.seat_class == me.seat_class,
            earlier,
        )
    )
    return int(conn.execute(query).scalar_one()), me.created_at


def unpaid_count(conn: Connection, account_id: str) -> int:
    query = select(func.count()).where(
        orders.c.account_id == account_id, orders.c.state.in_(UNPAID)
    )
    return int(conn.execute(query).scalar_one())


def busy_intervals(
    conn: Connection, person_keys: Sequence[str]
) -> dict[str, list[tuple[int, int]]]:
    """(departs, arrives) absolute minutes of each person's live tickets and unpaid orders."""
    query = select(
        order_tickets.c.person_key, order_tickets.c.departs_min, order_tickets.c.arrives_min
    ).where(
        order_tickets.c.person_key.in_(list(person_keys)),
        order_tickets.c.state.in_(LIVE_TICKET_ROWS),
    )
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key, start, end in conn.execute(query):
        found[str(key)].append((int(start), int(end)))
    return dict(found)


def add_entries(conn: Connection, entries: Sequence[Entry]) -> None:
    if entries:
        conn.execute(
            insert(ledger_entries),
            [
                {
                    "order_number": e.order_number,
                    "kind": e.kind.value,
                    "amount_fen": e.amount_fen,
                    "ticket_number": e.ticket_number,
                    "reference": e.reference,
                    "at": e.at,
                }
                for e in entries
            ],
        )


def ledger_totals(conn: Connection, numbers: Sequence[str]) -> dict[str, Totals]:
    """Each order's ledger sums by kind, in one query (orders with no entry are left out)."""
    if not numbers:
        return {}
    query = (
        select(
            ledger_entries.c.order_number,
            ledger_entries.c.kind,
            func.sum(ledger_entries.c.amount_fen),
        )
        .where(ledger_entries.c.order_number.in_(list(numbers)))
        .group_by(ledger_entries.c.order_number, ledger_entries.c.kind)
    )
    sums: dict[str, dict[str, int]] = defaultdict(dict)
    for number, kind, amount in conn.execute(query):
        sums[str(number)][str(kind)] = int(amount)
    return {
        number: Totals(
            by_kind.get(EntryKind.PAYMENT.value, 0),
            by_kind.get(EntryKind.REFUND.value, 0),
            by_kind.get(EntryKind.FEE.value, 0),
        )
        for number, by_kind in sums.items()
    }


def entries(conn: Connection, number: str) -> list[Entry]:
    query = (
        select(
            ledger_entries.c.order_number,
            ledger_entries.c.kind,
            ledger_entries.c.amount_fen,
            ledger_entries.c.at,
            ledger_entries.c.ticket_number,
            ledger_entries.c.reference,
        )
        .where(ledger_entries.c.order_number == number)
        .order_by(ledger_entries.c.id)
    )
    return [Entry(o, EntryKind(k), int(a), at, t, r) for o, k, a, at, t, r in conn.execute(query)]


def _payment_values(p: PaymentRecord) -> dict[str, object]:
    return {
        "order_number": p.order_number,
        "account_id": p.account_id,
        "channel": p.channel,
        "provider_trade_no": p.provider_trade_no,
        "amount_fen": p.amount_fen,
        "state": p.state.value,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


class PaymentConflict(OrderConflict):
    """A payment's stored state moved on since it was read; the caller rereads and retries."""


def save_payment(conn: Connection, p: PaymentRecord) -> PaymentRecord:
    """Write ``p`` only from the state it was read in (``stored_as``; None: insert a new one).
    PaymentConflict, and nothing of the transaction written, when another writer was first."""
    if p.stored_as is None:
        try:
            conn.execute(insert(payments).values(_payment_values(p) | {"id": p.id}))
        except IntegrityError:
            raise PaymentConflict(f"payment {p.id} was stored concurrently") from None
    else:
        done = conn.execute(
            update(payments)
            .where(payments.c.id == p.id, payments.c.state == p.stored_as.value)
            .values(_payment_values(p))
        )
        if done.rowcount != 1:
            raise PaymentConflict(f"payment {p.id} changed concurrently")
    return replace(p, stored_as=p.state)


def _payment_record(row: Any) -> PaymentRecord:
    return PaymentRecord(
        id=row["id"],
        order_number=row["order_number"],
        account_id=row["account_id"],
        channel=row["channel"],
        amount_fen=int(row["amount_fen"]),
        state=PaymentRecordState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        provider_trade_no=row["provider_trade_no"],
        stored_as=PaymentRecordState(row["state"]),
    )


def payment(conn: Connection, payment_id: str) -> PaymentRecord | None:
    row = conn.execute(select(payments).where(payments.c.id == payment_id)).mappings().first()
    return None if row is None else _payment_record(row)


def order_payments(conn: Connection, number: str) -> list[PaymentRecord]:
    """Every payment recorded for order ``number`` (its own and its changes'), oldest first."""
    query = (
        select(payments)
        .where(payments.c.order_number == number)
        .order_by(payments.c.created_at, payments.c.id)
    )
    return [_payment_record(row) for row in conn.execute(query).mappings()]


def credit_used(conn: Connection, account_id: str) -> int:
    """Fen of the account's credit-line payments that stand: paid on credit, less what was
    refunded to the credit line."""
    paid = select(func.coalesce(func.sum(payments.c.amount_fen), 0)).where(
        payments.c.account_id == account_id,
        payments.c.channel == "credit",
        payments.c.state == PaymentRecordState.SUCCEEDED.value,
    )
    refunded = select(func.coalesce(func.sum(pending_refunds.c.amount_fen), 0)).where(
        pending_refunds.c.channel == "credit",
        pending_refunds.c.state == "done",
        pending_refunds.c.order_number.in_(
            select(orders.c.number).where(orders.c.account_id == account_id)
        ),
    )
    return int(conn.execute(paid).scalar_one()) - int(conn.execute(refunded).scalar_one())


def write_tail(
    conn: Connection,
    records: Sequence[OrderRecord],
    now: datetime,
    inventories: Sequence[tuple[RunKey, bytes, int]],
    entries: Sequence[Entry],
    payments: Sequence[PaymentRecord],
) -> tuple[list[OrderRecord], list[StoredInventory]]:
    """The end of every multi-run write, in the caller's transaction: inventories (each
    version-checked, in key order so two writers cannot deadlock), orders (version-checked),
    ledger entries and payments (each from the state it was read in)."""
    stored = [
        inventory_repo.save(conn, key, state, version)
        for key, state, version in sorted(inventories, key=lambda item: item[0])
    ]
    saved = [update_order(conn, r, now) for r in records]
    add_entries(conn, entries)
    for p in payments:
        save_payment(conn, p)
    return saved, stored


class SqlOrdersStore:
    """The OrdersStore port on one engine; each method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, cipher: DocumentCipher | None = None) -> SqlOrdersStore:
        """A store on a new engine for ``url`` sealing document numbers with ``cipher``
        (without one, reading or writing a document number raises NoDocumentCipher)."""
        return cls(sealed_engine(url, cipher))

    def next_number(self) -> str:
        """A fresh order number (serials are never reused; gaps are harmless)."""
        with self.engine.begin() as conn:
            return next_order_number(conn)

    def add(self, record: OrderRecord) -> OrderRecord:
        """Store a new order; the existing one when its idempotency key was seen before."""
        try:
            with self.engine.begin() as conn:
                return insert_order(conn, record)
        except DuplicateOrder:
            existing = self.by_key(record.order.account, record.idempotency_key or "")
            if existing is None:  # pragma: no cover - the key row was deleted meanwhile
                raise
            return existing

    def add_many(self, records: Sequence[OrderRecord]) -> list[OrderRecord]:
        """Store new orders in one transaction; DuplicateOrder (nothing written) when an
        idempotency key of the batch was taken meanwhile."""
        try:
            with self.engine.begin() as conn:
                return insert_orders(conn, records)
        except IntegrityError:
            raise DuplicateOrder("an idempotency key of the batch") from None

    def next_numbers(self, count: int) -> list[str]:
        with self.engine.begin() as conn:
            return next_order_numbers(conn, count)

    def by_keys(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OrderRecord]:
        with self.engine.connect() as conn:
            return orders_by_keys(conn, keys)

    def unpaid_counts(self, accounts: Sequence[str]) -> dict[str, int]:
        with self.engine.connect() as conn:
            return unpaid_counts(conn, accounts)

    def overdue_of(self, accounts: Sequence[str], now: datetime) -> list[OrderRecord]:
        with self.engine.connect() as conn:
            return overdue_of(conn, accounts, now)

    def cancelled_since(self, accounts: Sequence[str], since: datetime) -> dict[str, int]:
        with self.engine.connect() as conn:
            return cancelled_since(conn, accounts, since)

    def drain(
        self, runs: int, limit: int, now: datetime, work: DrainWork
    ) -> tuple[list[OrderRecord], list[StoredInventory]]:
        """One transaction: claim up to ``runs`` runs with queued orders (see ``claim_runs``),
        read up to ``limit`` of their queued orders and their inventories, let ``work``
        decide them, and write the orders and inventories it returns, all version-checked."""
        with self.engine.begin() as conn:
            queued = queued_of_runs(conn, claim_runs(conn, runs, now), limit, now)
            if not queued:
                return [], []
            stored: dict[RunKey, StoredState] = dict(inventory_repo.load_many(conn, list(queued)))
            records, states = work(stored, queued)
            written = inventory_repo.save_many(conn, states)
            return update_orders(conn, records, now), written

    def get(self, number: str) -> OrderRecord | None:
        with self.engine.connect() as conn:
            return order(conn, number)

    def by_key(self, account_id: str, key: str) -> OrderRecord | None:
        with self.engine.connect() as conn:
            return order_by_key(conn, account_id, key)

    def for_account(self, account_id: str, limit: int = 50) -> list[OrderRecord]:
        with self.engine.connect() as conn:
            return account_orders(conn, account_id, limit)

    def newest(
        self, account_id: str | None, states: Sequence[OrderState] | None, limit: int
    ) -> list[OrderRecord]:
        with self.engine.connect() as conn:
            return newest_orders(conn, account_id, states, limit)

    def unpaid_count(self, account_id: str) -> int:
        with self.engine.connect() as conn:
            return unpaid_count(conn, account_id)

    def busy_intervals(self, person_keys: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        with self.engine.connect() as conn:
            return busy_intervals(conn, person_keys)

    def queued_people(self, runs: Sequence[RunKey]) -> dict[tuple[RunKey, SeatClass], int]:
        with self.engine.connect() as conn:
            return queued_people(conn, runs)

    def queue_ahead(self, number: str) -> tuple[int, datetime] | None:
        with self.engine.connect() as conn:
            return queue_ahead(conn, number)

    def runs_with_queued(self) -> list[RunKey]:
        with self.engine.connect() as conn:
            return runs_with_queued(conn)

    def overdue(self, now: datetime, limit: int = 500) -> list[OrderRecord]:
        with self.engine.connect() as conn:
            return overdue_orders(conn, now, limit)

    def entries(self, number: str) -> list[Entry]:
        with self.engine.connect() as conn:
            return entries(conn, number)

    def ledger_orders(self, after: str = "", limit: int = 500) -> list[str]:
        """Numbers of orders with ledger entries, in order, after ``after`` (a page)."""
        query = (
            select(ledger_entries.c.order_number)
            .where(ledger_entries.c.order_number > after)
            .group_by(ledger_entries.c.order_number)
            .order_by(ledger_entries.c.order_number)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [str(n) for (n,) in conn.execute(query)]

    def ledger_totals(self, numbers: Sequence[str]) -> dict[str, Totals]:
        with self.engine.connect() as conn:
            return ledger_totals(conn, numbers)

    def payment(self, payment_id: str) -> PaymentRecord | None:
        with self.engine.connect() as conn:
            return payment(conn, payment_id)

    def payments_for_order(self, number: str) -> list[PaymentRecord]:
        with self.engine.connect() as conn:
            return order_payments(conn, number)

    def credit_used(self, account_id: str) -> int:
        with self.engine.connect() as conn:
            return credit_used(conn, account_id)

    def save_payment(self, record: PaymentRecord) -> PaymentRecord:
        with self.engine.begin() as conn:
            return save_payment(conn, record)

    def claim(self, key: RunKey, limit: int) -> tuple[StoredInventory | None, list[OrderRecord]]:
        """Read the run's inventory and queued orders (outside a transaction; ``write``
        checks both versions)."""
        with self.engine.connect() as conn:
            return inventory_repo.load(conn, key), queued_orders(conn, key, limit)

    def write(
        self,
        records: Sequence[OrderRecord],
        now: datetime,
        *,
        inventory: tuple[RunKey, bytes, int] | None = None,
        entries: Sequence[Entry] = (),
        payments: Sequence[PaymentRecord] = (),
    ) -> tuple[list[OrderRecord], StoredInventory | None]:
        """One transaction: orders (version-checked), inventory (version-checked), ledger
        entries and payments. Raises VersionConflict (or OrderConflict) and writes nothing
        when anything changed since it was read."""
        runs = () if inventory is None else (inventory,)
        with self.engine.begin() as conn:
            saved, stored = write_tail(conn, records, now, runs, entries, payments)
        return saved, (stored[0] if stored else None)

    def write_runs(
        self,
        records: Sequence[OrderRecord],
        now: datetime,
        *,
        inventories: Sequence[tuple[RunKey, bytes, int]],
        entries: Sequence[Entry] = (),
        payments: Sequence[PaymentRecord] = (),
    ) -> tuple[list[OrderRecord], list[StoredInventory]]:
        """Like ``write`` with several runs' inventories (each version-checked), e.g. a ticket
        change that takes a seat on one run and gives one back on another. Runs are written
        in key order so two such writers cannot deadlock each other."""
        with self.engine.begin() as conn:
            return write_tail(conn, records, now, inventories, entries, payments)
