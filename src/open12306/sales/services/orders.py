"""Submitting and reading orders: the rules are checked, then the order waits in its run's queue.

``submit`` answers at once with a ``queued`` order (admitted in a batch with other riders'
orders by ``OrderIntake``: one commit for many); the allocator (``sales.services.allocator``)
turns it into ``held`` or ``failed``. A retry with the same idempotency key returns the order
the first attempt made. Reading an order expires it first when its hold ran out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from open12306.accounts.domain.identity import age_on
from open12306.accounts.domain.passengers import Passenger as SavedPassenger
from open12306.accounts.ports import Account
from open12306.accounts.services.accounts import AccountService
from open12306.catalog.domain.fares import PassengerType
from open12306.catalog.services.catalog import Catalog
from open12306.inventory.domain.seats import Berth, SeatClass
from open12306.sales.domain import (
    DEFAULT_SALE_RULES,
    OrderState,
    Passenger,
    SaleRules,
    Trip,
)
from open12306.sales.domain.ledger import Totals
from open12306.sales.domain.slow_queue import DEFAULT_SLOW_QUEUE, SlowQueueRule
from open12306.sales.ports import OrderRecord, OrdersStore
from open12306.sales.services.intake import OrderIntake, Submission, Submissions
from open12306.sales.services.order_watch import OrderWatch
from open12306.search.services.read_model import ReadModel
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError, NotFound

INFANT_AGE = 6
QUEUE_RATE = 200.0  # passengers decided per second per run, for the wait estimate
_NO_MONEY_YET = (OrderState.QUEUED, OrderState.HELD, OrderState.FAILED)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a rider asks for: a run, a stretch of it, a class, and saved passengers."""

    train_code: str
    service_date: date
    from_station: str
    to_station: str
    seat_class: SeatClass
    passenger_ids: tuple[str, ...]
    letters: tuple[str | None, ...] = ()
    berths: tuple[str | None, ...] = ()
    together: bool = True
    allow_standing: bool = False


class SignedOut(Exception):
    """The bearer token names no live session (the route answers the request instead)."""


@runtime_checkable
class PreparingDesk(Protocol):
    """An intake in another process that also signs the rider in and prepares the order, so
    the server reads nothing for a submission (the order desk)."""

    timeout: float

    def prepare_and_submit(
        self,
        token: str | None,
        account: Account | None,
        request: OrderRequest,
        key: str | None,
        client: str | None,
    ) -> Future[tuple[Account, OrderRecord]]:
        """The rider's account (``account``, or the one ``token``'s session names) and the
        queued order (or the one ``key`` made); SignedOut, or the DomainError that refused it."""
        ...


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """Where a queued order stands: ``position`` 1 is next (counted in passengers of the
    same run and class queued before it, plus its own first), and the estimated wait in
    seconds (the passengers up to and including its own at ``queue_rate``, plus what is
    left of a slow-queue delay)."""

    position: int
    ahead: int
    wait_seconds: int


class OrderService:
    """Submits orders into the queue and reads them back for their owner."""

    def __init__(
        self,
        store: OrdersStore,
        catalog: Catalog,
        read_model: ReadModel,
        accounts: AccountService,
        clock: Clock,
        zone: ZoneInfo,
        rules: SaleRules = DEFAULT_SALE_RULES,
        *,
        expire: Callable[[OrderRecord], OrderRecord] | None = None,
        watch: OrderWatch | None = None,
        slow_queue: SlowQueueRule = DEFAULT_SLOW_QUEUE,
        max_pending: int = 5000,
        queue_rate: float = QUEUE_RATE,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.read_model = read_model
        self.accounts = accounts
        self.clock = clock
        self.zone = zone
        self.rules = rules
        self.intake = OrderIntake(
            store, clock, rules, zone=zone, slow_queue=slow_queue, max_pending=max_pending
        )
        self.intake.seats_left = self.seats_left
        self.queue_rate = queue_rate
        if expire is not None:
            self.intake.expire_if_overdue = expire
        self.watch = watch if watch is not None else OrderWatch()
        self.on_submit: Callable[[OrderRecord], None] = lambda _: None
        # Another process's intake taking this server's submissions (the order desk).
        self.desk: Submissions | None = None

    @property
    def submissions(self) -> Submissions:
        """Where prepared submissions go: the order desk when one runs, else ``intake``."""
        return self.desk if self.desk is not None else self.intake

    @property
    def expire_if_overdue(self) -> Callable[[OrderRecord], OrderRecord]:
        return self.intake.expire_if_overdue

    @expire_if_overdue.setter
    def expire_if_overdue(self, expire: Callable[[OrderRecord], OrderRecord]) -> None:
        self.intake.expire_if_overdue = expire

    def trip(self, request: OrderRequest) -> Trip:
        """The trip a request names, or NotFound / DomainError for an unknown run or stop."""
        train = self.catalog.train(request.train_code)
        if not self.read_model.has_run(train.code, request.service_date):
            raise NotFound(
                "run", "unknown_run", f"{train.code} does not run on {request.service_date}"
            )
        stations = [s.station for s in train.stops]
        i = self._stop_index(stations, request.from_station, "from")
        j = self._stop_index(stations, request.to_station, "to")
        if j <= i:
            raise DomainError("to", "bad_range", "the train calls at 'to' before 'from'")
        if request.seat_class not in self.catalog.classes(train.code):
            raise DomainError(
                "seat_class", "not_sold", f"{train.code} sells no {request.seat_class.value}"
            )
        midnight = datetime.combine(request.service_date, time(0), self.zone)
        depart = train.stops[i].depart
        arrive = train.stops[j].arrive
        assert depart is not None and arrive is not None  # i < last stop, j > 0
        return Trip(
            train.code,
            request.service_date,
            stations[i],
            stations[j],
            i,
            j,
            request.seat_class,
            midnight + timedelta(minutes=depart),
            midnight + timedelta(minutes=arrive),
        )

    def _stop_index(self, stations: Sequence[str], query: str, field: str) -> int:
        """The stop ``query`` names in any form search takes (a city: the stop in that city);
        UnknownStation (with suggestions) or ``not_on_route``."""
        code = self.catalog.stations.on_route(query, stations, field)
        if code is None:
            raise DomainError(field, "not_on_route", f"the train does not call at {query!r}")
        return stations.index(code)

    def seats_left(self, submission: Submission) -> int:
        """Places the submission's class has left on its stretch now (standing room too when
        the order takes it), as the read model sees them."""
        trip = submission.trip
        key = (trip.train_code, trip.service_date)
        minutes = int((trip.departs_at - self.clock.now()).total_seconds() // 60)
        left = self.read_model.remaining(
            key, trip.seat_class, trip.from_stop, trip.to_stop, minutes
        )
        if submission.allow_standing and trip.seat_class is not SeatClass.STANDING:
            left += self.read_model.remaining(
                key, SeatClass.STANDING, trip.from_stop, trip.to_stop, minutes
            )
        return left

    def queue_place(self, record: OrderRecord) -> QueuePlace | None:
        """Where the order stands in its run's queue; None once it is no longer queued."""
        if record.order.state is not OrderState.QUEUED:
            return None
        if record.queue_ahead is not None:  # just admitted: the intake counted the queue
            ahead, due = record.queue_ahead, record.queue_at or record.order.queued_at
        else:
            spot = self.store.queue_ahead(record.number)
            if spot is None:
                return None
            ahead, due = spot
        now = self.clock.now()
        if due.tzinfo is None:  # SQLite keeps the wall time the clock wrote
            due = due.replace(tzinfo=now.tzinfo)
        slow = max(0.0, (due - now).total_seconds())
        wait = math.ceil(slow + (ahead + len(record.order.passengers)) / self.queue_rate)
        return QueuePlace(ahead + 1, ahead, max(1, wait))

    def submit(
        self,
        account: Account,
        request: OrderRequest,
        idempotency_key: str | None = None,
        client: str | None = None,
    ) -> OrderRecord:
        """Check the sale rules and queue the order; the earlier order for a repeated key.
        ``client`` is the caller's address (the slow queue counts submissions by it)."""
        begun = self.begin(account, request, idempotency_key, client)
        if isinstance(begun, OrderRecord):
            return begun
        record = self.submissions.submit(begun)
        self.on_submit(record)
        return record

    def begin(
        self,
        account: Account,
        request: OrderRequest,
        idempotency_key: str | None = None,
        client: str | None = None,
    ) -> Submission | OrderRecord:
        """The submission to hand to ``intake``; the order a repeated key made when the
        request can no longer be prepared (e.g. its passenger was deleted since)."""
        try:
            return self.prepare(account, request, idempotency_key, client)
        except DomainError:
            existing = self.store_by_key(account, idempotency_key) if idempotency_key else None
            if existing is None:
                raise
            return existing

    def prepare(
        self,
        account: Account,
        request: OrderRequest,
        idempotency_key: str | None = None,
        client: str | None = None,
    ) -> Submission:
        """The order a request names, with what the rules need that needs no order store."""
        trip = self.trip(request)
        saved = self._saved_passengers(account, request.passenger_ids)
        travel_day = trip.departs_at.date()
        passengers = tuple(_order_passenger(p, travel_day) for p in saved)
        return Submission(
            account_id=account.id,
            trip=trip,
            passengers=passengers,
            passenger_ids=tuple(p.id for p in saved),
            person_keys=tuple(
                self._person_key(p, q) for p, q in zip(saved, passengers, strict=True)
            ),
            idempotency_key=idempotency_key or None,
            letters=request.letters,
            berths=request.berths,
            together=request.together,
            allow_standing=request.allow_standing,
            client=client,
        )

    def _saved_passengers(self, account: Account, ids: Sequence[str]) -> list[SavedPassenger]:
        if len(ids) == 1:
            return [self.accounts.passenger(account, ids[0])]
        known = {p.id: p for p in self.accounts.passengers(account)}
        return [known[i] if i in known else self.accounts.passenger(account, i) for i in ids]

    def store_by_key(self, account: Account, key: str) -> OrderRecord | None:
        return self.store.by_key(account.id, key)

    def get(self, account: Account, number: str) -> OrderRecord:
        """The account's order (NotFound for anyone else's), expired first when overdue."""
        record = self.store.get(number)
        if record is None or record.order.account != account.id:
            raise NotFound("order", "not_found", f"no order {number}")
        return self.expire_if_overdue(record)

    def newest(
        self, account_id: str | None, state: OrderState | None, limit: int
    ) -> list[OrderRecord]:
        """Every account's orders (or one's) for operators, newest first, in ``state`` as
        they are after expiry (an expired order may still be stored as held)."""
        stored = None if state is None else [state]
        if state is OrderState.EXPIRED:
            stored = [OrderState.EXPIRED, OrderState.HELD]
        records = [self.expire_if_overdue(r) for r in self.store.newest(account_id, stored, limit)]
        return [r for r in records if state is None or r.order.state is state]

    def list(self, account: Account, limit: int = 50) -> list[OrderRecord]:
        return [self.expire_if_overdue(r) for r in self.store.for_account(account.id, limit)]

    def money(self, records: Sequence[OrderRecord]) -> dict[str, Totals]:
        """What the ledger says each order took and gave back (orders still queued or held
        have moved no money: they are not asked for)."""
        settled = [r.number for r in records if r.order.state not in _NO_MONEY_YET]
        found = self.store.ledger_totals(settled)
        return {r.number: found.get(r.number, Totals()) for r in records}

    def _person_key(self, saved: SavedPassenger, passenger: Passenger) -> str:
        key = self.accounts.keyer.key(saved.document)
        if passenger.ticket_type is PassengerType.CHILD:
            return f"{key}|{passenger.name.strip()}"
        return key


def _order_passenger(saved: SavedPassenger, travel_day: date) -> Passenger:
    kind = saved.ticket_type_on(travel_day)
    infant = kind is PassengerType.CHILD and age_on(saved.birth_date, travel_day) < INFANT_AGE
    return Passenger(saved.name, saved.document, kind, infant)


_BERTHS = frozenset(b.value for b in Berth)


def parse_berths(values: Sequence[str | None]) -> tuple[str | None, ...]:
    """Berth preferences as stored (values of Berth), checked."""
    out: list[str | None] = []
    for value in values:
        if value is not None and value not in _BERTHS:
            raise DomainError("berths", "invalid", "berths are lower, middle or upper")
        out.append(value)
    return tuple(out)
