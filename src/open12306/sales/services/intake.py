"""Group commit of submissions: many riders' orders checked and queued in one transaction.

A submission is prepared in the rider's request (the trip, the passengers, their keys); the
rules that read the database (idempotency keys, unpaid orders, cancels today, overlapping
trips) and the insert are done for a whole batch: a few queries and one insert transaction
for hundreds of orders.
Orders of one batch are checked against each other too (one person in two orders of the same
batch is seen). While a background thread ``flush``es (the allocator loop), ``submit`` hands
the submission over and waits for its batch; otherwise it admits it at once, alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from open12306.sales.domain import (
    DEFAULT_SALE_RULES,
    Passenger,
    PassengerKey,
    SaleRules,
    Trip,
    absolute_minutes,
    check_cancels,
    check_submission,
    queue,
)
from open12306.sales.ports import DuplicateKey, OrderRecord, OrdersStore
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError

Interval = tuple[int, int]


class IntakeBusy(DomainError):
    """The intake did not admit the submission in time (the server is overloaded)."""

    status = 503

    def __init__(self) -> None:
        super().__init__("order", "busy", "too many orders at once; try again shortly")


@dataclass(frozen=True, slots=True)
class Submission:
    """An order as prepared from the rider's request, before the rules that read the store."""

    account_id: str
    trip: Trip
    passengers: tuple[Passenger, ...]
    passenger_ids: tuple[str, ...]
    person_keys: tuple[str, ...]
    idempotency_key: str | None = None
    letters: tuple[str | None, ...] = ()
    berths: tuple[str | None, ...] = ()
    together: bool = True
    allow_standing: bool = False


Outcome = OrderRecord | DomainError


class OrderIntake:
    """Checks and queues submissions in batches (see the module docstring)."""

    def __init__(
        self,
        store: OrdersStore,
        clock: Clock,
        rules: SaleRules = DEFAULT_SALE_RULES,
        *,
        zone: tzinfo = UTC,
        max_batch: int = 1000,
        timeout: float = 30.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.rules = rules
        self.zone = zone
        self.max_batch = max_batch
        self.timeout = timeout
        self.expire_if_overdue: Callable[[OrderRecord], OrderRecord] = lambda r: r
        self.wake: Callable[[], None] = lambda: None
        self.background = False
        self._pending: list[tuple[Submission, Future[OrderRecord]]] = []
        self._lock = threading.Lock()

    def submit(self, submission: Submission) -> OrderRecord:
        """Queue the order (or find the one its idempotency key made); DomainError when a
        rule refuses it."""
        future = self.enqueue(submission)
        if future is None:
            outcome = self.admit([submission])[0]
            if isinstance(outcome, DomainError):
                raise outcome
            return outcome
        try:
            return future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            raise IntakeBusy() from None

    def enqueue(self, submission: Submission) -> Future[OrderRecord] | None:
        """Hand the submission to the background flush: its future gives the queued order
        (or the DomainError that refused it). None when no flush runs: ``submit`` it."""
        if not self.background:
            return None
        future: Future[OrderRecord] = Future()
        with self._lock:
            self._pending.append((submission, future))
        self.wake()
        return future

    def flush(self) -> int:
        """Admit what is waiting, one batch after another; how many submissions were done."""
        done = 0
        while True:
            with self._lock:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
            batch = [(s, f) for s, f in batch if f.set_running_or_notify_cancel()]
            if not batch:
                return done
            try:
                outcomes = self.admit([s for s, _ in batch])
            except Exception as error:  # the whole batch failed: every rider hears it
                for _, future in batch:
                    future.set_exception(error)
                raise
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, DomainError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            done += len(batch)

    def admit(self, batch: Sequence[Submission]) -> list[Outcome]:
        """Check the rules for the batch and queue the orders they allow (their numbers drawn
        at once, then one insert transaction for all of them)."""
        now = self.clock.now()
        accounts = sorted({s.account_id for s in batch})
        for overdue in self.store.overdue_of(accounts, now):
            self.expire_if_overdue(overdue)
        keys = [(s.account_id, s.idempotency_key) for s in batch if s.idempotency_key]
        known = self.store.by_keys(keys) if keys else {}
        unpaid = self.store.unpaid_counts(accounts)
        midnight = now.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        cancelled = self.store.cancelled_since(accounts, midnight)
        busy = self.store.busy_intervals(sorted({k for s in batch for k in s.person_keys}))
        outcomes: list[Outcome | None] = [None] * len(batch)
        first_of_key: dict[tuple[str, str], int] = {}
        accepted: list[int] = []
        repeats: list[tuple[int, int]] = []
        for index, s in enumerate(batch):
            key = (s.account_id, s.idempotency_key) if s.idempotency_key else None
            if key is not None and key in known:
                outcomes[index] = known[key]
                continue
            if key is not None and key in first_of_key:
                repeats.append((index, first_of_key[key]))
                continue
            try:
                check_cancels(cancelled.get(s.account_id, 0), self.rules)
                self._check(s, now, unpaid, busy)
            except DomainError as error:
                outcomes[index] = error
                continue
            if key is not None:
                first_of_key[key] = index
            accepted.append(index)
        self._queue(batch, accepted, outcomes, now)
        for index, first in repeats:
            outcomes[index] = outcomes[first]
        return [o for o in outcomes if o is not None]

    def _check(
        self,
        s: Submission,
        now: datetime,
        unpaid: dict[str, int],
        busy: dict[str, list[Interval]],
    ) -> None:
        existing: dict[PassengerKey, list[Interval]] = {}
        for passenger, key in zip(s.passengers, s.person_keys, strict=True):
            existing.setdefault(passenger.key, []).extend(busy.get(key, ()))
        check_submission(
            s.trip, s.passengers, now, unpaid.get(s.account_id, 0), existing, self.rules
        )
        unpaid[s.account_id] = unpaid.get(s.account_id, 0) + 1
        trip = (absolute_minutes(s.trip.departs_at), absolute_minutes(s.trip.arrives_at))
        for key in s.person_keys:
            busy.setdefault(key, []).append(trip)

    def _queue(
        self,
        batch: Sequence[Submission],
        accepted: Sequence[int],
        outcomes: list[Outcome | None],
        now: datetime,
    ) -> None:
        if not accepted:
            return
        numbers = self.store.next_numbers(len(accepted))
        records = [
            _record(batch[index], number, now)
            for index, number in zip(accepted, numbers, strict=True)
        ]
        try:
            stored = self.store.add_many(records)
        except DuplicateKey:
            stored = [self.store.add(r) for r in records]
        for index, record in zip(accepted, stored, strict=True):
            outcomes[index] = record


def _record(s: Submission, number: str, at: datetime) -> OrderRecord:
    return OrderRecord(
        order=queue(number, s.account_id, s.trip, s.passengers, at),
        passenger_ids=s.passenger_ids,
        person_keys=s.person_keys,
        idempotency_key=s.idempotency_key,
        letters=s.letters,
        berths=s.berths,
        together=s.together,
        allow_standing=s.allow_standing,
    )
