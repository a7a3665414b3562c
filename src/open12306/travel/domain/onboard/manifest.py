"""The conductor's view of one segment of a run: who sits where, who stands, what is empty.

A ticket from stop i to stop j rides segments i..j-1, so it is on the segment leaving stop s
when ``i <= s < j``. Seats come from the run's inventory (their sold masks) and people from
the live tickets (issued or used); a seat sold in the inventory with no ticket on the segment
(an unpaid hold, or a mismatch worth a look) is listed as ``unticketed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError


class Unprocessable(DomainError):
    """Well-formed input that names something the run does not have (e.g. its last stop)."""

    status = 422


def mask_passenger_name(name: str) -> str:
    """A name as 12306 prints it on passenger lists: the middle starred, ends kept
    (张*三, 欧**锋); a two-character name keeps its first (张*); one character is shown as *."""
    value = name.strip()
    if len(value) <= 1:
        return "*" * len(value)
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def segment_leaving(stations: Sequence[str], stop: str) -> int:
    """The index of the segment that leaves ``stop`` (a telecode on the route)."""
    wanted = stop.strip().upper()
    for index, code in enumerate(stations):
        if code.upper() == wanted:
            if index == len(stations) - 1:
                raise Unprocessable("stop", "last_stop", f"{code} is the last stop: no segment")
            return index
    raise Unprocessable("stop", "not_on_route", f"the train does not call at {stop!r}")


def covers(from_stop: int, to_stop: int, segment: int) -> bool:
    """Whether a ride from ``from_stop`` to ``to_stop`` is on the train during ``segment``."""
    return from_stop <= segment < to_stop


@dataclass(frozen=True, slots=True)
class RideTicket:
    """A live ticket on the run, as the conductor needs it. ``coach`` 0: standing."""

    ticket_no: str
    passenger_name: str
    seat_class: SeatClass
    coach: int
    seat_label: str
    from_stop: int
    to_stop: int
    from_station: str
    to_station: str
    state: str = "issued"

    @property
    def standing(self) -> bool:
        return self.coach == 0


@dataclass(frozen=True, slots=True)
class Occupant:
    """Someone who should be on the segment: a seat (or standing) and a masked name."""

    coach: int
    seat_label: str
    seat_class: SeatClass
    name: str
    ticket_no: str
    from_station: str
    to_station: str
    boards_here: bool
    alights_next: bool
    state: str


@dataclass(frozen=True, slots=True)
class CoachVacancy:
    """The empty seats of one coach on the segment, in runs (``05A-06F``) and counted."""

    coach: int
    seat_class: SeatClass
    count: int
    seats: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SegmentManifest:
    """Who should be where on the segment from ``from_station`` to ``to_station``."""

    train_code: str
    service_date: date
    segment: int
    from_station: str
    to_station: str
    seated: tuple[Occupant, ...]
    standing: tuple[Occupant, ...]
    empty: tuple[CoachVacancy, ...]
    unticketed: tuple[str, ...]

    @property
    def empty_count(self) -> int:
        return sum(v.count for v in self.empty)


def _occupant(ticket: RideTicket, segment: int) -> Occupant:
    return Occupant(
        ticket.coach,
        ticket.seat_label,
        ticket.seat_class,
        mask_passenger_name(ticket.passenger_name),
        ticket.ticket_no,
        ticket.from_station,
        ticket.to_station,
        ticket.from_stop == segment,
        ticket.to_stop == segment + 1,
        ticket.state,
    )


def compact_runs(seats: Sequence[Seat]) -> tuple[str, ...]:
    """Labels of seats (sorted by index) with consecutive indices joined: ``01A-02F``."""
    runs: list[str] = []
    start: Seat | None = None
    last: Seat | None = None
    for seat in seats:
        if last is not None and start is not None and seat.index == last.index + 1:
            last = seat
            continue
        if start is not None and last is not None:
            runs.append(_run_label(start, last))
        start = last = seat
    if start is not None and last is not None:
        runs.append(_run_label(start, last))
    return tuple(runs)


def _run_label(first: Seat, last: Seat) -> str:
    return first.label if first is last else f"{first.label}-{last.label}"


def _vacancies(seats: Sequence[Seat], masks: Sequence[int], bit: int) -> tuple[CoachVacancy, ...]:
    by_coach: dict[int, list[Seat]] = {}
    for seat in seats:
        if not masks[seat.index] & bit:
            by_coach.setdefault(seat.coach, []).append(seat)
    return tuple(
        CoachVacancy(coach, free[0].seat_class, len(free), compact_runs(free))
        for coach, free in sorted(by_coach.items())
    )


def build_segment_manifest(
    train_code: str,
    service_date: date,
    stations: Sequence[str],
    segment: int,
    tickets: Iterable[RideTicket],
    seats: Sequence[Seat],
    masks: Sequence[int],
) -> SegmentManifest:
    """The manifest of ``segment`` from the run's live tickets and its seats' sold masks."""
    if not 0 <= segment < len(stations) - 1:
        raise Unprocessable("stop", "no_segment", f"segment {segment} is not on the run")
    if len(masks) != len(seats):
        raise DomainError("masks", "seat_count", "one sold mask per seat")
    order = {(seat.coach, seat.label): seat.index for seat in seats}
    on_board = [t for t in tickets if covers(t.from_stop, t.to_stop, segment)]
    seated = sorted(
        (t for t in on_board if not t.standing),
        key=lambda t: (t.coach, order.get((t.coach, t.seat_label), len(seats)), t.ticket_no),
    )
    standing = sorted((t for t in on_board if t.standing), key=lambda t: t.ticket_no)
    bit = 1 << segment
    ticketed = {(t.coach, t.seat_label) for t in seated}
    unticketed = tuple(
        f"{seat.coach:02d}-{seat.label}"
        for seat in seats
        if masks[seat.index] & bit and (seat.coach, seat.label) not in ticketed
    )
    return SegmentManifest(
        train_code,
        service_date,
        segment,
        stations[segment],
        stations[segment + 1],
        tuple(_occupant(t, segment) for t in seated),
        tuple(_occupant(t, segment) for t in standing),
        _vacancies(seats, masks, bit),
        unticketed,
    )
