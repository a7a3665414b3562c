"""What the order services store: orders with their bookkeeping, payments, ledger entries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.ports import StoredState
from open12306.sales.domain import Order, OrderState, SeatAssignment, Trip
from open12306.sales.domain.ledger import Entry, Totals
from open12306.shared.run_key import RunKey


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as stored: the domain order plus what the store needs beside it.

    ``passenger_ids`` are the account's saved passengers in order; ``person_keys`` their
    keyed document hashes (the overlapping-trip rule's key); ``standing_pool`` the seated class
    whose standing room a standing party uses; ``version`` counts writes (optimistic locking).
    ``queue_at`` (new orders only, not read back) is the moment the order takes its place in
    its run's queue when that is later than ``queued_at`` (the slow queue for suspect orders).
    ``queue_ahead`` (new orders only, not stored) counts the passengers queued before it in its
    run and class when it was admitted, so the first answer needs no count of the queue.
    """

    order: Order
    passenger_ids: tuple[str, ...]
    person_keys: tuple[str, ...]
    idempotency_key: str | None = None
    letters: tuple[str | None, ...] = ()
    berths: tuple[str | None, ...] = ()
    together: bool = True
    allow_standing: bool = False
    standing_pool: SeatClass | None = None
    version: int = 0
    queue_at: datetime | None = field(default=None, compare=False)
    queue_ahead: int | None = field(default=None, compare=False)

    @property
    def number(self) -> str:
        return self.order.number


class DuplicateKey(Exception):
    """An order with this account's idempotency key is already stored."""


class PaymentRecordState(StrEnum):
    """The state of our own record of a payment attempt (not the trade at the channel: that is
    ``payments.ports.TradeState``). Its life: ``created`` (asked for, no money yet) →
    ``succeeded`` (its money paid the order) or ``returned`` (its money arrived for an order
    that could not take it and went back whole) or ``closed`` (given up; money that still
    arrives is returned)."""

    CREATED = "created"
    SUCCEEDED = "succeeded"
    RETURNED = "returned"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One payment attempt of an order through a channel.

    ``stored_as`` is the state the store held when the record was read (None: not stored
    yet). Writing a payment is a guarded transition: it succeeds only while the stored state
    is still ``stored_as`` (a new record only if none is stored), so two confirmations of
    one trade cannot both apply it."""

    id: str
    order_number: str
    account_id: str
    channel: str
    amount_fen: int
    state: PaymentRecordState
    created_at: datetime
    updated_at: datetime
    provider_trade_no: str | None = None
    stored_as: PaymentRecordState | None = field(default=None, compare=False)


DrainWork = Callable[
    [dict[RunKey, StoredState], dict[RunKey, list[OrderRecord]]],
    tuple[list[OrderRecord], list[tuple[RunKey, bytes, int]]],
]
"""Decides a claimed batch: (stored inventories, queued orders by run) → (changed orders,
(run, new state, version read) per run)."""


class OrdersStore(Protocol):
    """Orders, payments and ledger entries; ``write`` is one transaction (see the adapter)."""

    def next_number(self) -> str: ...

    def add(self, record: OrderRecord) -> OrderRecord: ...

    def add_many(self, records: Sequence[OrderRecord]) -> list[OrderRecord]: ...

    def next_numbers(self, count: int) -> list[str]: ...

    def by_keys(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OrderRecord]: ...

    def unpaid_counts(self, accounts: Sequence[str]) -> dict[str, int]: ...

    def overdue_of(self, accounts: Sequence[str], now: datetime) -> list[OrderRecord]: ...

    def cancelled_since(self, accounts: Sequence[str], since: datetime) -> dict[str, int]: ...

    def drain(
        self, runs: int, limit: int, now: datetime, work: DrainWork
    ) -> tuple[list[OrderRecord], Sequence[StoredState]]: ...

    def get(self, number: str) -> OrderRecord | None: ...

    def by_key(self, account_id: str, key: str) -> OrderRecord | None: ...

    def for_account(self, account_id: str, limit: int = 50) -> list[OrderRecord]: ...

    def newest(
        self, account_id: str | None, states: Sequence[OrderState] | None, limit: int
    ) -> list[OrderRecord]:
        """Orders newest first, of one account (None: all), in the stored states given (None:
        any)."""
        ...

    def unpaid_count(self, account_id: str) -> int: ...

    def queued_people(self, runs: Sequence[RunKey]) -> dict[tuple[RunKey, SeatClass], int]:
        """Passengers of the queued orders of these runs, by run and class."""
        ...

    def queue_ahead(self, number: str) -> tuple[int, datetime] | None:
        """Passengers queued before the order in its run and class (its place in the
        queue), and the moment its place comes (later than it was queued in the slow
        queue); None when the order is not queued."""
        ...

    def busy_intervals(self, person_keys: Sequence[str]) -> dict[str, list[tuple[int, int]]]: ...

    def runs_with_queued(self) -> list[RunKey]: ...

    def overdue(self, now: datetime, limit: int = 500) -> list[OrderRecord]: ...

    def entries(self, number: str) -> list[Entry]: ...

    def ledger_orders(self, after: str = "", limit: int = 500) -> list[str]:
        """Numbers of orders with ledger entries, in order, after ``after`` (a page)."""
        ...

    def ledger_totals(self, numbers: Sequence[str]) -> dict[str, Totals]:
        """Each order's ledger sums (orders with no entry left out)."""
        ...

    def payment(self, payment_id: str) -> PaymentRecord | None: ...

    def payments_for_order(self, number: str) -> list[PaymentRecord]:
        """Every payment recorded for the order (its own and its changes'), oldest first."""
        ...

    def credit_used(self, account_id: str) -> int: ...

    def save_payment(self, record: PaymentRecord) -> PaymentRecord:
        """Write one payment, guarded by ``record.stored_as`` (a conflict if the stored state
        moved on); the record as now stored."""
        ...

    def claim(self, key: RunKey, limit: int) -> tuple[StoredState | None, list[OrderRecord]]: ...

    def write(
        self,
        records: Sequence[OrderRecord],
        now: datetime,
        *,
        inventory: tuple[RunKey, bytes, int] | None = None,
        entries: Sequence[Entry] = (),
        payments: Sequence[PaymentRecord] = (),
    ) -> tuple[list[OrderRecord], StoredState | None]: ...


class MultiRunStore(OrdersStore, Protocol):
    """The orders store, able to write several runs' inventories in one transaction (a change
    takes a seat on one run and gives one back on another)."""

    def write_runs(
        self,
        records: Sequence[OrderRecord],
        now: datetime,
        *,
        inventories: Sequence[tuple[RunKey, bytes, int]],
        entries: Sequence[Entry] = (),
        payments: Sequence[PaymentRecord] = (),
    ) -> tuple[list[OrderRecord], Sequence[StoredState]]: ...


class CancelLog(Protocol):
    """How many orders an account cancelled since a moment."""

    def cancels_since(self, account_id: str, since: datetime) -> int: ...


class PendingState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PendingRefund:
    """A channel refund we owe: ``refund_no`` is its idempotency number at the channel;
    ``trade_no`` is our trade number there (the order number, or a change payment's)."""

    refund_no: str
    order_number: str
    trade_no: str
    channel: str
    amount_fen: int
    total_fen: int
    created_at: datetime
    next_at: datetime
    state: PendingState = PendingState.PENDING
    attempts: int = 0
    last_error: str = ""


class RefundQueue(Protocol):
    """Where pending refunds are kept (one row per refund number)."""

    def save_refund(self, refund: PendingRefund) -> None: ...

    def pending_refund(self, refund_no: str) -> PendingRefund | None: ...

    def due_refunds(self, now: datetime, limit: int) -> list[PendingRefund]: ...


class RefundBook(RefundQueue, Protocol):
    """The queue, able to list an order's refunds and the failed ones."""

    def refunds_for_order(self, order_number: str) -> list[PendingRefund]: ...

    def failed_refunds(self, limit: int) -> list[PendingRefund]: ...


class ChangePaymentState(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    EXPIRED = "expired"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class ChangePayment:
    """A dearer change waiting for its fare difference: the new seat is held on ``trip``.

    ``id`` is our trade number at the channel (the ticket number, ``C`` and the attempt).
    """

    id: str
    order_number: str
    ticket_number: str
    account_id: str
    channel: str
    amount_fen: int
    state: ChangePaymentState
    deadline: datetime
    created_at: datetime
    updated_at: datetime
    trip: Trip
    seat: SeatAssignment
    requested_at: datetime
    provider_trade_no: str | None = None


class ChangeBook(Protocol):
    """Where change payments are kept; ``write_change`` is one transaction with the order,
    inventories, ledger entries and payments (``expected`` None inserts)."""

    def change_payment(self, change_id: str) -> ChangePayment | None: ...

    def changes_for_ticket(self, ticket_number: str) -> list[ChangePayment]: ...

    def changes_for_order(self, order_number: str) -> list[ChangePayment]: ...

    def overdue_changes(self, now: datetime, limit: int = 100) -> list[ChangePayment]: ...

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
    ) -> tuple[list[OrderRecord], Sequence[StoredState]]: ...
