"""The conductor's handheld: check a scanned e-ticket code on board, offline.

The handheld holds what a gate holds (the issuer's public keys, see ``travel.domain.gate``) and the
run's manifest as synced: its route, the live ticket numbers and the revoked ones (refunded
or changed). A code passes when it is authentic, is for this run, is not revoked, is listed,
and rides the segment the train is on. The first failing check gives the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from open12306.travel.domain.codes import CodeError, TicketCode, open_ticket
from open12306.travel.domain.gate.ports import RETIRED, TRUSTED, IssuerKeyring


class OnboardReason(StrEnum):
    """Why a code passed or not on board. Values are stable."""

    OK = "ok"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    RETIRED_KEY = "retired_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_RUN = "wrong_run"
    REVOKED = "revoked"
    NOT_IN_MANIFEST = "not_in_manifest"
    OFF_ROUTE = "off_route"
    NOT_BOARDED_YET = "not_boarded_yet"
    BEYOND_DESTINATION = "beyond_destination"


@dataclass(frozen=True, slots=True)
class RunManifest:
    """What the handheld synced for one run: its route (telecodes), the numbers of its live
    tickets and of revoked ones."""

    train_code: str
    service_date: date
    stations: tuple[str, ...]
    live: frozenset[str] = field(default_factory=frozenset)
    revoked: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        train_code: str,
        service_date: date,
        stations: Sequence[str],
        live: Iterable[str],
        revoked: Iterable[str] = (),
    ) -> RunManifest:
        return cls(train_code, service_date, tuple(stations), frozenset(live), frozenset(revoked))


@dataclass(frozen=True, slots=True)
class OnboardCheck:
    """The handheld's answer. ``ticket`` is the decoded code when it could be read;
    ``beyond_destination`` means the rider owes an extension with a surcharge."""

    ok: bool
    reason: OnboardReason
    detail: str
    ticket: TicketCode | None = None


def _refuse(reason: OnboardReason, detail: str, ticket: TicketCode | None = None) -> OnboardCheck:
    return OnboardCheck(False, reason, detail, ticket)


def read_ticket(data: bytes, keyring: IssuerKeyring) -> TicketCode | OnboardCheck:
    """The authentic ticket a code carries, or the refusal saying why not."""
    try:
        sealed = open_ticket(bytes(data))
    except CodeError as error:
        return _refuse(OnboardReason.MALFORMED, f"{error.reason}: {error.message}")
    ticket = sealed.value
    state = keyring.state_of(ticket.key_id)
    if state == RETIRED:
        return _refuse(OnboardReason.RETIRED_KEY, f"issuer key {ticket.key_id} is retired")
    if state not in TRUSTED:
        return _refuse(OnboardReason.UNKNOWN_KEY, f"issuer key {ticket.key_id} is unknown")
    if not keyring.verify(ticket.key_id, sealed.message, sealed.signature):
        return _refuse(OnboardReason.BAD_SIGNATURE, "the issuer signature does not verify")
    return ticket


def check_on_board(ticket: TicketCode, run: RunManifest, segment: int) -> OnboardCheck:
    """Check an authentic ticket against the run's manifest while on ``segment``."""
    if (ticket.train_code, ticket.service_date) != (run.train_code, run.service_date):
        detail = f"the ticket is for {ticket.train_code} on {ticket.service_date}"
        return _refuse(OnboardReason.WRONG_RUN, detail, ticket)
    if ticket.ticket_no in run.revoked:
        return _refuse(OnboardReason.REVOKED, "the ticket was refunded or changed", ticket)
    if ticket.ticket_no not in run.live:
        detail = "not in the synced manifest; sync the handheld and scan again"
        return _refuse(OnboardReason.NOT_IN_MANIFEST, detail, ticket)
    stations = run.stations
    if ticket.from_station not in stations or ticket.to_station not in stations:
        return _refuse(OnboardReason.OFF_ROUTE, "the ticket names a stop off this route", ticket)
    start, end = stations.index(ticket.from_station), stations.index(ticket.to_station)
    if segment < start:
        return _refuse(OnboardReason.NOT_BOARDED_YET, f"boards at {ticket.from_station}", ticket)
    if segment >= end:
        detail = f"the ticket ended at {ticket.to_station}: extension with surcharge due"
        return _refuse(OnboardReason.BEYOND_DESTINATION, detail, ticket)
    place = "standing" if ticket.coach == 0 else f"coach {ticket.coach} seat {ticket.seat_label}"
    return OnboardCheck(True, OnboardReason.OK, place, ticket)


def check_scanned(
    data: bytes, keyring: IssuerKeyring, run: RunManifest, segment: int
) -> OnboardCheck:
    """Authenticity first, then ``check_on_board``."""
    read = read_ticket(data, keyring)
    if isinstance(read, OnboardCheck):
        return read
    return check_on_board(read, run, segment)
