"""Tickets sold on the train by a conductor: supplementary tickets (补票) and extensions (越站).

``sell`` sells one passenger a ticket from the stop the train is leaving to a destination; with
``extends`` it extends a live ticket of the run instead (from the ticket's destination, or,
when the passenger is found past it, from here with the ridden stretch charged and surcharged:
``travel.domain.onboard.fees``). Sales are open only while the train is on (or about to be on) the
segment leaving that stop (``travel.domain.onboard.window``; ``window=None`` turns the check off).
A seat is taken when one of the class is free on every remaining segment, else a standing
place; none left is ``sold_out``.

Payment goes through an ``OnboardPayment`` channel: ``credit`` (the passenger's own credit
line, "ride now, pay later", authorised by their account's bearer token) is built in; a
payment-code channel (``counter``) plugs in through the same port. In one transaction: the
run's inventory (version-checked: a concurrent sale makes the whole attempt start again), the
paid order with its ticket, the payment and the ledger entries. An authorisation made for an
attempt that is not written is voided. A repeated ``idempotency_key`` answers the sale the
first request made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from open12306.accounts.domain.identity import (
    Document,
    DocumentKind,
    parse_resident_id,
    ticket_type,
    validate_document,
)
from open12306.accounts.ports import Account, DocumentKeyer
from open12306.catalog.domain.fares import PassengerType
from open12306.catalog.domain.timetable import Train
from open12306.catalog.services.catalog import Catalog
from open12306.inventory.domain import Allocation, Request, RunInventory
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import (
    Passenger,
    SeatAssignment,
    Ticket,
    Trip,
    check_overlaps,
    hold,
    ledger,
    parse_ticket_number,
    pay,
    queue,
)
from open12306.sales.domain.ledger import Entry, EntryKind
from open12306.sales.ports import OrderRecord, PaymentRecord, PaymentRecordState
from open12306.search.services.read_model import ReadModel
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError, NotFound
from open12306.shared.run_key import RunKey
from open12306.travel.domain.onboard import (
    OnboardFees,
    OnboardPrice,
    SalePlan,
    SaleWindow,
    StaffMember,
    plan_extension,
    plan_supplementary,
    segment_leaving,
    supplementary_price,
    undeclared_ride_price,
)
from open12306.travel.ports import (
    Authorized,
    CreditLedger,
    OnboardCharge,
    OnboardPayment,
    OnboardSaleStore,
)
from open12306.travel.services.conductor import LIVE, ConductorService

CREDIT = "credit"
WALK_UP = "onboard"
FEE_REF = "onboard-fee"
RIDDEN_REF = "ridden-fare"
SURCHARGE_REF = "surcharge"
DEFAULT_CREDIT_LIMIT_FEN = 200_000  # as sales.services.checkout


class OnboardRefused(DomainError):
    """A sale the state of things refuses: nothing free, payment declined, not allowed."""

    status = 409


class Forbidden(DomainError):
    status = 403


# --- the payment port ----------------------------------------------------------------------


class CreditOnboardPayment:
    """The passenger's credit line (pay later): they show their account's bearer token (their
    phone, logged in); the charge must fit their remaining credit. Nothing leaves until
    settlement, so voiding is recording nothing."""

    channel = CREDIT

    def __init__(
        self,
        ledger: CreditLedger,
        authenticate: Callable[[str], Account],
        limit_fen: int = DEFAULT_CREDIT_LIMIT_FEN,
    ) -> None:
        self.ledger = ledger
        self.authenticate = authenticate
        self.limit_fen = limit_fen

    def _account(self, payer: str) -> Account:
        try:
            return self.authenticate(payer)
        except DomainError:
            raise OnboardRefused(
                "payment", "payer_unknown", "the passenger's account token is not valid"
            ) from None

    def account_of(self, payer: str) -> str:
        return self._account(payer).id

    def authorize(self, charge: OnboardCharge) -> Authorized:
        account = self._account(charge.payer)
        if self.ledger.credit_used(account.id) + charge.amount_fen > self.limit_fen:
            raise OnboardRefused(
                "payment", "credit_limit", "the charge is above the passenger's remaining credit"
            )
        payment_id = f"{CREDIT}:{charge.order_number}"
        record = PaymentRecord(
            payment_id,
            charge.order_number,
            account.id,
            CREDIT,
            charge.amount_fen,
            PaymentRecordState.SUCCEEDED,
            charge.at,
            charge.at,
            payment_id,
        )
        return Authorized(record)

    def void(self, authorized: Authorized) -> None:
        del authorized


# --- the store port ------------------------------------------------------------------------


# --- requests and results ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Traveller:
    """A walk-up passenger: name and travel document (checked like 12306's real-name rule)."""

    name: str
    document: Document


@dataclass(frozen=True, slots=True)
class SaleRequest:
    """A sale on run (``train_code``, ``service_date``) while leaving ``current_stop``.

    Either ``traveller`` (a supplementary ticket) or ``extends`` (a ticket number of this run
    to extend). ``seat_class`` None keeps an extended ticket's class."""

    train_code: str
    service_date: date
    current_stop: str
    to_station: str
    seat_class: SeatClass | None
    channel: str
    payer: str
    traveller: Traveller | None = None
    extends: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class SaleResult:
    """The sale as written: the order, its one ticket, the price and how it was paid."""

    record: OrderRecord
    ticket: Ticket
    price: OnboardPrice
    payment_id: str
    extends: str | None
    replayed: bool = False

    @property
    def standing(self) -> bool:
        return self.ticket.coach == 0


@dataclass(frozen=True, slots=True)
class _Sale:
    train: Train
    key: RunKey
    trip: Trip
    plan: SalePlan
    passenger: Passenger
    person_key: str
    passenger_id: str
    ridden_class: SeatClass | None
    extends: str | None


class OnboardSales:
    """Sells tickets on board (see the module doc)."""

    def __init__(
        self,
        store: OnboardSaleStore,
        conductor: ConductorService,
        read_model: ReadModel,
        keyer: DocumentKeyer,
        clock: Clock,
        zone: ZoneInfo,
        payments: Mapping[str, OnboardPayment],
        *,
        fees: OnboardFees | None = None,
        window: SaleWindow | None = SaleWindow(),
        conflict: type[Exception] = Exception,
        duplicate: type[Exception] = Exception,
        retries: int = 20,
    ) -> None:
        self.store = store
        self.conductor = conductor
        self.catalog: Catalog = conductor.catalog
        self.read_model = read_model
        self.keyer = keyer
        self.clock = clock
        self.zone = zone
        self.payments = dict(payments)
        self.fees = fees or OnboardFees()
        self.window = window
        self.conflict = conflict
        self.duplicate = duplicate
        self.retries = retries
        self.on_change: Callable[[], None] = lambda: None

    def sell(self, staff: StaffMember, request: SaleRequest) -> SaleResult:
        """Sell (or, for a repeated idempotency key, answer again) one ticket on board."""
        if not staff.sells:
            raise Forbidden("staff", "not_conductor", "only conductors sell tickets on board")
        payment = self.payments.get(request.channel)
        if payment is None:
            names = ", ".join(sorted(self.payments))
            raise DomainError("payment.channel", "unknown_channel", f"channels: {names}")
        account_id = payment.account_of(request.payer)
        key_text = _idempotency(staff, request.idempotency_key)
        if key_text is not None:
            found = self.store.by_key(account_id, key_text)
            if found is not None:
                return self._replayed(found)
        sale = self._prepare(request)
        self._check_overlaps(sale)
        number = self.store.next_number()
        for _ in range(self.retries):
            result = self._attempt(sale, number, account_id, key_text, payment, request.payer)
            if result is not None:
                return result
        raise RuntimeError(f"{sale.key}: too many concurrent writers")

    # --- what is sold ----------------------------------------------------------------------

    def _prepare(self, request: SaleRequest) -> _Sale:
        train, key = self.conductor.run(request.train_code, request.service_date)
        stations = [s.station for s in train.stops]
        stop_code = self.conductor.stop_code
        current = segment_leaving(stations, stop_code(stations, request.current_stop, "from"))
        destination = _stop(stations, stop_code(stations, request.to_station, "to"))
        self._check_window(train, key[1], current)
        if request.extends is not None:
            return self._extension(train, key, current, destination, request)
        if request.traveller is None:
            raise DomainError("passenger", "missing", "a passenger, or a ticket to extend")
        seat_class = request.seat_class or self._cheapest_seat(train)
        plan = plan_supplementary(current, destination, len(stations))
        trip = self._trip(train, key[1], plan, seat_class)
        passenger = self._passenger(request.traveller, trip.departs_at.date())
        person_key = self.keyer.key(passenger.document)
        if passenger.ticket_type is PassengerType.CHILD:
            person_key = f"{person_key}|{passenger.name.strip()}"
        return _Sale(train, key, trip, plan, passenger, person_key, WALK_UP, None, None)

    def _extension(
        self, train: Train, key: RunKey, current: int, destination: int, request: SaleRequest
    ) -> _Sale:
        number = request.extends or ""
        record, ticket = self._ticket_on_run(number, key)
        old = ticket.trip
        plan = plan_extension(old.from_stop, old.to_stop, current, destination, len(train.stops))
        seat_class = request.seat_class or old.seat_class
        trip = self._trip(train, key[1], plan, seat_class)
        ridden_class = SeatClass.STANDING if ticket.coach == 0 else old.seat_class
        return _Sale(
            train,
            key,
            trip,
            plan,
            record.order.passengers[ticket.passenger],
            record.person_keys[ticket.passenger],
            record.passenger_ids[ticket.passenger],
            ridden_class,
            ticket.number,
        )

    def _check_window(self, train: Train, day: date, current: int) -> None:
        if self.window is None:
            return
        midnight = datetime.combine(day, time(0), self.zone)
        depart, arrive = train.stops[current].depart, train.stops[current + 1].arrive
        assert depart is not None and arrive is not None  # current < last stop
        self.window.check(
            midnight + timedelta(minutes=depart),
            midnight + timedelta(minutes=arrive),
            self.clock.now(),
        )

    def _cheapest_seat(self, train: Train) -> SeatClass:
        seated = [c for c in self.catalog.classes(train.code) if c is not SeatClass.STANDING]
        return seated[-1] if seated else SeatClass.STANDING

    def _ticket_on_run(self, number: str, key: RunKey) -> tuple[OrderRecord, Ticket]:
        order_number = parse_ticket_number(number)[0]
        record = self.store.get(order_number)
        ticket = None
        if record is not None:
            ticket = next((t for t in record.order.tickets if t.number == number), None)
        if record is None or ticket is None:
            raise NotFound("extends", "unknown_ticket", f"no ticket {number}")
        if (ticket.trip.train_code, ticket.trip.service_date) != key:
            raise DomainError("extends", "wrong_run", f"{number} rides another run")
        if ticket.state not in LIVE:
            raise OnboardRefused("extends", "revoked", f"{number} is {ticket.state}")
        return record, ticket

    def _trip(self, train: Train, day: date, plan: SalePlan, seat_class: SeatClass) -> Trip:
        if seat_class not in self.catalog.classes(train.code):
            raise DomainError("seat_class", "not_sold", f"{train.code} sells no {seat_class}")
        i, j = plan.from_stop, plan.to_stop
        midnight = datetime.combine(day, time(0), self.zone)
        depart, arrive = train.stops[i].depart, train.stops[j].arrive
        assert depart is not None and arrive is not None  # i < last stop, j > 0
        return Trip(
            train.code,
            day,
            train.stops[i].station,
            train.stops[j].station,
            i,
            j,
            seat_class,
            midnight + timedelta(minutes=depart),
            midnight + timedelta(minutes=arrive),
        )

    def _passenger(self, traveller: Traveller, travel_day: date) -> Passenger:
        document = validate_document(traveller.document, travel_day)
        kind = PassengerType.ADULT
        if document.kind is DocumentKind.RESIDENT_ID:
            birth = parse_resident_id(document.number, travel_day).birth_date
            kind = ticket_type(birth, travel_day)
        return Passenger(traveller.name.strip(), document, kind)

    def _check_overlaps(self, sale: _Sale) -> None:
        busy = self.store.busy_intervals([sale.person_key]).get(sale.person_key, [])
        check_overlaps(sale.trip, [sale.passenger], {sale.passenger.key: busy})

    # --- the transaction -------------------------------------------------------------------

    def _attempt(
        self,
        sale: _Sale,
        number: str,
        account_id: str,
        key_text: str | None,
        payment: OnboardPayment,
        payer: str,
    ) -> SaleResult | None:
        stored = self.store.load(sale.key)
        version = 0 if stored is None else stored.version
        if stored is None:
            inventory = self.catalog.empty_inventory(sale.key[0])
        else:
            inventory = self.catalog.decode(sale.key[0], stored.state)
        now = self.clock.now()
        allocation = self._place(inventory, sale.trip, now)
        price = self._price(sale, allocation)
        seat = _seat(inventory, allocation, price.fare_fen)
        subject = f"{sale.trip.train_code} {sale.trip.from_station}-{sale.trip.to_station}"
        authorized = payment.authorize(OnboardCharge(number, price.total_fen, payer, subject, now))
        record = self._record(sale, number, account_id, key_text, seat, allocation, now)
        entries = _entries(record, price, authorized.payment, now)
        try:
            saved, written = self.store.insert_sale(
                record,
                inventory=(sale.key, inventory.encode(), version),
                entries=entries,
                payments=[authorized.payment],
            )
        except self.conflict:
            payment.void(authorized)
            return None
        except self.duplicate:
            payment.void(authorized)
            found = self.store.by_key(account_id, key_text or "")
            if found is None:  # pragma: no cover - the key row vanished meanwhile
                raise
            return self._replayed(found)
        except BaseException:
            payment.void(authorized)
            raise
        self.read_model.apply(written, inventory)
        self.on_change()
        ticket = saved.order.tickets[0]
        return SaleResult(saved, ticket, price, authorized.payment.id, sale.extends)

    def _place(self, inventory: RunInventory, trip: Trip, now: datetime) -> Allocation:
        minutes = int((trip.departs_at - now).total_seconds() // 60)
        i, j = trip.from_stop, trip.to_stop
        allocation = None
        if trip.seat_class is not SeatClass.STANDING:
            wanted = Request(trip.seat_class, i, j, allow_standing=True)
            allocation = inventory.try_allocate(wanted, minutes)
        if allocation is None:
            allocation = inventory.try_allocate(Request(SeatClass.STANDING, i, j), minutes)
        if allocation is None:
            raise OnboardRefused(
                "seat_class", "sold_out", f"no {trip.seat_class} seat or standing place left"
            )
        return allocation

    def _price(self, sale: _Sale, allocation: Allocation) -> OnboardPrice:
        priced = SeatClass.STANDING if allocation.standing else sale.trip.seat_class
        kind = sale.passenger.ticket_type
        i, j = sale.trip.from_stop, sale.trip.to_stop
        fare = self.catalog.price(sale.train, priced, i, j, kind)
        if sale.plan.ridden is None or sale.ridden_class is None:
            return supplementary_price(fare, self.fees)
        a, b = sale.plan.ridden
        ridden = self.catalog.price(sale.train, sale.ridden_class, a, b, kind)
        return undeclared_ride_price(fare, ridden, self.fees)

    def _record(
        self,
        sale: _Sale,
        number: str,
        account_id: str,
        key_text: str | None,
        seat: SeatAssignment,
        allocation: Allocation,
        now: datetime,
    ) -> OrderRecord:
        order = queue(number, account_id, sale.trip, [sale.passenger], now)
        order = hold(order, [seat], now + timedelta(minutes=1))
        order = pay(order, seat.fare_fen, now)
        return OrderRecord(
            order=order,
            passenger_ids=(sale.passenger_id,),
            person_keys=(sale.person_key,),
            idempotency_key=key_text,
            standing_pool=allocation.standing_pool,
        )

    def _replayed(self, record: OrderRecord) -> SaleResult:
        ticket = record.order.tickets[0]
        fees = {FEE_REF: 0, RIDDEN_REF: 0, SURCHARGE_REF: 0}
        payment_id = ""
        for entry in self.store.entries(record.number):
            if entry.kind is EntryKind.FEE and entry.reference in fees:
                fees[entry.reference] += entry.amount_fen
            elif entry.kind is EntryKind.PAYMENT:
                payment_id = entry.reference
        price = OnboardPrice(ticket.fare_fen, fees[FEE_REF], fees[RIDDEN_REF], fees[SURCHARGE_REF])
        return SaleResult(record, ticket, price, payment_id, None, replayed=True)


def _seat(inventory: RunInventory, allocation: Allocation, fare_fen: int) -> SeatAssignment:
    place = allocation.seats[0]
    if place is None:
        return SeatAssignment(0, "", fare_fen, None)
    seat = inventory.seats[place]
    return SeatAssignment(seat.coach, seat.label, fare_fen, place)


def _idempotency(staff: StaffMember, key: str | None) -> str | None:
    if not key:
        return None
    return f"onboard:{staff.id}:{key}"[:128]


def _stop(stations: Sequence[str], code: str) -> int:
    wanted = code.strip().upper()
    for index, station in enumerate(stations):
        if station.upper() == wanted:
            return index
    raise DomainError("to", "not_on_route", f"the train does not call at {code!r}")


def _entries(
    record: OrderRecord, price: OnboardPrice, payment: PaymentRecord, now: datetime
) -> list[Entry]:
    number = record.number
    ticket = record.order.tickets[0].number
    entries = [ledger.payment(number, price.total_fen, now, payment.id)]
    for amount, reference in (
        (price.fee_fen, FEE_REF),
        (price.ridden_fen, RIDDEN_REF),
        (price.surcharge_fen, SURCHARGE_REF),
    ):
        if amount:
            entries.append(Entry(number, EntryKind.FEE, amount, now, ticket, reference))
    return entries
