"""The conductor's view of a run: the segment manifest, and ticket checks on board.

``manifest`` answers "who should be in which seat" for the segment leaving a stop, from the
run's live tickets (issued or used; refunded and changed ones are left out) and its stored
inventory. ``run_manifest`` is what a handheld syncs to check codes offline, and
``check_code`` runs the handheld's check (``travel.domain.onboard.check``) on the server's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date

from open12306.accounts.services.accounts import Unauthenticated
from open12306.catalog.domain.timetable import Train
from open12306.catalog.services.catalog import Catalog
from open12306.inventory.domain import RunInventory
from open12306.sales.domain import Ticket, TicketState
from open12306.sales.ports import OrderRecord
from open12306.shared.errors import NotFound
from open12306.shared.run_key import RunKey
from open12306.travel.domain.gate.ports import IssuerKeyring
from open12306.travel.domain.onboard import (
    OnboardCheck,
    RideTicket,
    RunManifest,
    SegmentManifest,
    StaffMember,
    build_segment_manifest,
    check_scanned,
    find_staff,
    parse_staff_tokens,
    segment_leaving,
)
from open12306.travel.ports import RunTickets

LIVE = (TicketState.ISSUED, TicketState.USED)
REVOKED = (TicketState.REFUNDED, TicketState.CHANGED)
RunsOn = Callable[[date, date], set[RunKey]]


class StaffTokens:
    """Staff bearer tokens (``travel.domain.onboard.staff``): who is calling, or 401."""

    def __init__(self, tokens: Mapping[str, StaffMember] | None = None) -> None:
        self.tokens = dict(tokens or {})

    @classmethod
    def from_text(cls, text: str) -> StaffTokens:
        return cls(parse_staff_tokens(text))

    def authenticate(self, token: str) -> StaffMember:
        member = find_staff(self.tokens, token)
        if member is None:
            raise Unauthenticated(
                "authorization", "not_staff", "a staff token is needed (OPEN12306_STAFF_TOKENS)"
            )
        return member


def tickets_on_run(records: list[OrderRecord], key: RunKey) -> Iterator[tuple[OrderRecord, Ticket]]:
    """Every ticket of ``records`` that rides the run ``key``."""
    for record in records:
        for ticket in record.order.tickets:
            if (ticket.trip.train_code, ticket.trip.service_date) == key:
                yield record, ticket


def ride_ticket(record: OrderRecord, ticket: Ticket) -> RideTicket:
    trip = ticket.trip
    return RideTicket(
        ticket.number,
        record.order.passengers[ticket.passenger].name,
        trip.seat_class,
        ticket.coach,
        ticket.seat_label,
        trip.from_stop,
        trip.to_stop,
        trip.from_station,
        trip.to_station,
        ticket.state.value,
    )


class ConductorService:
    """Manifests and ticket checks for staff on board."""

    def __init__(self, source: RunTickets, catalog: Catalog, runs: RunsOn) -> None:
        self.source = source
        self.catalog = catalog
        self.runs = runs

    def run(self, train_code: str, day: date) -> tuple[Train, RunKey]:
        """The train and run key; NotFound naming ``train`` or ``date``."""
        train = self.catalog.train(train_code)
        key = (train.code, day)
        if key not in self.runs(day, day):
            raise NotFound("date", "unknown_run", f"{train.code} does not run on {day}")
        return train, key

    def inventory(self, key: RunKey) -> RunInventory:
        stored = self.source.load(key)
        if stored is None:
            return self.catalog.empty_inventory(key[0])
        return self.catalog.decode(key[0], stored.state)

    def stop_code(self, stations: Sequence[str], stop: str, field: str = "stop") -> str:
        """The route's stop that ``stop`` names in any form search takes (a city: the stop in
        that city); UnknownStation for no station at all, ``stop`` itself when it is off the
        route (the route check then names it)."""
        return self.catalog.stations.on_route(stop, stations, field) or stop

    def manifest(self, train_code: str, day: date, stop: str) -> SegmentManifest:
        """Who should be where on the segment leaving ``stop`` (a station of the route)."""
        train, key = self.run(train_code, day)
        stations = [s.station for s in train.stops]
        segment = segment_leaving(stations, self.stop_code(stations, stop))
        inventory = self.inventory(key)
        live = [
            ride_ticket(record, ticket)
            for record, ticket in tickets_on_run(self.source.orders_on_run(key), key)
            if ticket.state in LIVE
        ]
        masks = [inventory.seat_mask(seat.index) for seat in inventory.seats]
        return build_segment_manifest(
            train.code, day, stations, segment, live, inventory.seats, masks
        )

    def run_manifest(self, train_code: str, day: date) -> RunManifest:
        """What a handheld syncs for the run: route, live and revoked ticket numbers."""
        train, key = self.run(train_code, day)
        live: list[str] = []
        revoked: list[str] = []
        for _, ticket in tickets_on_run(self.source.orders_on_run(key), key):
            if ticket.state in LIVE:
                live.append(ticket.number)
            elif ticket.state in REVOKED:
                revoked.append(ticket.number)
        stations = [s.station for s in train.stops]
        return RunManifest.of(train.code, day, stations, live, revoked)

    def check_code(
        self, data: bytes, train_code: str, day: date, stop: str, keyring: IssuerKeyring
    ) -> OnboardCheck:
        """The handheld's check of a scanned code on the segment leaving ``stop``."""
        run = self.run_manifest(train_code, day)
        segment = segment_leaving(run.stations, self.stop_code(run.stations, stop))
        return check_scanned(data, keyring, run, segment)
