"""What an order is for: the trip, the passengers, and the places held for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from open12306.accounts.domain.identity import Document
from open12306.catalog.domain.fares import PassengerType
from open12306.inventory.domain.seats import SeatClass
from open12306.shared.errors import DomainError

Interval = tuple[int, int]
"""A stretch of time as (start, end) absolute minutes (see ``absolute_minutes``)."""

_EPOCH_MINUTES = 60


def absolute_minutes(moment: datetime) -> int:
    """Whole minutes since the Unix epoch: comparable across runs, dates and time zones."""
    if moment.tzinfo is None:
        raise DomainError("time", "naive", "times must carry a time zone")
    return int(moment.timestamp()) // _EPOCH_MINUTES


@dataclass(frozen=True, slots=True)
class Passenger:
    """A named traveller on an order, with the document the ticket is sold against.

    ``infant`` marks a child under 6 who was given a seat (a child ticket, see
    ``identity.ticket_type(..., infant_seat=True)``); such a ticket is not sold alone.
    """

    name: str
    document: Document
    ticket_type: PassengerType = PassengerType.ADULT
    infant: bool = False

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise DomainError("name", "empty", "a passenger needs a name")
        if self.infant and self.ticket_type is not PassengerType.CHILD:
            raise DomainError(
                "ticket_type", "infant_not_child", "an infant's seat is a child ticket"
            )

    @property
    def key(self) -> tuple[str, str, str]:
        """Who this passenger is for the one-ticket-per-person rules.

        A child without a document of their own may travel on a companion adult's document
        (2023 rules), so a child ticket is told apart by the child's name as well.
        """
        kind, number = self.document.key
        name = self.name.strip() if self.ticket_type is PassengerType.CHILD else ""
        return (kind, number, name)


@dataclass(frozen=True, slots=True)
class Trip:
    """One journey on one run: train, service date, boarding and alighting stops, class.

    ``departs_at`` is the departure from the boarding station and ``arrives_at`` the arrival
    at the alighting station, both time-zone aware.
    """

    train_code: str
    service_date: date
    from_station: str
    to_station: str
    from_stop: int
    to_stop: int
    seat_class: SeatClass
    departs_at: datetime
    arrives_at: datetime

    def __post_init__(self) -> None:
        if not 0 <= self.from_stop < self.to_stop:
            raise DomainError("to_stop", "bad_range", "to_stop must come after from_stop")
        if self.from_station == self.to_station:
            raise DomainError("to_station", "same_station", "a trip needs two stations")
        if self.departs_at.tzinfo is None or self.arrives_at.tzinfo is None:
            raise DomainError("departs_at", "naive", "trip times must carry a time zone")
        if self.arrives_at <= self.departs_at:
            raise DomainError("arrives_at", "bad_range", "a trip arrives after it departs")

    @property
    def interval(self) -> Interval:
        """The trip as absolute minutes, for the overlapping-trip rule."""
        return (absolute_minutes(self.departs_at), absolute_minutes(self.arrives_at))


@dataclass(frozen=True, slots=True)
class SeatAssignment:
    """The place held for one passenger and its fare. Standing (无座) has coach 0 and an
    empty label, as on a ticket code; ``seat_index`` is the inventory index (None standing)."""

    coach: int
    seat_label: str
    fare_fen: int
    seat_index: int | None = None

    def __post_init__(self) -> None:
        if self.coach < 0:
            raise DomainError("coach", "negative", "coach numbers start at 1 (0: standing)")
        if self.fare_fen <= 0:
            raise DomainError("fare", "not_positive", "a ticket costs something")
