"""Seat classes and the seats of a coach composition."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SeatClass(StrEnum):
    """The seat classes 12306 sells. Values are the API names; ``label`` the Chinese name."""

    BUSINESS = "business"
    FIRST = "first"
    SECOND = "second"
    SOFT_SLEEPER = "soft_sleeper"
    HARD_SLEEPER = "hard_sleeper"
    HARD_SEAT = "hard_seat"
    STANDING = "standing"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def code(self) -> str:
        """12306's one-letter seat type code (seat_types in its query API)."""
        return _CODES[self]


_LABELS = {
    SeatClass.BUSINESS: "商务座",
    SeatClass.FIRST: "一等座",
    SeatClass.SECOND: "二等座",
    SeatClass.SOFT_SLEEPER: "软卧",
    SeatClass.HARD_SLEEPER: "硬卧",
    SeatClass.HARD_SEAT: "硬座",
    SeatClass.STANDING: "无座",
}

_CODES = {
    SeatClass.BUSINESS: "9",
    SeatClass.FIRST: "M",
    SeatClass.SECOND: "O",
    SeatClass.SOFT_SLEEPER: "4",
    SeatClass.HARD_SLEEPER: "3",
    SeatClass.HARD_SEAT: "1",
    SeatClass.STANDING: "W",
}

# Display order on a search result, dearest first as 12306 shows them.
CLASS_ORDER: tuple[SeatClass, ...] = (
    SeatClass.BUSINESS,
    SeatClass.FIRST,
    SeatClass.SECOND,
    SeatClass.SOFT_SLEEPER,
    SeatClass.HARD_SLEEPER,
    SeatClass.HARD_SEAT,
    SeatClass.STANDING,
)


class Berth(StrEnum):
    """Sleeper berth levels."""

    LOWER = "lower"
    MIDDLE = "middle"
    UPPER = "upper"


@dataclass(frozen=True, slots=True)
class Seat:
    """One sellable place on a run: a seat or a berth.

    ``index`` is the seat's position in the run's inventory (0..n-1, stable for a composition).
    ``row`` groups seats that sit side by side (a seat row, or a sleeper compartment) so a
    party can be seated together. ``letter`` is the seat letter (A B C D F) for seats,
    ``berth`` the level for sleepers; the other is None.
    """

    index: int
    coach: int
    seat_class: SeatClass
    label: str
    row: int
    letter: str | None = None
    berth: Berth | None = None
