"""The settlement's own books (SQLAlchemy Core): channel refunds still owed (the retry queue),
cancellations per account, and dearer changes awaiting their payment.

``SqlSettlementBooks.write_change`` is one transaction: the change payment's state (checked
against the state it was read in), orders (version-checked), inventories (version-checked),
ledger entries and payments, so a change completes, expires or is refunded whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Engine, insert, select, update

from open12306.inventory.adapters.inventory_repo import StoredInventory
from open12306.sales.adapters.orders_codec import _parse_trip, _trip
from open12306.sales.adapters.orders_repo import (
    OrderConflict,
    read_orders,
    write_tail,
)
from open12306.sales.adapters.tables import change_payments, orders, pending_refunds
from open12306.sales.domain import OrderState, SeatAssignment
from open12306.sales.domain.ledger import Entry
from open12306.sales.ports import (
    ChangePayment,
    ChangePaymentState,
    OrderRecord,
    PaymentRecord,
    PendingRefund,
    PendingState,
)
from open12306.shared.run_key import RunKey

_encoder = msgspec.json.Encoder()
CANCEL_WINDOW = 50


def _utc(moment: datetime) -> datetime:
    """Stored in UTC: SQLite keeps no offset, so every time written here is UTC."""
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _refund_row(r: PendingRefund) -> dict[str, object]:
    return {
        "order_number": r.order_number,
        "trade_no": r.trade_no,
        "channel": r.channel,
        "amount_fen": r.amount_fen,
        "total_fen": r.total_fen,
        "state": r.state.value,
        "attempts": r.attempts,
        "last_error": r.last_error,
        "created_at": _utc(r.created_at),
        "next_at": _utc(r.next_at),
    }


def _refund(row: Any) -> PendingRefund:
    return PendingRefund(
        refund_no=row["refund_no"],
        order_number=row["order_number"],
        trade_no=row["trade_no"],
        channel=row["channel"],
        amount_fen=int(row["amount_fen"]),
        total_fen=int(row["total_fen"]),
        created_at=_aware(row["created_at"]),
        next_at=_aware(row["next_at"]),
        state=PendingState(row["state"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
    )


def _change_body(c: ChangePayment) -> str:
    seat = c.seat
    body = {
        "trip": _trip(c.trip),
        "seat": [seat.coach, seat.seat_label, seat.fare_fen, seat.seat_index],
        "requested_at": c.requested_at.isoformat(),
    }
    return _encoder.encode(body).decode("utf-8")


def _change_row(c: ChangePayment) -> dict[str, object]:
    return {
        "order_number": c.order_number,
        "ticket_number": c.ticket_number,
        "account_id": c.account_id,
        "channel": c.channel,
        "amount_fen": c.amount_fen,
        "state": c.state.value,
        "deadline": _utc(c.deadline),
        "created_at": _utc(c.created_at),
        "updated_at": _utc(c.updated_at),
        "provider_trade_no": c.provider_trade_no,
        "body": _change_body(c),
    }


def _change(row: Any) -> ChangePayment:
    body = msgspec.json.decode(row["body"])
    coach, label, fare, index = body["seat"]
    return ChangePayment(
        id=row["id"],
        order_number=row["order_number"],
        ticket_number=row["ticket_number"],
        account_id=row["account_id"],
        channel=row["channel"],
        amount_fen=int(row["amount_fen"]),
        state=ChangePaymentState(row["state"]),
        deadline=_aware(row["deadline"]),
        created_at=_aware(row["created_at"]),
        updated_at=_aware(row["updated_at"]),
        trip=_parse_trip(body["trip"]),
        seat=SeatAssignment(int(coach), str(label), int(fare), index),
        requested_at=datetime.fromisoformat(body["requested_at"]),
        provider_trade_no=row["provider_trade_no"],
    )


class SqlSettlementBooks:
    """RefundQueue, CancelLog and ChangeBook on one engine; each method one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- the refund retry queue ------------------------------------------------------------

    def save_refund(self, refund: PendingRefund) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(pending_refunds)
                .where(pending_refunds.c.refund_no == refund.refund_no)
                .values(_refund_row(refund))
            )
            if done.rowcount == 0:
                conn.execute(
                    insert(pending_refunds).values(
                        _refund_row(refund) | {"refund_no": refund.refund_no}
                    )
                )

    def pending_refund(self, refund_no: str) -> PendingRefund | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(pending_refunds).where(pending_refunds.c.refund_no == refund_no)
                )
                .mappings()
                .first()
            )
        return None if row is None else _refund(row)

    def due_refunds(self, now: datetime, limit: int) -> list[PendingRefund]:
        query = (
            select(pending_refunds)
            .where(
                pending_refunds.c.state == PendingState.PENDING.value,
                pending_refunds.c.next_at <= _utc(now),
            )
            .order_by(pending_refunds.c.next_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_refund(row) for row in conn.execute(query).mappings()]

    def refunds_for_order(self, order_number: str) -> list[PendingRefund]:
        """Every channel refund recorded for the order, oldest first."""
        query = (
            select(pending_refunds)
            .where(pending_refunds.c.order_number == order_number)
            .order_by(pending_refunds.c.created_at, pending_refunds.c.refund_no)
        )
        with self.engine.connect() as conn:
            return [_refund(row) for row in conn.execute(query).mappings()]

    def failed_refunds(self, limit: int = 100) -> list[PendingRefund]:
        """Refunds the channels refused for good, oldest failure first (an operator's list)."""
        query = (
            select(pending_refunds)
            .where(pending_refunds.c.state == PendingState.FAILED.value)
            .order_by(pending_refunds.c.next_at, pending_refunds.c.refund_no)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_refund(row) for row in conn.execute(query).mappings()]

    # --- cancellations ---------------------------------------------------------------------

    def cancels_since(self, account_id: str, since: datetime) -> int:
        """Counted from the orders' own closing times (zone-aware in the order document; the
        SQLite columns keep no offset). A held order lives minutes, so the account's latest
        cancelled orders by creation are the ones that can have closed since ``since``."""
        query = (
            select(orders.c.number, orders.c.body, orders.c.idempotency_key, orders.c.version)
            .where(
                orders.c.account_id == account_id,
                orders.c.state == OrderState.CANCELLED.value,
            )
            .order_by(orders.c.created_at.desc())
            .limit(CANCEL_WINDOW)
        )
        with self.engine.connect() as conn:
            found = read_orders(conn, query)
        return sum(1 for r in found if r.order.closed_at is not None and r.order.closed_at >= since)

    # --- change payments -------------------------------------------------------------------

    def change_payment(self, change_id: str) -> ChangePayment | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(change_payments).where(change_payments.c.id == change_id))
                .mappings()
                .first()
            )
        return None if row is None else _change(row)

    def changes_for_ticket(self, ticket_number: str) -> list[ChangePayment]:
        query = (
            select(change_payments)
            .where(change_payments.c.ticket_number == ticket_number)
            .order_by(change_payments.c.created_at)
        )
        with self.engine.connect() as conn:
            return [_change(row) for row in conn.execute(query).mappings()]

    def changes_for_order(self, order_number: str) -> list[ChangePayment]:
        query = (
            select(change_payments)
            .where(change_payments.c.order_number == order_number)
            .order_by(change_payments.c.created_at, change_payments.c.id)
        )
        with self.engine.connect() as conn:
            return [_change(row) for row in conn.execute(query).mappings()]

    def overdue_changes(self, now: datetime, limit: int = 100) -> list[ChangePayment]:
        query = (
            select(change_payments)
            .where(
                change_payments.c.state == ChangePaymentState.PENDING.value,
                change_payments.c.deadline <= _utc(now),
            )
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_change(row) for row in conn.execute(query).mappings()]

    def write_change(
        self,
        change: ChangePayment,
        expected: ChangePaymentState | None,
        now: datetime,
        *,
        records: Sequence[OrderRecord] = (),
        inventories: Sequence[tuple[RunKey, bytes, int]] = (),
        entries: Sequence[Entry] = (),
        payments: Sequence[PaymentRecord] = (),
    ) -> tuple[list[OrderRecord], list[StoredInventory]]:
        """One transaction. ``expected`` None inserts ``change``; otherwise it must still be
        in state ``expected`` (OrderConflict if not). Nothing is written on any conflict."""
        with self.engine.begin() as conn:
            if expected is None:
                conn.execute(
                    insert(change_payments).values(_change_row(change) | {"id": change.id})
                )
            else:
                done = conn.execute(
                    update(change_payments)
                    .where(
                        change_payments.c.id == change.id,
                        change_payments.c.state == expected.value,
                    )
                    .values(_change_row(change))
                )
                if done.rowcount != 1:
                    raise OrderConflict(f"change payment {change.id} changed concurrently")
            return write_tail(conn, records, now, inventories, entries, payments)
