"""What a station's gates are given from the booking data: deny list and station manifest.

For a station and a moment, over the runs whose service date lies in a window around it:

- deny list: the numbers of refunded and changed tickets (their codes must stop working),
  and the accounts in transit arrears (``blocked_accounts``: hex account tokens);
- manifest: every run calling at the station (departure and arrival in unix seconds) and
  every issued ticket boarding or alighting there, with its check-in window and the salted
  hash of the passenger's document number (``travel.domain.gate.document_hash``), never the number.

The adapter (``travel.adapters.gate.bundle``) writes these with the issuer keys into a gate bundle.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from open12306.catalog.domain.station_index import StationIndex
from open12306.catalog.domain.timetable import Train
from open12306.sales.domain.tickets import TicketState
from open12306.sales.ports import OrderRecord
from open12306.shared.run_key import RunKey
from open12306.travel.domain.gate import (
    DenyLists,
    Manifest,
    ManifestRun,
    ManifestTicket,
    document_hash,
)
from open12306.travel.ports import GateTicketSource
from open12306.travel.services.ticket_codes import CheckInWindow

SALT_SIZE = 16
DAYS_BACK = 1
DAYS_AHEAD = 2


@dataclass(frozen=True, slots=True)
class StationContent:
    """The booking part of a station's gate bundle."""

    station: str
    first: date
    last: date
    deny: DenyLists
    manifest: Manifest
    # ticket number → the passenger's enrolled face embedding (those tickets need a face check)
    faces: Mapping[str, tuple[float, ...]] = field(default_factory=dict)


class GateBundleService:
    """Builds a station's deny list and manifest from the orders store."""

    def __init__(
        self,
        source: GateTicketSource,
        trains: Callable[[str], Train],
        run_keys: Callable[[date, date], Iterable[RunKey]],
        zone: ZoneInfo,
        window: CheckInWindow | None = None,
        salts: Callable[[], bytes] = lambda: secrets.token_bytes(SALT_SIZE),
        blocked_accounts: Callable[[], Iterable[str]] = tuple,
        faces: Callable[[Sequence[str]], Mapping[str, tuple[float, ...]]] | None = None,
        stations: StationIndex | None = None,
    ) -> None:
        self.blocked_accounts = blocked_accounts
        self.stations = stations
        self.source = source
        self.trains = trains
        self.run_keys = run_keys
        self.zone = zone
        self.window = window or CheckInWindow()
        self.salts = salts
        self.faces = faces

    def station_code(self, query: str) -> str:
        """The code of the station ``query`` names (``StationIndex.code_of``: a code as given,
        or the one station a name, pinyin or initials name; a city only through its namesake
        station): UnknownStation / AmbiguousStation, with suggestions, otherwise. Without a
        station index the query is taken as a code."""
        if self.stations is None:
            return query
        return self.stations.code_of(query, "station")

    def station_content(
        self,
        station: str,
        now: datetime,
        days_back: int = DAYS_BACK,
        days_ahead: int = DAYS_AHEAD,
    ) -> StationContent:
        """Deny list and manifest of the station ``station`` names (see ``station_code``) for
        runs with service dates from ``days_back`` days before ``now``'s date to
        ``days_ahead`` days after it (a run leaving late may board a station after midnight,
        hence the day back)."""
        station = self.station_code(station)
        today = now.astimezone(self.zone).date()
        first, last = today - timedelta(days=days_back), today + timedelta(days=days_ahead)
        revoked = frozenset(self.source.revoked_ticket_numbers(first, last))
        salt = self.salts()
        runs = self._runs(station, sorted(self.run_keys(first, last)))
        records = self.source.orders_with_issued_tickets(first, last)
        tickets = self._tickets(station, records, salt, first, last, revoked)
        blocked = frozenset(bytes.fromhex(token) for token in self.blocked_accounts())
        deny = DenyLists(tickets=revoked, accounts=blocked)
        faces = self._faces(records, {t.ticket_no for t in tickets})
        tickets = [
            dataclasses.replace(t, face_required=True) if t.ticket_no in faces else t
            for t in tickets
        ]
        return StationContent(station, first, last, deny, Manifest(salt, runs, tickets), faces)

    def _faces(
        self, records: Sequence[OrderRecord], listed: set[str]
    ) -> dict[str, tuple[float, ...]]:
        """Enrolled embeddings of the listed tickets' passengers, by ticket number."""
        if self.faces is None:
            return {}
        passenger_of = {
            t.number: r.passenger_ids[t.passenger]
            for r in records
            for t in r.order.tickets
            if t.number in listed and t.passenger < len(r.passenger_ids)
        }
        enrolled = self.faces(sorted(set(passenger_of.values())))
        return {no: enrolled[pid] for no, pid in passenger_of.items() if pid in enrolled}

    def _moment(self, service_date: date, minutes: int | None) -> int | None:
        if minutes is None:
            return None
        midnight = datetime.combine(service_date, time(0), self.zone)
        return int((midnight + timedelta(minutes=minutes)).timestamp())

    def _runs(self, station: str, keys: Sequence[RunKey]) -> list[ManifestRun]:
        runs = []
        for train_code, service_date in keys:
            train = self.trains(train_code)
            for stop in train.stops:
                if stop.station == station:
                    runs.append(
                        ManifestRun(
                            train.code,
                            service_date,
                            self._moment(service_date, stop.depart),
                            self._moment(service_date, stop.arrive),
                        )
                    )
        return runs

    def _tickets(
        self,
        station: str,
        records: Iterable[OrderRecord],
        salt: bytes,
        first: date,
        last: date,
        revoked: frozenset[str],
    ) -> list[ManifestTicket]:
        found = []
        for record in records:
            order = record.order
            for ticket in order.tickets:
                trip = ticket.trip
                if ticket.state is not TicketState.ISSUED or ticket.number in revoked:
                    continue
                if not first <= trip.service_date <= last:
                    continue
                if station not in (trip.from_station, trip.to_station):
                    continue
                valid_from, valid_until = self.window.bounds(trip.departs_at)
                document = order.passengers[ticket.passenger].document
                found.append(
                    ManifestTicket(
                        ticket_no=ticket.number,
                        train_code=trip.train_code,
                        service_date=trip.service_date,
                        from_station=trip.from_station,
                        to_station=trip.to_station,
                        valid_from=valid_from,
                        valid_until=valid_until,
                        document_hash=document_hash(document.number, salt),
                    )
                )
        return sorted(found, key=lambda t: t.ticket_no)
