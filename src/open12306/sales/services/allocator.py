"""The allocator: drains a run's queue in batches and expires unpaid holds.

``drain(run)`` reads the run's queued orders as one batch, allocates them in memory on the
run's inventory and writes the holds (or failures), the inventory and the order states in one
transaction (group commit). A concurrent writer makes the transaction fail on a version check;
the whole batch is then redone on fresh state, so a seat-segment is never sold twice.

``drain_all`` does the same for many runs at once: one transaction claims up to ``runs`` runs
with queued orders (on PostgreSQL each allocator process claims runs no other holds), decides
their orders on inventories kept decoded between passes (``InventoryCache``) and writes every
order and inventory of the batch together.

``AllocatorLoop`` runs it in a background thread of the server process (embedded mode), after
admitting the submissions that wait (``OrderIntake``), with periodic chores beside it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from open12306.catalog.domain.composition import COMPOSITIONS
from open12306.catalog.services.catalog import Catalog
from open12306.inventory.domain import Allocation, Request, RunInventory
from open12306.inventory.domain.seats import Berth, Seat, SeatClass
from open12306.inventory.ports import StoredState
from open12306.inventory.services.cache import InventoryCache
from open12306.sales.domain import (
    DEFAULT_SALE_RULES,
    OrderState,
    SaleRules,
    SeatAssignment,
    Ticket,
    expire,
    fail,
    hold,
    is_overdue,
    pay_deadline,
)
from open12306.sales.domain.ledger import Entry
from open12306.sales.ports import DrainWork, OrderRecord, OrdersStore
from open12306.sales.services.intake import OrderIntake
from open12306.sales.services.order_watch import OrderWatch
from open12306.search.services.read_model import ReadModel
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError
from open12306.shared.run_key import RunKey

log = logging.getLogger("open12306.allocator")


def run_key(record: OrderRecord) -> RunKey:
    return (record.order.trip.train_code, record.order.trip.service_date)


class Allocator:
    """Turns queued orders into holds or failures, and overdue holds into expired orders."""

    def __init__(
        self,
        store: OrdersStore,
        catalog: Catalog,
        read_model: ReadModel,
        clock: Clock,
        conflict: type[Exception],
        rules: SaleRules = DEFAULT_SALE_RULES,
        batch: int = 500,
        retries: int = 50,
        runs: int = 256,
        watch: OrderWatch | None = None,
        cache_runs: int = 512,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.read_model = read_model
        self.clock = clock
        self.conflict = conflict
        self.rules = rules
        self.batch = batch
        self.retries = retries
        self.runs = runs
        self.conflicts = 0  # batches redone because another writer changed a run first
        self.watch = watch or OrderWatch()
        self.cache = InventoryCache(self._decode, cache_runs)
        self._warm_order: list[RunKey] = []
        self._warmed = 0  # runs of ``_warm_order`` looked at
        self._warm_for = -1  # how many runs were on sale when ``_warm_order`` was made
        self._seats: dict[str, tuple[Seat, ...]] = {}
        self.on_change: Callable[[], None] = lambda: None

    # --- helpers ---------------------------------------------------------------------------

    def seats_of(self, train_code: str) -> tuple[Seat, ...]:
        composition = self.catalog.train(train_code).composition
        held = self._seats.get(composition)
        if held is None:
            held = self._seats[composition] = COMPOSITIONS[composition].seats()
        return held

    def inventory(self, key: RunKey, state: bytes | None) -> RunInventory:
        if state is None:
            return self.catalog.empty_inventory(key[0])
        return self.catalog.decode(key[0], state)

    def _decode(self, key: RunKey, stored: StoredState | None) -> RunInventory:
        return self.inventory(key, None if stored is None else stored.state)

    def _stored(
        self,
        key: RunKey,
        saved: Sequence[OrderRecord],
        written: StoredState | None,
        inventory: RunInventory,
    ) -> None:
        """After a commit: keep the inventory for the next pass, tell readers and waiters."""
        if written is not None:
            self.cache.put(key, written.version, inventory)
            self.read_model.apply(written)
        self.watch.notify(saved)
        self.on_change()

    def with_inventory(
        self,
        key: RunKey,
        work: Callable[[RunInventory, datetime], Sequence[OrderRecord]],
        entries: Callable[[], Sequence[Entry]] = tuple,
    ) -> list[OrderRecord]:
        """Load the run, let ``work`` change the inventory and orders, write all at once;
        redone from scratch on a version conflict. ``entries`` gives the ledger entries the
        last run of ``work`` made, written in the same transaction."""
        for _ in range(self.retries):
            stored = self.store.claim(key, 0)[0]
            version = 0 if stored is None else stored.version
            inventory = self.cache.take(key, stored)
            now = self.clock.now()
            changed = work(inventory, now)
            if not changed:
                self.cache.put(key, version, inventory)
                return []
            try:
                saved, written = self.store.write(
                    changed, now, inventory=(key, inventory.encode(), version), entries=entries()
                )
            except self.conflict:
                continue
            self._stored(key, saved, written, inventory)
            return saved
        raise RuntimeError(f"{key}: too many concurrent writers")

    # --- allocation ------------------------------------------------------------------------

    def drain(self, key: RunKey) -> int:
        """Allocate the run's queued orders as batches; how many orders were decided."""
        done = 0
        for _ in range(self.retries):
            stored, queued = self.store.claim(key, self.batch)
            if not queued:
                return done
            version = 0 if stored is None else stored.version
            inventory = self.cache.take(key, stored)
            now = self.clock.now()
            decided = [self._decide(record, inventory, now) for record in queued]
            try:
                saved, written = self.store.write(
                    decided, now, inventory=(key, inventory.encode(), version)
                )
            except self.conflict:
                continue
            self._stored(key, saved, written, inventory)
            done += len(decided)
            if len(queued) < self.batch:
                return done
        return done

    def drain_all(self) -> int:
        """Allocate queued orders of many runs per transaction until none is left (or this
        allocator claimed none: other allocators hold the rest); how many were decided."""
        done = 0
        conflicts = 0
        while conflicts < self.retries:
            taken: dict[RunKey, RunInventory] = {}
            now = self.clock.now()
            work = self._batch_work(taken, now)
            try:
                saved, written = self.store.drain(self.runs, self.batch, now, work)
            except self.conflict:
                conflicts += 1
                self.conflicts += 1
                continue
            if not saved:
                return done
            for state in written:
                self.cache.put(state.key, state.version, taken[state.key])
                self.read_model.apply(state)
            self.watch.notify(saved)
            self.on_change()
            done += len(saved)
        return done

    def _batch_work(self, taken: dict[RunKey, RunInventory], now: datetime) -> DrainWork:
        """Decides a claimed batch; the inventories it used are left in ``taken``."""

        def work(
            stored: dict[RunKey, StoredState], queued: dict[RunKey, list[OrderRecord]]
        ) -> tuple[list[OrderRecord], list[tuple[RunKey, bytes, int]]]:
            decided: list[OrderRecord] = []
            states: list[tuple[RunKey, bytes, int]] = []
            for key, records in queued.items():
                held = stored.get(key)
                inventory = taken[key] = self.cache.take(key, held)
                decided.extend(self._decide(record, inventory, now) for record in records)
                states.append((key, inventory.encode(), 0 if held is None else held.version))
            return decided, states

        return work

    def _decide(self, record: OrderRecord, inventory: RunInventory, now: datetime) -> OrderRecord:
        order = record.order
        trip = order.trip
        deadline = pay_deadline(now, trip, self.rules)
        if deadline <= now or deadline <= order.queued_at:
            return dataclasses.replace(record, order=fail(order, "departure_too_close", now))
        request = Request(
            trip.seat_class,
            trip.from_stop,
            trip.to_stop,
            party=len(order.passengers),
            letters=record.letters,
            berths=tuple(None if b is None else Berth(b) for b in record.berths),
            together=record.together,
            allow_standing=record.allow_standing,
        )
        minutes = int((trip.departs_at - now).total_seconds() // 60)
        allocation = inventory.try_allocate(request, minutes)
        if allocation is None:
            return dataclasses.replace(record, order=fail(order, "sold_out", now))
        seats = self._assignments(record, allocation)
        return dataclasses.replace(
            record,
            order=hold(order, seats, deadline),
            standing_pool=allocation.standing_pool,
        )

    def _assignments(self, record: OrderRecord, allocation: Allocation) -> list[SeatAssignment]:
        order = record.order
        trip = order.trip
        train = self.catalog.train(trip.train_code)
        layout = self.seats_of(trip.train_code)
        priced_class = SeatClass.STANDING if allocation.standing else trip.seat_class
        out: list[SeatAssignment] = []
        for passenger, place in zip(order.passengers, allocation.seats, strict=True):
            price = self.catalog.price(
                train, priced_class, trip.from_stop, trip.to_stop, passenger.ticket_type
            )
            if place is None:
                out.append(SeatAssignment(0, "", price, None))
            else:
                seat = layout[place]
                out.append(SeatAssignment(seat.coach, seat.label, price, place))
        return out

    # --- releasing -------------------------------------------------------------------------

    def allocation_of(self, record: OrderRecord, passengers: Sequence[int]) -> Allocation:
        """What the order's seats for ``passengers`` took, to give back exactly."""
        trip = record.order.trip
        places = tuple(record.order.seats[p].seat_index for p in passengers)
        return Allocation(
            trip.seat_class, trip.from_stop, trip.to_stop, places, record.standing_pool
        )

    def expire_if_overdue(self, record: OrderRecord) -> OrderRecord:
        """Expire a held order whose deadline passed and put its seats back on sale."""
        if not is_overdue(record.order, self.clock.now()):
            return record
        expired = self.expire_run(run_key(record), {record.number})
        return next((r for r in expired if r.number == record.number), self._reload(record))

    def _reload(self, record: OrderRecord) -> OrderRecord:
        return self.store.get(record.number) or record

    def expire_run(self, key: RunKey, numbers: set[str]) -> list[OrderRecord]:
        """Expire the named overdue orders of one run in one transaction."""

        def work(inventory: RunInventory, now: datetime) -> list[OrderRecord]:
            changed: list[OrderRecord] = []
            for number in sorted(numbers):
                record = self.store.get(number)
                if record is None or not is_overdue(record.order, now):
                    continue
                everyone = range(len(record.order.passengers))
                inventory.release(self.allocation_of(record, everyone))
                changed.append(dataclasses.replace(record, order=expire(record.order, now)))
            return changed

        return self.with_inventory(key, work)

    def sweep(self) -> int:
        """Expire every overdue hold (the background sweeper); how many were expired."""
        overdue = self.store.overdue(self.clock.now())
        by_run: dict[RunKey, set[str]] = {}
        for record in overdue:
            if record.order.state is OrderState.HELD:
                by_run.setdefault(run_key(record), set()).add(record.number)
        return sum(len(self.expire_run(key, numbers)) for key, numbers in by_run.items())

    def run_once(self) -> int:
        """Drain every run with queued orders, then sweep; how many orders changed."""
        return self.drain_all() + self.sweep()

    def warm(self, limit: int = 16) -> int:
        """Decode up to ``limit`` runs on sale that the cache does not hold, soonest first,
        so the first order of a run after the sale opens finds it decoded; how many were
        done (0: the cache is full or every run was warmed once). A run changed since is
        decoded again when an order needs it (the cache checks the version)."""
        runs = self.read_model.runs
        if self._warm_for != len(runs):
            self._warm_for = len(runs)
            first = self.clock.now().date()  # at most a day early in the operator's zone
            ahead = (k for k in runs if k[1] >= first)
            self._warm_order = sorted(ahead, key=lambda k: (k[1], k[0]))
            self._warmed = 0
        done = 0
        while done < limit and self._warmed < len(self._warm_order) and not self.cache.full:
            key = self._warm_order[self._warmed]
            self._warmed += 1
            if self.cache.holds(key):
                continue
            self.cache.warm(key, *self._decoded_now(key))
            done += 1
        return done

    def _decoded_now(self, key: RunKey) -> tuple[int, RunInventory]:
        """The run's version and inventory as the read model holds them, decoded anew."""
        held = self.read_model.held_state(key)
        if held is None:
            return 0, self.catalog.empty_inventory(key[0])
        version, state = held
        if isinstance(state, bytes):
            return version, self.catalog.decode(key[0], state)
        return version, state.copy()


# Between two chunks of warming, the interpreter is left to the requests for this long.
WARM_PAUSE = 0.01


class AllocatorLoop:
    """A daemon thread that admits submitted orders in batches (``OrderIntake``) and drains
    queues, when woken and at least every ``interval`` s."""

    def __init__(
        self,
        allocator: Allocator,
        intake: OrderIntake | None = None,
        interval: float = 1.0,
        *,
        allocate: bool = True,
    ) -> None:
        self.allocator = allocator
        self.intake = intake
        self.interval = interval
        self.allocate = allocate
        self.chores: list[Callable[[], object]] = []
        self._chores_done = float("-inf")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if intake is not None:
            intake.wake = self.wake

    def wake(self, *_: object) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="allocator", daemon=True)
            self._thread.start()
            if self.intake is not None:
                self.intake.background = True

    def stop(self) -> None:
        if self.intake is not None:
            self.intake.background = False
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.intake is not None:
            self.intake.flush()

    def _run(self) -> None:
        if self.allocate:
            self.allocator.catalog.warm()
        warming = False  # an idle pass decoded runs ahead of need: go on after a short pause
        while not self._stop.is_set():
            self._wake.wait(WARM_PAUSE if warming else self.interval)
            self._wake.clear()
            warming = False
            try:
                # One batch, then its decisions: a steady stream of submissions does not
                # hold back the orders already admitted.
                admitted = self.intake.flush(1) if self.intake is not None else 0
                if self.intake is not None and self.intake.pending:
                    self._wake.set()
                decided = self.allocator.run_once() if self.allocate else 0
                if self.allocate and not decided and not admitted:
                    warming = self.allocator.warm() > 0
            except Exception:
                log.exception("allocator pass failed")
            self._run_chores()

    def _run_chores(self) -> None:
        """Periodic work beside allocation (refund retries, expired change payments), at most
        once per ``interval``; one failing chore does not stop the others."""
        now = time.monotonic()
        if now - self._chores_done < self.interval:
            return
        self._chores_done = now
        for chore in self.chores:
            try:
                chore()
            except Exception:
                log.exception("chore %s failed", getattr(chore, "__qualname__", chore))


def ticket_hold(
    allocator: Allocator, record: OrderRecord, ticket: Ticket
) -> tuple[RunKey, Allocation]:
    """The run ``ticket`` rides and what it holds in that run's inventory, to give back exactly.

    A ticket as issued holds its order's seat; a ticket made by a change holds the seat named
    by its coach and label on its own trip (changes never issue standing tickets).
    """
    trip = ticket.trip
    key = (trip.train_code, trip.service_date)
    if ticket.changes == 0:
        return key, allocator.allocation_of(record, [ticket.passenger])
    for index, seat in enumerate(allocator.seats_of(trip.train_code)):
        if seat.coach == ticket.coach and seat.label == ticket.seat_label:
            return key, Allocation(trip.seat_class, trip.from_stop, trip.to_stop, (index,), None)
    raise DomainError("ticket", "no_seat", f"{ticket.number} names no seat of its train")
