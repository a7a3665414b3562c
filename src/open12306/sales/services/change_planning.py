"""Planning a ticket change before anything is taken: the new trip (same places, or another
alighting station), the sale rules again (sales closing, pre-sale window, overlapping trips
without the ticket being changed), its fare, the money (``domain.refunds.change_quote``) and the
channel a difference is paid through."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from open12306.accounts.ports import Account
from open12306.inventory.domain.seats import SeatClass
from open12306.payments.services.credit import CREDIT
from open12306.sales.domain import (
    Ticket,
    Trip,
    check_departure,
    check_overlaps,
    check_presale,
)
from open12306.sales.domain.refunds import change_quote
from open12306.sales.ports import OrderRecord
from open12306.sales.services.change_model import ChangeOffer, ChangePart, ChangeRequest, changeable
from open12306.sales.services.orders import OrderRequest
from open12306.shared.errors import DomainError


class ChangePlanning(ChangePart):
    """The new trip of a change, checked and priced."""

    def channel_for(self, number: str, channel: str | None) -> str:
        """The channel a dearer change of order ``number`` is paid through: the one asked
        for, else the one that paid the order (the credit line when nothing else did)."""
        if channel:
            return channel
        paid = (
            None
            if self.context.settlement is None
            else self.context.settlement.paying_channel(number)
        )
        return paid or CREDIT

    def channels(self) -> list[str]:
        """Channels a difference can be paid through here."""
        if self.context.settlement is None or self.context.book is None:
            return [CREDIT]
        return self.context.settlement.channels()

    def change_target(
        self, account: Account, number: str, ticket_number: str, request: ChangeRequest
    ) -> tuple[OrderRecord, Ticket, Trip]:
        """The account's order, its ticket and the trip ``request`` changes it to (同城 stations
        count as the same place)."""
        record = self.context.orders.get(account, number)
        ticket = changeable(record, ticket_number)
        train = self.context.orders.catalog.train(request.train_code)
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

    def destination_target(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        to_station: str,
        seat_class: SeatClass | None,
    ) -> tuple[OrderRecord, Ticket, Trip]:
        """The account's order, its ticket and the same trip ending at ``to_station``."""
        record = self.context.orders.get(account, number)
        ticket = changeable(record, ticket_number)
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

    def offer(self, record: OrderRecord, ticket: Ticket, trip: Trip) -> ChangeOffer:
        """The change to ``trip`` priced, with the default channel and the seats left."""
        now = self.context.clock.now()
        self.check_trip(record, ticket, trip, now)
        fare = self.fare(record, ticket, trip)
        quote = change_quote(
            self.context.ladder,
            ticket.fare_fen,
            fare,
            ticket.trip.departs_at,
            trip.departs_at,
            now,
            ticket.refund_floor,
        )
        remaining = self.context.orders.read_model.remaining(
            (trip.train_code, trip.service_date), trip.seat_class, trip.from_stop, trip.to_stop
        )
        channel = self.channel_for(record.number, None)
        return ChangeOffer(ticket, trip, quote, channel, tuple(self.channels()), remaining)

    def _trip(
        self, train: str, day: date, from_station: str, to_station: str, seat_class: SeatClass
    ) -> Trip:
        return self.context.orders.trip(
            OrderRequest(train, day, from_station, to_station, seat_class, passenger_ids=())
        )

    def _same_place(self, stations: Sequence[str], old: str, given: str | None) -> str:
        """The station to use for ``old`` on a train calling at ``stations``."""
        catalog = self.context.orders.catalog
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

    def check_trip(self, record: OrderRecord, ticket: Ticket, trip: Trip, now: datetime) -> None:
        """The sale rules on the new trip (departure, pre-sale window, overlapping trips
        of the passenger, the ticket being changed left out)."""
        check_departure(trip, now, self.context.rules)
        check_presale(trip, now, self.context.rules)
        key = record.person_keys[ticket.passenger]
        busy = list(self.context.store.busy_intervals([key]).get(key, ()))
        own = ticket.trip.interval
        if own in busy:
            busy.remove(own)
        passenger = record.order.passengers[ticket.passenger]
        check_overlaps(trip, [passenger], {passenger.key: busy})

    def fare(self, record: OrderRecord, old: Ticket, trip: Trip) -> int:
        """The passenger's fare on ``trip`` (their ticket type's)."""
        train = self.context.orders.catalog.train(trip.train_code)
        passenger = record.order.passengers[old.passenger]
        return self.context.orders.catalog.price(
            train, trip.seat_class, trip.from_stop, trip.to_stop, passenger.ticket_type
        )
