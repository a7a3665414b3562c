"""Checks for a reserved ticket at a gate, whether shown as a QR code or found by ID number."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from open12306.travel.domain.gate.config import GateConfig
from open12306.travel.domain.gate.decision import Decision, reject
from open12306.travel.domain.gate.lists import DenyLists
from open12306.travel.domain.gate.manifest import Manifest
from open12306.travel.domain.gate.reasons import CodeKind, Direction, ReasonCode
from open12306.travel.domain.gate.state import GateState, TicketUsed


class TicketFacts(Protocol):
    """What a gate reads off a ticket (a ``TicketCode`` or a ``ManifestTicket``)."""

    @property
    def ticket_no(self) -> str: ...
    @property
    def train_code(self) -> str: ...
    @property
    def service_date(self) -> date: ...
    @property
    def from_station(self) -> str: ...
    @property
    def to_station(self) -> str: ...
    @property
    def valid_from(self) -> int: ...
    @property
    def valid_until(self) -> int: ...


def station_problem(ticket: TicketFacts, station: str, direction: Direction) -> ReasonCode | None:
    """Entry gates admit at the boarding station, exit gates at the destination."""
    ours, theirs = ticket.from_station, ticket.to_station
    if direction is Direction.EXIT:
        ours, theirs = theirs, ours
    if ours == station:
        return None
    return ReasonCode.WRONG_DIRECTION if theirs == station else ReasonCode.WRONG_STATION


def window_problem(
    ticket: TicketFacts,
    now: int,
    direction: Direction,
    config: GateConfig,
    manifest: Manifest | None,
) -> tuple[ReasonCode, str] | None:
    """The ticket's own window (with clock skew), then the run's check-in window."""
    if now < ticket.valid_from - config.skew:
        return ReasonCode.NOT_YET_VALID, "the ticket's window has not opened"
    closes = ticket.valid_until + config.skew
    if direction is Direction.EXIT:
        closes = ticket.valid_until + config.exit_grace_minutes * 60
    if now > closes:
        return ReasonCode.EXPIRED, "the ticket's window has closed"
    if direction is Direction.EXIT or manifest is None:
        return None
    run = manifest.run(ticket.train_code, ticket.service_date)
    if run is None or run.departure is None:
        return ReasonCode.UNKNOWN_RUN, "the run does not board here in this manifest"
    if now < run.departure - config.check_in_opens_minutes * 60:
        return ReasonCode.OUTSIDE_WINDOW, "check-in has not opened"
    if now > run.departure - config.closes_minutes_before * 60:
        return ReasonCode.OUTSIDE_WINDOW, "check-in has closed"
    return None


def check_ticket(
    ticket: TicketFacts,
    now: int,
    direction: Direction,
    state: GateState,
    config: GateConfig,
    deny: DenyLists,
    manifest: Manifest | None,
    kind: CodeKind,
) -> Decision:
    """Every check after authenticity (revocation, station, windows, reuse); first failure."""
    subject = ticket.ticket_no
    if subject in deny.tickets:
        return reject(kind, ReasonCode.REVOKED, "the ticket was refunded or changed", subject)
    station = station_problem(ticket, config.station, direction)
    if station is not None:
        return reject(kind, station, f"not valid for {direction} at {config.station}", subject)
    window = window_problem(ticket, now, direction, config, manifest)
    if window is not None:
        return reject(kind, window[0], window[1], subject)
    if (subject, direction) in state.used:
        return reject(kind, ReasonCode.REPLAYED, f"already used for {direction}", subject)
    listed = manifest.ticket(subject) if manifest is not None else None
    return Decision(
        True,
        ReasonCode.OK,
        f"{ticket.train_code} {ticket.from_station}→{ticket.to_station}",
        kind,
        subject,
        face_required=listed is not None and listed.face_required,
        effects=(TicketUsed(subject, direction, now),),
    )
