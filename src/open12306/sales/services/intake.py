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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from open12306.inventory.domain.seats import SeatClass
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
from open12306.sales.domain.slow_queue import DEFAULT_SLOW_QUEUE, SlowQueueRule, SubmissionRates
from open12306.sales.ports import DuplicateKey, OrderRecord, OrdersStore
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError
from open12306.shared.run_key import RunKey

Interval = tuple[int, int]


class IntakeBusy(DomainError):
    """The intake is full (the server is overloaded): the submission is shed at once, with
    when to try again (``retry_after`` seconds, the ``Retry-After`` header)."""

    status = 429

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("order", "busy", "too many orders at once; try again shortly")
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class QueueExceedsSeats(DomainError):
    """More passengers already wait in the run's queue for the class than it has seats left
    (12306: 排队人数已超过余票)."""

    status = 409

    def __init__(self, queued: int, remaining: int) -> None:
        super().__init__(
            "seat_class",
            "queue_exceeds_seats",
            f"排队人数已超过余票: {queued} passengers queued for {remaining} seats left",
        )


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
    client: str | None = None


Outcome = OrderRecord | DomainError


class Submissions(Protocol):
    """Where prepared submissions go: an ``OrderIntake`` here, or one in another process."""

    timeout: float

    def enqueue(self, submission: Submission) -> Future[OrderRecord] | None:
        """The future of the queued order; None: ``submit`` it (nothing admits in the
        background)."""
        ...

    def submit(self, submission: Submission) -> OrderRecord:
        """Queue the order and wait for it (DomainError when a rule refuses it)."""
        ...

    def retry_after(self) -> int:
        """Seconds a shed submission is told to wait (``Retry-After``)."""
        ...


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
        max_pending: int = 5000,
        slow_queue: SlowQueueRule = DEFAULT_SLOW_QUEUE,
    ) -> None:
        self.store = store
        self.clock = clock
        self.rules = rules
        self.zone = zone
        self.max_batch = max_batch
        self.timeout = timeout
        self.max_pending = max_pending
        self.rates = SubmissionRates(slow_queue)
        # Seats a trip's class has left (None: the queue is not checked against seats).
        self.seats_left: Callable[[Submission], int] | None = None
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
            raise IntakeBusy(self.retry_after()) from None

    def retry_after(self) -> int:
        """Seconds until a full intake has room again: one pass per ``max_batch`` waiting."""
        return 1 + len(self._pending) // max(1, self.max_batch)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def enqueue(self, submission: Submission) -> Future[OrderRecord] | None:
        """Hand the submission to the background flush: its future gives the queued order
        (or the DomainError that refused it). None when no flush runs: ``submit`` it."""
        if not self.background:
            return None
        future: Future[OrderRecord] = Future()
        with self._lock:
            if len(self._pending) >= self.max_pending:
                raise IntakeBusy(self.retry_after())
            self._pending.append((submission, future))
        self.wake()
        return future

    def flush(self, batches: int | None = None) -> int:
        """Admit what is waiting, one batch after another (at most ``batches`` of them); how
        many submissions were done."""
        done = 0
        while batches is None or batches > 0:
            if batches is not None:
                batches -= 1
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
        return done

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
        queued = self._queued(batch)
        outcomes: list[Outcome | None] = [None] * len(batch)
        first_of_key: dict[tuple[str, str], int] = {}
        accepted: list[int] = []
        before = dict(queued)
        suspects: set[int] = set()
        repeats: list[tuple[int, int]] = []
        for index, s in enumerate(batch):
            key = (s.account_id, s.idempotency_key) if s.idempotency_key else None
            if key is not None and key in known:
                outcomes[index] = known[key]
                continue
            if key is not None and key in first_of_key:
                repeats.append((index, first_of_key[key]))
                continue
            if self.rates.record(s.account_id, s.client, now):
                suspects.add(index)
            try:
                check_cancels(cancelled.get(s.account_id, 0), self.rules)
                self._check_queue(s, queued)
                self._check(s, now, unpaid, busy)
            except DomainError as error:
                outcomes[index] = error
                continue
            if key is not None:
                first_of_key[key] = index
            if self.seats_left is not None:
                queued[_queue_key(s)] = queued.get(_queue_key(s), 0) + len(s.passengers)
            accepted.append(index)
        self._queue(batch, accepted, outcomes, now, suspects, before)
        for index, first in repeats:
            outcomes[index] = outcomes[first]
        return [o for o in outcomes if o is not None]

    def _queued(self, batch: Sequence[Submission]) -> dict[tuple[RunKey, SeatClass], int]:
        if self.seats_left is None:
            return {}
        return self.store.queued_people(sorted({_run(s) for s in batch}))

    def _check_queue(self, s: Submission, queued: dict[tuple[RunKey, SeatClass], int]) -> None:
        """Refuse when the passengers already queued for the class take every seat it has
        left (an empty queue lets the allocator answer, e.g. ``sold_out``)."""
        if self.seats_left is None:
            return
        ahead = queued.get(_queue_key(s), 0)
        if ahead > 0:
            remaining = self.seats_left(s)
            if ahead + len(s.passengers) > remaining:
                raise QueueExceedsSeats(ahead, remaining)

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
        suspects: set[int],
        before: dict[tuple[RunKey, SeatClass], int],
    ) -> None:
        """Insert the accepted orders; a suspect submitter's take their place in the queue
        the slow queue's delay later. ``before``: passengers queued per run and class before
        the batch (empty when the queue is not counted)."""
        if not accepted:
            return
        late = now + self.rates.rule.delay
        numbers = self.store.next_numbers(len(accepted))
        records = [
            _record(batch[index], number, now, late if index in suspects else None)
            for index, number in zip(accepted, numbers, strict=True)
        ]
        try:
            stored = self.store.add_many(records)
        except DuplicateKey:
            stored = [self.store.add(r) for r in records]
        ahead = _places(stored, before) if self.seats_left is not None else {}
        for index, record in zip(accepted, stored, strict=True):
            outcomes[index] = replace(record, queue_ahead=ahead.get(record.number))


def _places(
    records: Sequence[OrderRecord], before: dict[tuple[RunKey, SeatClass], int]
) -> dict[str, int]:
    """Passengers ahead of each new order in its run's queue, taken in the allocator's order
    (queue time, then number) after those queued before the batch."""
    ahead: dict[str, int] = {}
    counted = dict(before)
    for r in sorted(records, key=lambda r: (r.queue_at or r.order.queued_at, r.number)):
        trip = r.order.trip
        key = ((trip.train_code, trip.service_date), trip.seat_class)
        ahead[r.number] = counted.get(key, 0)
        counted[key] = ahead[r.number] + len(r.order.passengers)
    return ahead


def _run(s: Submission) -> RunKey:
    return (s.trip.train_code, s.trip.service_date)


def _queue_key(s: Submission) -> tuple[RunKey, SeatClass]:
    return (_run(s), s.trip.seat_class)


def _record(s: Submission, number: str, at: datetime, queue_at: datetime | None) -> OrderRecord:
    return OrderRecord(
        order=queue(number, s.account_id, s.trip, s.passengers, at),
        passenger_ids=s.passenger_ids,
        person_keys=s.person_keys,
        idempotency_key=s.idempotency_key,
        letters=s.letters,
        berths=s.berths,
        together=s.together,
        allow_standing=s.allow_standing,
        queue_at=queue_at,
    )
