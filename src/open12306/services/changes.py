"""Changing a paid ticket (改签) and changing its destination (变更到站).

A ticket may be changed once, to another run, date or class between the same two places
(stations of the same city count as the same place, as on 12306), or, keeping its train, date
and boarding station, to another alighting station. Either way, in one transaction:

1. the new seat is allocated on the new run's inventory, *then* the old seat is released
   (on the same inventory object when the run does not change), so a rider is never left
   without a seat: a full target changes nothing (``sold_out``);
2. the old ticket becomes ``changed`` and a new ticket, one generation on, is issued;
3. a dearer ticket's difference is charged to the account's credit line (``credit``), a
   cheaper one's difference is refunded less the ladder fee on it (``domain.refunds``);
4. the ledger entries, the order (version-checked) and both inventories (version-checked)
   are written together, or nothing is.

The new trip goes through the sale rules again (sales closing, pre-sale window, overlapping
trips, without the ticket being changed) and the change window of ``check_change_window``.
The refund of a cheaper change then goes back through the channel that paid the order.

Every refusal is a DomainError with a stable reason: ``already_changed``, ``sold_out``,
``change_too_late``, ``departed``, ``not_same_route``, ``same_trip``, ``same_destination``,
``credit_limit``, ``overlapping_trip``, ``departure_too_close``, ``not_on_sale_yet``,
``bad_state``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, cast

from open12306.domain import ledger
from open12306.domain.errors import DomainError
from open12306.domain.inventory import Allocation, Request, RunInventory
from open12306.domain.orders import (
    DEFAULT_SALE_RULES,
    SaleRules,
    SeatAssignment,
    Ticket,
    TicketState,
    Trip,
    change_ticket,
    check_departure,
    check_overlaps,
    check_presale,
)
from open12306.domain.refunds import DEFAULT_LADDER, ChangeQuote, RefundLadder
from open12306.domain.seats import SeatClass
from open12306.services.allocator import Allocator, ticket_hold
from open12306.services.orders import OrderRequest, OrderService
from open12306.services.payments_port import PaymentProvider
from open12306.services.ports import Clock, RunKey, StoredState
from open12306.services.ports_accounts import Account
from open12306.services.ports_orders import (
    OrderRecord,
    OrdersStore,
    PaymentRecord,
    PaymentState,
)
from open12306.services.settlement import Settlement

log = logging.getLogger("open12306.changes")
CREDIT = "credit"
DEFAULT_CREDIT_LIMIT_FEN = 200_000


class ChangeRefused(DomainError):
    """A change that the state of things refuses (already changed, sold out, no credit)."""

    status = 409


class ChangeStore(OrdersStore, Protocol):
    """The orders store, able to write several runs' inventories in one transaction."""

    def write_runs(
        self,
        records: Sequence[OrderRecord],
        now: datetime,
        *,
        inventories: Sequence[tuple[RunKey, bytes, int]],
        entries: Sequence[ledger.Entry] = (),
        payments: Sequence[PaymentRecord] = (),
    ) -> tuple[list[OrderRecord], Sequence[StoredState]]: ...


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """Where to change a ticket to. ``from_station`` / ``to_station`` default to the ticket's
    own stations (or, when the new train does not call there, a station of the same city)."""

    train_code: str
    service_date: date
    seat_class: SeatClass
    from_station: str | None = None
    to_station: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What a change did: the order as written, the old and new tickets, the money."""

    record: OrderRecord
    old_ticket: Ticket
    new_ticket: Ticket
    quote: ChangeQuote
    payment_id: str | None


@dataclass
class _Run:
    key: RunKey
    inventory: RunInventory
    version: int


class ChangeService:
    """Changes tickets of paid orders (see the module doc)."""

    def __init__(
        self,
        store: ChangeStore,
        orders: OrderService,
        allocator: Allocator,
        clock: Clock,
        providers: Mapping[str, PaymentProvider],
        *,
        ladder: RefundLadder = DEFAULT_LADDER,
        rules: SaleRules = DEFAULT_SALE_RULES,
        credit_limit_fen: int = DEFAULT_CREDIT_LIMIT_FEN,
        conflict: type[Exception] = Exception,
        retries: int = 20,
    ) -> None:
        self.store = store
        self.orders = orders
        self.allocator = allocator
        self.clock = clock
        self.providers = providers
        self.ladder = ladder
        self.rules = rules
        self.credit_limit_fen = credit_limit_fen
        self.conflict = conflict
        self.retries = retries

    @classmethod
    def from_settlement(cls, settlement: Settlement) -> ChangeService:
        """A change service sharing the settlement's store, services, channels and limits."""
        if not hasattr(settlement.store, "write_runs"):
            raise TypeError("the orders store cannot write several runs in one transaction")
        return cls(
            cast(ChangeStore, settlement.store),
            settlement.orders,
            settlement.allocator,
            settlement.clock,
            settlement.providers,
            ladder=settlement.ladder,
            rules=settlement.orders.rules,
            credit_limit_fen=settlement.credit_limit_fen,
            conflict=settlement.conflict,
            retries=settlement.retries,
        )

    # --- entry points ----------------------------------------------------------------------

    def change(
        self, account: Account, number: str, ticket_number: str, request: ChangeRequest
    ) -> ChangeResult:
        """Change one issued ticket of the account's paid order to ``request`` (改签)."""
        record = self.orders.get(account, number)
        ticket = _changeable(record, ticket_number)
        train = self.orders.catalog.train(request.train_code)
        stations = [stop.station for stop in train.stops]
        from_station = self._same_place(stations, ticket.trip.from_station, request.from_station)
        to_station = self._same_place(stations, ticket.trip.to_station, request.to_station)
        trip = self._trip(
            request.train_code, request.service_date, from_station, to_station, request.seat_class
        )
        old = ticket.trip
        if (trip.train_code, trip.service_date, trip.from_stop, trip.to_stop, trip.seat_class) == (
            old.train_code,
            old.service_date,
            old.from_stop,
            old.to_stop,
            old.seat_class,
        ):
            raise DomainError("trip", "same_trip", "the new trip is the ticket's own trip")
        return self._apply(account, record, ticket, trip)

    def change_destination(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        to_station: str,
        seat_class: SeatClass | None = None,
    ) -> ChangeResult:
        """Change where one issued ticket ends (变更到站): same train, date and boarding
        station; another alighting station, and the class kept unless one is given."""
        record = self.orders.get(account, number)
        ticket = _changeable(record, ticket_number)
        old = ticket.trip
        trip = self._trip(
            old.train_code,
            old.service_date,
            old.from_station,
            to_station,
            seat_class or old.seat_class,
        )
        if trip.to_stop == old.to_stop:
            raise DomainError(
                "to", "same_destination", f"the ticket already ends at {old.to_station}"
            )
        return self._apply(account, record, ticket, trip)

    # --- building and checking the new trip ------------------------------------------------

    def _trip(
        self, train: str, day: date, from_station: str, to_station: str, seat_class: SeatClass
    ) -> Trip:
        return self.orders.trip(
            OrderRequest(train, day, from_station, to_station, seat_class, passenger_ids=())
        )

    def _same_place(self, stations: Sequence[str], old: str, given: str | None) -> str:
        """The station to use for ``old`` on a train calling at ``stations``."""
        catalog = self.orders.catalog
        if given is not None:
            wanted = given.strip().upper()
            if wanted != old.upper() and catalog.city_of(wanted) != catalog.city_of(old):
                raise DomainError(
                    "trip", "not_same_route", f"a change keeps the ticket's places ({old})"
                )
            return wanted
        if old in stations:
            return old
        for station in stations:
            if station in catalog.siblings(old):
                return station
        raise DomainError(
            "trip", "not_same_route", f"the new train does not call at {old} or its city"
        )

    def _check_trip(self, record: OrderRecord, ticket: Ticket, trip: Trip, now: datetime) -> None:
        check_departure(trip, now, self.rules)
        check_presale(trip, now, self.rules)
        key = record.person_keys[ticket.passenger]
        busy = list(self.store.busy_intervals([key]).get(key, ()))
        own = ticket.trip.interval
        if own in busy:
            busy.remove(own)
        passenger = record.order.passengers[ticket.passenger]
        check_overlaps(trip, [passenger], {passenger.key: busy})

    # --- the transaction -------------------------------------------------------------------

    def _apply(
        self, account: Account, record: OrderRecord, ticket: Ticket, trip: Trip
    ) -> ChangeResult:
        self._check_trip(record, ticket, trip, self.clock.now())
        for _ in range(self.retries):
            try:
                result = self._attempt(account, record.number, ticket.number, trip)
            except self.conflict:
                continue
            self._refund_difference(result)
            return result
        raise RuntimeError(f"order {record.number}: too many concurrent writers")

    def _attempt(
        self, account: Account, number: str, ticket_number: str, trip: Trip
    ) -> ChangeResult:
        fresh = self.store.get(number)
        if fresh is None:
            raise DomainError("order", "not_found", f"no order {number}")
        old = _changeable(fresh, ticket_number)
        now = self.clock.now()
        check_departure(trip, now, self.rules)
        old_run = self._load((old.trip.train_code, old.trip.service_date))
        new_key = (trip.train_code, trip.service_date)
        new_run = old_run if new_key == old_run.key else self._load(new_key)
        seat = self._secure(new_run.inventory, fresh, old, trip, now)
        order, quote = change_ticket(fresh.order, ticket_number, trip, seat, now, self.ladder)
        old_run.inventory.release(self.allocation_of(fresh, old))
        payments = self._charge(account, old, quote, now)
        entries = ledger.change_entries(old, quote, now, f"{ticket_number}-change")
        runs = [old_run] if new_run is old_run else [old_run, new_run]
        saved, written = self.store.write_runs(
            [dataclasses.replace(fresh, order=order)],
            now,
            inventories=[(r.key, r.inventory.encode(), r.version) for r in runs],
            entries=entries,
            payments=payments,
        )
        for state in written:
            self.allocator.read_model.apply(state)
        self.allocator.on_change()
        changed = saved[0]
        new_ticket = changed.order.tickets[-1]
        payment_id = payments[0].id if payments else None
        return ChangeResult(changed, old, new_ticket, quote, payment_id)

    def _load(self, key: RunKey) -> _Run:
        stored = self.store.claim(key, 0)[0]
        version = 0 if stored is None else stored.version
        state = None if stored is None else stored.state
        return _Run(key, self.allocator.inventory(key, state), version)

    def _secure(
        self,
        inventory: RunInventory,
        record: OrderRecord,
        old: Ticket,
        trip: Trip,
        now: datetime,
    ) -> SeatAssignment:
        """Take a seat for the passenger on the new trip (no standing), priced for them."""
        minutes = int((trip.departs_at - now).total_seconds() // 60)
        request = Request(trip.seat_class, trip.from_stop, trip.to_stop, party=1)
        allocation = inventory.try_allocate(request, minutes)
        if allocation is None or allocation.seats[0] is None:
            raise ChangeRefused(
                "seat_class", "sold_out", f"no {trip.seat_class.value} seat left on the new trip"
            )
        place = allocation.seats[0]
        seat = self.allocator.seats_of(trip.train_code)[place]
        train = self.orders.catalog.train(trip.train_code)
        passenger = record.order.passengers[old.passenger]
        price = self.orders.catalog.price(
            train, trip.seat_class, trip.from_stop, trip.to_stop, passenger.ticket_type
        )
        return SeatAssignment(seat.coach, seat.label, price, place)

    def allocation_of(self, record: OrderRecord, ticket: Ticket) -> Allocation:
        """What ``ticket`` holds in its run's inventory (see ``ticket_hold``)."""
        return ticket_hold(self.allocator, record, ticket)[1]

    # --- money -----------------------------------------------------------------------------

    def _charge(
        self, account: Account, old: Ticket, quote: ChangeQuote, now: datetime
    ) -> list[PaymentRecord]:
        """The credit-line payment of a dearer change (none for a cheaper one)."""
        if not quote.pay_fen:
            return []
        if self.store.credit_used(account.id) + quote.pay_fen > self.credit_limit_fen:
            raise ChangeRefused(
                "channel", "credit_limit", "the fare difference is above your remaining credit"
            )
        payment_id = f"{CREDIT}:{old.number}"
        return [
            PaymentRecord(
                payment_id,
                old.order_number,
                account.id,
                CREDIT,
                quote.pay_fen,
                PaymentState.SUCCEEDED,
                now,
                now,
                payment_id,
            )
        ]

    def _refund_difference(self, result: ChangeResult) -> None:
        """Send a cheaper change's refund back through the channel that paid the order."""
        refund = result.quote.refund_fen
        number = result.record.number
        if not refund:
            return
        for channel, provider in self.providers.items():
            paid = self.store.payment(f"{channel}:{number}")
            if paid is None or paid.state is not PaymentState.SUCCEEDED:
                continue
            refund_no = f"{result.old_ticket.number}C"
            try:
                provider.refund(number, refund_no, refund, paid.amount_fen)
            except Exception:
                log.exception(
                    "change refund %s via %s failed; retry from the ledger", refund_no, channel
                )
            return


def _changeable(record: OrderRecord, ticket_number: str) -> Ticket:
    """The ticket, if it may still be changed; ``already_changed`` once it (or the ticket it
    came from) was changed."""
    ticket = record.order.ticket(ticket_number)
    if ticket.state is TicketState.CHANGED or (
        ticket.state is TicketState.ISSUED and ticket.changes >= 1
    ):
        raise ChangeRefused("ticket", "already_changed", "a ticket can be changed only once")
    if ticket.state is not TicketState.ISSUED:
        raise DomainError("state", "bad_state", f"ticket {ticket.number} is {ticket.state}")
    return ticket
