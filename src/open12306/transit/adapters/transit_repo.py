"""Transit settlement on SQLAlchemy Core (SQLite and PostgreSQL): taps, settled days, credit
draws, debts (``SqlArrears``), the deny list (``SqlDenyList``), debt payments, enrolments.

Each method runs in its own transaction. Inserts that may repeat (a tap uploaded twice, a
charge asked for twice) are ``ON CONFLICT DO NOTHING`` so concurrent writers agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Row, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.ports import AccountStatus, AccountStore
from open12306.shared.db.engine import make_engine
from open12306.transit.adapters.tables import (
    transit_credit_draws,
    transit_debt_payments,
    transit_debts,
    transit_deny,
    transit_enrolments,
    transit_settled,
    transit_taps,
)
from open12306.transit.domain import Tap, TapDirection
from open12306.transit.ports import Debt, DebtPayment, DebtRecord, Draw, Enrolment, SettledDay

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> int:
    """Insert rows whose ``key`` is not there yet; returns how many were inserted."""
    if not rows:
        return 0
    statement: Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    statement = statement.returning(table.c[key])
    return sum(len(conn.execute(statement, row).all()) for row in rows)


def _draw(row: Row[Any]) -> Draw:
    return Draw(
        row.reference,
        row.account_token,
        row.service_day,
        int(row.amount_fen),
        bool(row.collected),
        row.reason,
        _aware(row.created_at),
    )


def _debt(row: Row[Any]) -> DebtRecord:
    paid = None if row.paid_at is None else _aware(row.paid_at)
    return DebtRecord(
        row.reference, row.account_token, int(row.amount_fen), _aware(row.created_at), paid
    )


def _payment(row: Row[Any]) -> DebtPayment:
    debts = tuple(r for r in row.debts.split(",") if r)
    return DebtPayment(
        row.payment_no,
        row.account_token,
        row.channel,
        int(row.amount_fen),
        debts,
        row.state,
        _aware(row.created_at),
    )


class SqlDenyList:
    """The accounts gate bundles refuse (the ``DenyListStore`` port)."""

    def __init__(self, engine: Engine, clock: Clock = _now) -> None:
        self.engine = engine
        self.clock = clock

    def add(self, account_token: str) -> None:
        with self.engine.begin() as conn:
            row = {"account_token": account_token, "since": self.clock()}
            _insert_ignore(conn, transit_deny, [row], "account_token")

    def remove(self, account_token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(transit_deny).where(transit_deny.c.account_token == account_token))

    def accounts(self) -> frozenset[str]:
        with self.engine.connect() as conn:
            return frozenset(conn.scalars(select(transit_deny.c.account_token)))


class SqlArrears:
    """Debts of failed charges (the ``ArrearsStore`` port): cleared debts stay, marked paid."""

    def __init__(self, engine: Engine, clock: Clock = _now) -> None:
        self.engine = engine
        self.clock = clock

    def add(self, debt: Debt) -> None:
        row = {
            "reference": debt.reference,
            "account_token": debt.account_token,
            "amount_fen": debt.amount_fen,
            "created_at": self.clock(),
            "paid_at": None,
        }
        with self.engine.begin() as conn:
            _insert_ignore(conn, transit_debts, [row], "reference")

    def outstanding(self, account_token: str) -> list[Debt]:
        query = (
            select(transit_debts)
            .where(transit_debts.c.account_token == account_token)
            .where(transit_debts.c.paid_at.is_(None))
            .order_by(transit_debts.c.reference)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Debt(r.reference, r.account_token, int(r.amount_fen)) for r in rows]

    def clear(self, reference: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(transit_debts)
                .where(transit_debts.c.reference == reference)
                .where(transit_debts.c.paid_at.is_(None))
                .values(paid_at=self.clock())
            )


class SqlTransitStore:
    """Everything else transit settlement keeps (the ``TransitStore`` and
    ``DebtPaymentStore`` ports)."""

    def __init__(
        self, engine: Engine, clock: Clock = _now, accounts: AccountStore | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.accounts = accounts if accounts is not None else SqlAccountsStore(engine)
        self.deny_list = SqlDenyList(engine, clock)
        self.arrears = SqlArrears(engine, clock)

    @classmethod
    def from_url(cls, url: str, clock: Clock = _now) -> SqlTransitStore:
        return cls(make_engine(url), clock)

    # -- taps ------------------------------------------------------------------------------

    def receive_taps(self, taps: Iterable[Tap]) -> int:
        now = self.clock()
        rows = [
            {
                "tap_id": t.tap_id,
                "account_token": t.account_token,
                "operator": t.operator,
                "station": t.station,
                "direction": t.direction.value,
                "at": t.at,
                "received_at": now,
            }
            for t in taps
        ]
        with self.engine.begin() as conn:
            return _insert_ignore(conn, transit_taps, rows, "tap_id")

    def taps_between(self, start: int, end: int) -> list[Tap]:
        c = transit_taps.c
        query = select(transit_taps).where(c.at >= start, c.at < end).order_by(c.at, c.tap_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Tap(r.tap_id, r.account_token, r.operator, r.station, TapDirection(r.direction), r.at)
            for r in rows
        ]

    # -- settled days ----------------------------------------------------------------------

    def settled(self, day: date) -> list[SettledDay]:
        query = select(transit_settled).where(transit_settled.c.service_day == day)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            SettledDay(
                r.day_reference,
                r.account_token,
                r.service_day,
                int(r.amount_fen),
                r.journeys,
                r.corrections,
            )
            for r in rows
        ]

    def save_settled(self, day: SettledDay) -> None:
        values = {
            "account_token": day.account_token,
            "service_day": day.day,
            "amount_fen": day.amount_fen,
            "journeys": day.journeys,
            "corrections": day.corrections,
            "updated_at": self.clock(),
        }
        c = transit_settled.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(transit_settled).where(c.day_reference == day.day_reference).values(values)
            ).rowcount
            if not changed:
                conn.execute(
                    transit_settled.insert().values(day_reference=day.day_reference, **values)
                )

    # -- the credit line -------------------------------------------------------------------

    def draw(self, reference: str) -> Draw | None:
        query = select(transit_credit_draws).where(transit_credit_draws.c.reference == reference)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _draw(row)

    def save_draw(self, draw: Draw) -> Draw:
        row = {
            "reference": draw.reference,
            "account_token": draw.account_token,
            "service_day": draw.day,
            "amount_fen": draw.amount_fen,
            "collected": draw.collected,
            "reason": draw.reason,
            "created_at": draw.created_at,
        }
        with self.engine.begin() as conn:
            _insert_ignore(conn, transit_credit_draws, [row], "reference")
            stored = conn.execute(
                select(transit_credit_draws).where(
                    transit_credit_draws.c.reference == draw.reference
                )
            ).one()
        return _draw(stored)

    def drawn(self, account_token: str, first: date, last: date) -> int:
        c = transit_credit_draws.c
        query = select(func.coalesce(func.sum(c.amount_fen), 0)).where(
            c.account_token == account_token,
            c.collected.is_(True),
            c.service_day >= first,
            c.service_day <= last,
        )
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def draws(self, account_token: str) -> list[Draw]:
        c = transit_credit_draws.c
        query = select(transit_credit_draws).where(c.account_token == account_token)
        with self.engine.connect() as conn:
            return [_draw(r) for r in conn.execute(query.order_by(c.reference)).all()]

    # -- debts -----------------------------------------------------------------------------

    def debts(self, account_token: str) -> list[DebtRecord]:
        c = transit_debts.c
        query = select(transit_debts).where(c.account_token == account_token)
        with self.engine.connect() as conn:
            return [_debt(r) for r in conn.execute(query.order_by(c.reference)).all()]

    def all_outstanding(self) -> list[DebtRecord]:
        c = transit_debts.c
        query = (
            select(transit_debts).where(c.paid_at.is_(None)).order_by(c.account_token, c.reference)
        )
        with self.engine.connect() as conn:
            return [_debt(r) for r in conn.execute(query).all()]

    def set_debt_amount(self, reference: str, amount_fen: int) -> None:
        c = transit_debts.c
        with self.engine.begin() as conn:
            conn.execute(
                update(transit_debts)
                .where(c.reference == reference, c.paid_at.is_(None))
                .values(amount_fen=amount_fen)
            )

    # -- debt payments ---------------------------------------------------------------------

    def open_payment(self, account_token: str) -> DebtPayment | None:
        c = transit_debt_payments.c
        query = (
            select(transit_debt_payments)
            .where(c.account_token == account_token, c.state == "pending")
            .order_by(c.created_at.desc())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _payment(row)

    def payment(self, payment_no: str) -> DebtPayment | None:
        c = transit_debt_payments.c
        query = select(transit_debt_payments).where(c.payment_no == payment_no)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _payment(row)

    def payments(self, account_token: str) -> list[DebtPayment]:
        """Every debt payment of the account, oldest first."""
        c = transit_debt_payments.c
        query = select(transit_debt_payments).where(c.account_token == account_token)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(c.created_at, c.payment_no)).all()
        return [_payment(r) for r in rows]

    def save_payment(self, payment: DebtPayment) -> None:
        values = {
            "account_token": payment.account_token,
            "channel": payment.channel,
            "amount_fen": payment.amount_fen,
            "debts": ",".join(payment.debts),
            "state": payment.state,
            "created_at": payment.created_at,
            "updated_at": self.clock(),
        }
        c = transit_debt_payments.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(transit_debt_payments)
                .where(c.payment_no == payment.payment_no)
                .values(state=payment.state, updated_at=values["updated_at"])
            ).rowcount
            if not changed:
                conn.execute(
                    transit_debt_payments.insert().values(payment_no=payment.payment_no, **values)
                )

    # -- enrolments ------------------------------------------------------------------------

    def enrol(self, enrolment: Enrolment) -> None:
        row = {
            "account_token": enrolment.account_token,
            "account_id": enrolment.account_id,
            "account_created_at": enrolment.account_created_at,
            "enrolled_at": self.clock(),
        }
        with self.engine.begin() as conn:
            _insert_ignore(conn, transit_enrolments, [row], "account_token")

    def enrolment(self, account_token: str) -> Enrolment | None:
        c = transit_enrolments.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(transit_enrolments).where(c.account_token == account_token)
            ).first()
        if row is None:
            return None
        return Enrolment(row.account_token, row.account_id, _aware(row.account_created_at))

    def account_active(self, account_id: str) -> bool | None:
        account = self.accounts.account_by_id(account_id)
        return None if account is None else account.status is AccountStatus.ACTIVE
