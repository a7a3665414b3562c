"""What a buyer asks the inventory for, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from open12306.inventory.domain.seats import Berth, SeatClass
from open12306.shared.errors import DomainError

MAX_PARTY = 5
SEAT_LETTERS = frozenset("ABCDF")


class Strategy(StrEnum):
    """How a seat is chosen among those free on the requested range."""

    BEST_FIT = "best_fit"
    FIRST_FIT = "first_fit"


class SoldOut(DomainError):
    """No place of the requested class can be sold on the requested range."""

    status = 409

    def __init__(self, seat_class: SeatClass) -> None:
        # Raised for every refused request, so it is kept cheap: a prepared message and the
        # fields set directly.
        message = _SOLD_OUT[seat_class]
        Exception.__init__(self, message)
        self.field = "seat_class"
        self.reason = "sold_out"
        self.message = message
        self.seat_class = seat_class


_SOLD_OUT = {c: f"no {c.value} place left on the requested range" for c in SeatClass}


@dataclass(frozen=True, slots=True)
class Request:
    """A party of 1..5 asking for ``seat_class`` from stop ``from_stop`` to stop ``to_stop``.

    ``letters`` (seat letters A B C D F) or ``berths`` give per-passenger preferences, in
    passenger order; None or a missing entry means "any". Unmet preferences fall back to any
    place. ``together`` seats a party in one row, else one coach, else anywhere.
    ``allow_standing`` accepts standing (无座) when the class has no free seat on the range.
    A request for ``SeatClass.STANDING`` asks for standing only; preferences are ignored.
    """

    seat_class: SeatClass
    from_stop: int
    to_stop: int
    party: int = 1
    letters: tuple[str | None, ...] = ()
    berths: tuple[Berth | None, ...] = ()
    together: bool = True
    allow_standing: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.party <= MAX_PARTY:
            raise DomainError("party", "out_of_range", f"a party has 1 to {MAX_PARTY} passengers")
        if not 0 <= self.from_stop < self.to_stop:
            raise DomainError("to_stop", "bad_range", "to_stop must come after from_stop")
        if self.letters and self.berths:
            raise DomainError("letters", "conflict", "give seat letters or berths, not both")
        if len(self.letters) > self.party or len(self.berths) > self.party:
            raise DomainError("letters", "too_many", "more preferences than passengers")
        if any(x is not None and x not in SEAT_LETTERS for x in self.letters):
            raise DomainError("letters", "invalid", "seat letters are A, B, C, D or F")

    @property
    def preferences(self) -> tuple[str | None, ...]:
        """One preference per passenger (a seat letter, a berth value, or None)."""
        given: tuple[str | None, ...] = self.letters or self.berths
        return given + (None,) * (self.party - len(given))

    @property
    def has_preferences(self) -> bool:
        return any(x is not None for x in self.letters or self.berths)


class Allocation(NamedTuple):
    """The places sold for one request: enough to release them exactly.

    ``seats[p]`` is passenger p's seat index, or None when the passenger stands; a party is
    either all seated or all standing. ``standing_pool`` names the seated class whose standing
    capacity a standing party uses. (A named tuple: immutable and cheap to make on the hot path.)
    """

    seat_class: SeatClass
    from_stop: int
    to_stop: int
    seats: tuple[int | None, ...]
    standing_pool: SeatClass | None = None

    @property
    def party(self) -> int:
        return len(self.seats)

    @property
    def standing(self) -> bool:
        return self.standing_pool is not None
