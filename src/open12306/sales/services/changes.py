"""Changing a paid ticket (改签) and changing its destination (变更到站).

A ticket may be changed once, to another run, date or class between the same two places
(stations of the same city count as the same place, as on 12306), or, keeping its train, date
and boarding station, to another alighting station. Either way, in one transaction:

1. the new seat is allocated on the new run's inventory, *then* the old seat is released
   (on the same inventory object when the run does not change), so a rider is never left
   without a seat: a full target changes nothing (``sold_out``);
2. the old ticket becomes ``changed`` and a new ticket, one generation on, is issued;
3. a dearer ticket's difference is charged to the account's credit line (``credit``, a
   provider that pays at once), a cheaper one's difference is refunded less the ladder fee on
   it (``domain.refunds``);
4. the ledger entries, the order (version-checked) and both inventories (version-checked)
   are written together, or nothing is.

A dearer change may instead be paid through a channel (``alipay``, ``wechatpay``, ``counter``):
the new seat is then *held* (written to the new run's inventory with a ``ChangePayment`` in
``pending``, in one transaction) and the channel prompt returned; the change completes (old seat
released, old ticket ``changed``, new ticket issued, payment in the ledger) when the payment is
confirmed (``confirm_change``, idempotent like order payments). If no payment comes by the
deadline, ``expire_changes`` releases the held seat and the old ticket stays valid; money that
still arrives, or arrives for a ticket that can no longer change, is refunded whole.

The new trip goes through the sale rules again (sales closing, pre-sale window, overlapping
trips, without the ticket being changed) and the change window of ``check_change_window``.
The refund of a cheaper change then goes back through the trades that paid the order
(``Settlement.send_refund``). A completed change trade is one of the order's trades
(``change_trades``): refunding the changed ticket later draws on it first.

Every refusal is a DomainError with a stable reason: ``already_changed``, ``sold_out``,
``change_too_late``, ``departed``, ``not_same_route``, ``same_trip``, ``same_destination``,
``credit_limit``, ``overlapping_trip``, ``departure_too_close``, ``not_on_sale_yet``,
``bad_state``, ``change_pending`` (a change of the ticket awaits its payment),
``channel_not_supported``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol, cast

from open12306.accounts.ports import Account
from open12306.catalog.domain.seats import SeatClass
from open12306.inventory.domain import Allocation, Request, RunInventory
from open12306.inventory.ports import StoredState
from open12306.payments.ports import (
    PaymentDeclined,
    PaymentError,
    PaymentFlow,
    PaymentOptions,
    PaymentProvider,
    TradeState,
)
from open12306.payments.services.channels import PaymentChannels
from open12306.payments.services.credit import CREDIT, CreditLineProvider
from open12306.sales.domain import (
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
    ledger,
)
from open12306.sales.domain.refund_split import Trade
from open12306.sales.domain.refunds import (
    DEFAULT_LADDER,
    ChangeQuote,
    RefundLadder,
    change_quote,
)
from open12306.sales.ports import (
    MultiRunStore,
    OrderRecord,
    PaymentRecord,
    PaymentRecordState,
)
from open12306.sales.services.allocator import Allocator, ticket_hold
from open12306.sales.services.checkout import (
    ChannelUnavailable,
    Outcome,
    Prompt,
    Settlement,
)
from open12306.sales.services.orders import OrderRequest, OrderService
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError
from open12306.shared.run_key import RunKey
from open12306.travel.services.ticket_usage import refuse_if_used

log = logging.getLogger("open12306.changes")
DEFAULT_CREDIT_LIMIT_FEN = 200_000
# what the rider is told when a provider declines before any money moved
_DECLINED = {"credit_limit": "the fare difference is above your remaining credit"}


class ChangeRefused(DomainError):
    """A change that the state of things refuses (already changed, sold out, no credit)."""

    status = 409


ChangeStore = MultiRunStore


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
        entries: Sequence[ledger.Entry] = (),
        payments: Sequence[PaymentRecord] = (),
    ) -> tuple[list[OrderRecord], Sequence[StoredState]]: ...


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A dearer change held until its payment: what to show the rider to pay."""

    change: ChangePayment
    quote: ChangeQuote
    prompt: Prompt


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
class ChangeOffer:
    """A change priced before the rider confirms it: the ticket, the trip it would move to,
    the money (``quote``), the channel a difference goes through unless another is chosen,
    the channels to choose from, and the seats the search shows left (not a promise)."""

    ticket: Ticket
    trip: Trip
    quote: ChangeQuote
    channel: str
    channels: tuple[str, ...]
    remaining: int


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
        settlement: Settlement | None = None,
        book: ChangeBook | None = None,
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
        self.settlement = settlement
        self.book = book
        # the settlement's channels (or these providers), with a credit line on this limit
        credit = CreditLineProvider(
            lambda account_id: self.store.credit_used(account_id), lambda: self.credit_limit_fen
        )
        channels = (
            PaymentChannels(providers, credit)
            if settlement is None
            else settlement.payment_channels.with_credit(credit)
        )
        self.payment_channels = channels
        if settlement is not None and book is not None:
            settlement.trade_handlers.append(self.confirm_change)
            settlement.trade_sources.append(self.change_trades)

    @classmethod
    def from_settlement(
        cls, settlement: Settlement, book: ChangeBook | None = None
    ) -> ChangeService:
        """A change service sharing the settlement's store, services, channels and limits;
        with ``book``, dearer changes can be paid through the settlement's channels (the
        settlement then hands it the notifications of change payments)."""
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
            settlement=settlement,
            book=book,
        )

    # --- entry points ----------------------------------------------------------------------

    def change(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        request: ChangeRequest,
        channel: str | None = None,
        options: PaymentOptions | None = None,
    ) -> ChangeResult | PendingChange:
        """Change one issued ticket of the account's paid order to ``request`` (改签); a
        dearer one is paid through ``channel`` (default: the channel that paid the order;
        pending until paid unless ``credit``)."""
        record, ticket, trip = self._change_target(account, number, ticket_number, request)
        return self._apply(
            account, record, ticket, trip, self.channel_for(number, channel), options
        )

    def change_destination(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        to_station: str,
        seat_class: SeatClass | None = None,
        channel: str | None = None,
        options: PaymentOptions | None = None,
    ) -> ChangeResult | PendingChange:
        """Change where one issued ticket ends (变更到站): same train, date and boarding
        station; another alighting station, and the class kept unless one is given."""
        record, ticket, trip = self._destination_target(
            account, number, ticket_number, to_station, seat_class
        )
        return self._apply(
            account, record, ticket, trip, self.channel_for(number, channel), options
        )

    def quote(
        self, account: Account, number: str, ticket_number: str, request: ChangeRequest
    ) -> ChangeOffer:
        """What changing the ticket to ``request`` would cost, before the rider confirms:
        the new fare, the difference to pay or to get back (less the fee), and the channel a
        difference is paid through by default. Nothing is taken or held."""
        record, ticket, trip = self._change_target(account, number, ticket_number, request)
        return self._offer(record, ticket, trip)

    def quote_destination(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        to_station: str,
        seat_class: SeatClass | None = None,
    ) -> ChangeOffer:
        """``quote`` for a change of destination (变更到站)."""
        record, ticket, trip = self._destination_target(
            account, number, ticket_number, to_station, seat_class
        )
        return self._offer(record, ticket, trip)

    def channel_for(self, number: str, channel: str | None) -> str:
        """The channel a dearer change of order ``number`` is paid through: the one asked
        for, else the one that paid the order (the credit line when nothing else did)."""
        if channel:
            return channel
        paid = None if self.settlement is None else self.settlement.paying_channel(number)
        return paid or CREDIT

    def channels(self) -> list[str]:
        """Channels a difference can be paid through here."""
        if self.settlement is None or self.book is None:
            return [CREDIT]
        return self.settlement.channels()

    def _change_target(
        self, account: Account, number: str, ticket_number: str, request: ChangeRequest
    ) -> tuple[OrderRecord, Ticket, Trip]:
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
        return record, ticket, trip

    def _destination_target(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        to_station: str,
        seat_class: SeatClass | None,
    ) -> tuple[OrderRecord, Ticket, Trip]:
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
        return record, ticket, trip

    def _offer(self, record: OrderRecord, ticket: Ticket, trip: Trip) -> ChangeOffer:
        now = self.clock.now()
        self._check_trip(record, ticket, trip, now)
        fare = self._fare(record, ticket, trip)
        quote = change_quote(
            self.ladder,
            ticket.fare_fen,
            fare,
            ticket.trip.departs_at,
            trip.departs_at,
            now,
            ticket.refund_floor,
        )
        remaining = self.orders.read_model.remaining(
            (trip.train_code, trip.service_date), trip.seat_class, trip.from_stop, trip.to_stop
        )
        channel = self.channel_for(record.number, None)
        return ChangeOffer(ticket, trip, quote, channel, tuple(self.channels()), remaining)

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
            # any form search takes (name, telecode, pinyin, initials; a city: the stop in it)
            wanted = catalog.stations.on_route(given, stations, "trip") or given.strip().upper()
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
        self,
        account: Account,
        record: OrderRecord,
        ticket: Ticket,
        trip: Trip,
        channel: str = CREDIT,
        options: PaymentOptions | None = None,
    ) -> ChangeResult | PendingChange:
        self._check_trip(record, ticket, trip, self.clock.now())
        if self.settlement is not None:
            self.settlement.check_returnable(record.number)  # a cheaper change refunds
        if not self._pays_at_once(channel):
            self._channel_ready(channel)
        self._check_no_pending(ticket.number)
        for _ in range(self.retries):
            try:
                result = self._attempt(account, record.number, ticket.number, trip, channel)
            except self.conflict:
                continue
            if isinstance(result, ChangePayment):
                return self._prompt(result, options or PaymentOptions())
            self._refund_difference(result)
            return result
        raise RuntimeError(f"order {record.number}: too many concurrent writers")

    def _attempt(
        self, account: Account, number: str, ticket_number: str, trip: Trip, channel: str = CREDIT
    ) -> ChangeResult | ChangePayment:
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
        if quote.pay_fen and not self._pays_at_once(channel):
            return self._hold(account, fresh, old, trip, seat, quote.pay_fen, new_run, channel)
        old_run.inventory.release(self.allocation_of(fresh, old))
        payments = self._charge(account, old, quote, now, channel)
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
        return SeatAssignment(seat.coach, seat.label, self._fare(record, old, trip), place)

    def _fare(self, record: OrderRecord, old: Ticket, trip: Trip) -> int:
        """The passenger's fare on ``trip`` (their ticket type's)."""
        train = self.orders.catalog.train(trip.train_code)
        passenger = record.order.passengers[old.passenger]
        return self.orders.catalog.price(
            train, trip.seat_class, trip.from_stop, trip.to_stop, passenger.ticket_type
        )

    def allocation_of(self, record: OrderRecord, ticket: Ticket) -> Allocation:
        """What ``ticket`` holds in its run's inventory (see ``ticket_hold``)."""
        return ticket_hold(self.allocator, record, ticket)[1]

    # --- money -----------------------------------------------------------------------------

    def _pays_at_once(self, channel: str) -> bool:
        """Whether ``channel`` pays in our own books (the credit line): a dearer change is
        then paid in its own transaction, without holding the seat first."""
        provider = self.payment_channels.get(channel)
        return provider is not None and provider.flow is PaymentFlow.AT_ONCE

    def _charge(
        self, account: Account, old: Ticket, quote: ChangeQuote, now: datetime, channel: str
    ) -> list[PaymentRecord]:
        """The payment of a dearer change through ``channel``, which pays at once (none for
        a cheaper change)."""
        if not quote.pay_fen:
            return []
        provider = self.payment_channels[channel]
        trip = old.trip
        subject = f"{trip.train_code} {trip.from_station}-{trip.to_station} change"
        try:
            prompt = provider.prepare(
                old.number, quote.pay_fen, subject, PaymentOptions(payer=account.id)
            )
        except PaymentDeclined as declined:
            why = _DECLINED.get(declined.code, declined.message)
            raise ChangeRefused("channel", declined.code, why) from None
        paid = prompt.status
        payment_id = f"{provider.name}:{old.number}"
        return [
            PaymentRecord(
                payment_id,
                old.order_number,
                account.id,
                provider.name,
                quote.pay_fen,
                PaymentRecordState.SUCCEEDED,
                now,
                now,
                payment_id if paid is None else paid.trade_no,
            )
        ]

    def change_trades(self, order_number: str) -> list[Trade]:
        """The channel trades that paid completed changes of the order (refunded from, later,
        like the order's own trade)."""
        if self.book is None:
            return []
        return [
            Trade(c.channel, c.id, c.amount_fen, 0, c.updated_at, c.ticket_number)
            for c in self.book.changes_for_order(order_number)
            if c.state is ChangePaymentState.COMPLETED
        ]

    def _refund_difference(self, result: ChangeResult) -> None:
        """Send a cheaper change's refund back through the trades that paid the order."""
        refund = result.quote.refund_fen
        number = result.record.number
        if not refund:
            return
        refund_no = f"{result.old_ticket.number}C"
        if self.settlement is not None:
            self.settlement.send_refund(number, refund_no, refund, [result.old_ticket.number])
            return
        for channel, provider in self.providers.items():
            paid = self.store.payment(f"{channel}:{number}")
            if paid is None or paid.state is not PaymentRecordState.SUCCEEDED:
                continue
            try:
                provider.refund(number, refund_no, refund, paid.amount_fen)
            except Exception:
                log.exception(
                    "change refund %s via %s failed; retry from the ledger", refund_no, channel
                )
            return

    # --- dearer changes paid through a channel ---------------------------------------------

    def _channel_ready(self, channel: str) -> None:
        if self.book is None or self.settlement is None:
            raise ChangeRefused(
                "channel", "channel_not_supported", "changes are paid by credit here"
            )
        if self.settlement.provider_for(channel) is None:
            raise DomainError(
                "channel", "unknown_channel", f"channels: {self.settlement.channels()}"
            )

    def _check_no_pending(self, ticket_number: str) -> None:
        if self.book is None:
            return
        self.expire_changes()
        for change in self.book.changes_for_ticket(ticket_number):
            if change.state is ChangePaymentState.PENDING:
                raise ChangeRefused(
                    "ticket",
                    "change_pending",
                    f"a change of {ticket_number} awaits payment until {change.deadline}",
                )

    def _hold(
        self,
        account: Account,
        record: OrderRecord,
        old: Ticket,
        trip: Trip,
        seat: SeatAssignment,
        amount_fen: int,
        new_run: _Run,
        channel: str,
    ) -> ChangePayment:
        """Write the new seat's hold and the change payment awaiting it, in one transaction."""
        book = self._need_book()
        now = self.clock.now()
        attempt = len(book.changes_for_ticket(old.number)) + 1
        closing = trip.departs_at - timedelta(minutes=self.rules.stop_sale_minutes)
        deadline = min(now + timedelta(minutes=self.rules.pay_minutes), closing)
        change = ChangePayment(
            f"{old.number}C{attempt}",
            record.number,
            old.number,
            account.id,
            channel,
            amount_fen,
            ChangePaymentState.PENDING,
            deadline,
            now,
            now,
            trip,
            seat,
            now,
        )
        _, written = book.write_change(
            change,
            None,
            now,
            inventories=[(new_run.key, new_run.inventory.encode(), new_run.version)],
        )
        self._published(written)
        return change

    def _prompt(self, change: ChangePayment, options: PaymentOptions) -> PendingChange:
        """Ask the channel for the difference; a channel failure gives the held seat back. A
        payment code is charged here and then: the change completes at once when it pays."""
        settlement = self._need_settlement()
        provider = settlement.provider_for(change.channel)
        trip = change.trip
        subject = f"{trip.train_code} {trip.from_station}-{trip.to_station} change"
        quote = self._pending_quote(change)
        scanned = provider is not None and provider.flow is PaymentFlow.PAYMENT_CODE
        if scanned and not (options.auth_code or "").strip().isdigit():
            self._release(change, ChangePaymentState.EXPIRED)
            raise DomainError(
                "auth_code", "payment_code_malformed", "a payment code is 16 to 24 digits"
            )
        asked = (
            PaymentOptions(auth_code=options.auth_code)
            if scanned
            else PaymentOptions(
                mode=options.mode, return_url=options.return_url, expires_at=change.deadline
            )
        )
        try:
            if provider is None:
                raise PaymentError(change.channel, "unknown_channel", "no such channel")
            prompt = provider.prepare(change.id, change.amount_fen, subject, asked)
        except PaymentError as exc:
            self._release(change, ChangePaymentState.EXPIRED)
            raise ChannelUnavailable(
                "channel", "channel_unavailable", f"{exc.code}: {exc.message}"
            ) from None
        paid = prompt.status
        if paid is not None and paid.state is TradeState.PAID:
            amount = paid.amount_fen or change.amount_fen
            outcome = self.confirm_change(change.channel, change.id, amount, paid.trade_no or "")
            state = "pending" if outcome is None else outcome.result
            return PendingChange(change, quote, Prompt(change.channel, change.id, state))
        shown = Prompt(change.channel, change.id, "pending", prompt.redirect_url, prompt.qr_content)
        return PendingChange(change, quote, shown)

    def _pending_quote(self, change: ChangePayment) -> ChangeQuote:
        record = self.store.get(change.order_number)
        old = None if record is None else record.order.ticket(change.ticket_number)
        old_fare = 0 if old is None else old.fare_fen
        return ChangeQuote(old_fare, change.seat.fare_fen, change.amount_fen, 0, 0, 0)

    def confirm_change(
        self, channel: str, trade_id: str, amount_fen: int, trade_no: str
    ) -> Outcome | None:
        """Apply a channel's payment for a change (None when ``trade_id`` is no change's);
        idempotent: a change completes once, money for one that cannot is refunded whole."""
        if self.book is None or self.book.change_payment(trade_id) is None:
            return None
        for _ in range(self.retries):
            try:
                return self._confirm_change_once(trade_id, amount_fen, trade_no)
            except self.conflict:
                continue
        raise RuntimeError(f"change {trade_id}: too many concurrent writers")

    def _confirm_change_once(self, trade_id: str, amount_fen: int, trade_no: str) -> Outcome:
        book = self._need_book()
        change = book.change_payment(trade_id)
        assert change is not None
        if change.state in (ChangePaymentState.COMPLETED, ChangePaymentState.RETURNED):
            return Outcome("duplicate", self.store.get(change.order_number))
        now = self.clock.now()
        fresh = self.store.get(change.order_number)
        payment = PaymentRecord(
            f"{change.channel}:{change.id}",
            change.order_number,
            change.account_id,
            change.channel,
            amount_fen,
            PaymentRecordState.SUCCEEDED,
            now,
            now,
            trade_no,
        )
        if (
            fresh is not None
            and change.state is ChangePaymentState.PENDING
            and now < change.deadline
            and amount_fen == change.amount_fen
        ):
            done = self._complete(change, fresh, payment, now)
            if done is not None:
                return done
        return self._return(change, payment, now)

    def _complete(
        self, change: ChangePayment, fresh: OrderRecord, payment: PaymentRecord, now: datetime
    ) -> Outcome | None:
        """The change, now paid: old seat released, tickets swapped, payment booked."""
        book = self._need_book()
        try:
            old = _changeable(fresh, change.ticket_number)
            order, quote = change_ticket(
                fresh.order,
                change.ticket_number,
                change.trip,
                change.seat,
                change.requested_at,
                self.ladder,
            )
        except DomainError:
            return None
        if quote.pay_fen != change.amount_fen:
            return None
        old_run = self._load((old.trip.train_code, old.trip.service_date))
        old_run.inventory.release(self.allocation_of(fresh, old))
        done = dataclasses.replace(
            change,
            state=ChangePaymentState.COMPLETED,
            updated_at=now,
            provider_trade_no=payment.provider_trade_no,
        )
        saved, written = book.write_change(
            done,
            ChangePaymentState.PENDING,
            now,
            records=[dataclasses.replace(fresh, order=order)],
            inventories=[(old_run.key, old_run.inventory.encode(), old_run.version)],
            entries=ledger.change_entries(old, quote, now, change.id),
            payments=[payment],
        )
        self._published(written)
        return Outcome("paid", saved[0])

    def _return(self, change: ChangePayment, payment: PaymentRecord, now: datetime) -> Outcome:
        """Money for a change that cannot complete: book it, give the seat back, refund it."""
        book = self._need_book()
        inventories = []
        if change.state is ChangePaymentState.PENDING:
            run = self._held_released(change)
            inventories = [(run.key, run.inventory.encode(), run.version)]
        amount = payment.amount_fen
        reference = payment.provider_trade_no or change.id
        entries = [
            ledger.payment(change.order_number, amount, now, reference, change.ticket_number),
            ledger.refund_of_payment(change.order_number, amount, now, reference),
        ]
        returned = dataclasses.replace(
            change,
            state=ChangePaymentState.RETURNED,
            updated_at=now,
            provider_trade_no=payment.provider_trade_no,
        )
        _, written = book.write_change(
            returned,
            change.state,
            now,
            inventories=inventories,
            entries=entries,
            payments=[dataclasses.replace(payment, state=PaymentRecordState.RETURNED)],
        )
        self._published(written)
        log.warning("change %s paid but cannot complete (%s): refunding", change.id, change.state)
        self._need_settlement().refund_through(
            change.channel, change.order_number, f"{change.id}R0", amount, amount, change.id
        )
        return Outcome("refunded", self.store.get(change.order_number))

    def expire_changes(self, limit: int = 100) -> int:
        """Release the seats of change payments past their deadline (the sweeper); the old
        tickets stay valid. How many were expired."""
        if self.book is None:
            return 0
        expired = 0
        for change in self.book.overdue_changes(self.clock.now(), limit):
            for _ in range(self.retries):
                try:
                    self._release(change, ChangePaymentState.EXPIRED)
                except self.conflict:
                    found = self.book.change_payment(change.id)
                    if found is None or found.state is not ChangePaymentState.PENDING:
                        break
                    change = found
                    continue
                expired += 1
                self._close_trade(change)
                break
        return expired

    def _release(self, change: ChangePayment, state: ChangePaymentState) -> None:
        book = self._need_book()
        now = self.clock.now()
        run = self._held_released(change)
        _, written = book.write_change(
            dataclasses.replace(change, state=state, updated_at=now),
            ChangePaymentState.PENDING,
            now,
            inventories=[(run.key, run.inventory.encode(), run.version)],
        )
        self._published(written)

    def _held_released(self, change: ChangePayment) -> _Run:
        trip = change.trip
        run = self._load((trip.train_code, trip.service_date))
        held = Allocation(
            trip.seat_class, trip.from_stop, trip.to_stop, (change.seat.seat_index,), None
        )
        run.inventory.release(held)
        return run

    def _close_trade(self, change: ChangePayment) -> None:
        provider = None if self.settlement is None else self.settlement.provider_for(change.channel)
        if provider is None:
            return
        try:
            provider.close(change.id)
        except Exception:
            log.warning("closing change trade %s failed; a late payment is refunded", change.id)

    def _published(self, written: Sequence[StoredState]) -> None:
        for state in written:
            self.allocator.read_model.apply(state)
        self.allocator.on_change()

    def _need_book(self) -> ChangeBook:
        if self.book is None:
            raise ChangeRefused("channel", "channel_not_supported", "changes are paid by credit")
        return self.book

    def _need_settlement(self) -> Settlement:
        if self.settlement is None:
            raise ChangeRefused("channel", "channel_not_supported", "changes are paid by credit")
        return self.settlement


def _changeable(record: OrderRecord, ticket_number: str) -> Ticket:
    """The ticket, if it may still be changed; ``already_changed`` once it (or the ticket it
    came from) was changed."""
    ticket = record.order.ticket(ticket_number)
    refuse_if_used(ticket)
    if ticket.state is TicketState.CHANGED or (
        ticket.state is TicketState.ISSUED and ticket.changes >= 1
    ):
        raise ChangeRefused("ticket", "already_changed", "a ticket can be changed only once")
    if ticket.state is not TicketState.ISSUED:
        raise DomainError("state", "bad_state", f"ticket {ticket.number} is {ticket.state}")
    return ticket
