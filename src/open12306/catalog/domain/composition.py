"""Coach compositions (编组): which coaches a train runs with and the seats in them.

Seat layouts follow the ones 12306 sells: EMU second class 3+2 (A B C | D F), first class
2+2 (A C | D F), business 2+1 (A C | F); hard seat coaches are numbered seats without letters;
sleepers are numbered berths by level, two numbers per bay (e.g. "05下" is the lower berth on
side 05 of bay 3). Seat counts are close to the CR400AF / CRH6A / 25T type trains, rounded to
whole rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from open12306.inventory.domain.seats import CLASS_ORDER, Berth, Seat, SeatClass
from open12306.shared.errors import NotFound

BUSINESS_LETTERS = ("A", "C", "F")
FIRST_LETTERS = ("A", "C", "D", "F")
SECOND_LETTERS = ("A", "B", "C", "D", "F")
HARD_SEAT_PER_ROW = 5

SOFT_SLEEPER_LEVELS = (Berth.LOWER, Berth.UPPER)
HARD_SLEEPER_LEVELS = (Berth.LOWER, Berth.MIDDLE, Berth.UPPER)
_LEVEL_MARK = {Berth.LOWER: "下", Berth.MIDDLE: "中", Berth.UPPER: "上"}


@dataclass(frozen=True, slots=True)
class Coach:
    """One car: its number, the class it sells and how many rows (bays for sleepers) it has.

    ``letters`` are the seat letters of a row (EMU seats); ``levels`` the berth levels on each
    side of a bay (sleepers). Hard seat coaches have neither: seats are plain numbers.
    A coach with ``seat_class`` None sells nothing (dining car).
    """

    number: int
    seat_class: SeatClass | None
    rows: int = 0
    letters: tuple[str, ...] = ()
    levels: tuple[Berth, ...] = ()
    seats_in_last_row: int | None = None

    @property
    def seat_count(self) -> int:
        if self.seat_class is None or self.rows == 0:
            return 0
        if self.levels:
            return self.rows * 2 * len(self.levels)
        per_row = len(self.letters) or HARD_SEAT_PER_ROW
        last = per_row if self.seats_in_last_row is None else self.seats_in_last_row
        return (self.rows - 1) * per_row + last


@dataclass(frozen=True, slots=True)
class Composition:
    """A named train make-up: its coaches in order and the standing (无座) capacity."""

    id: str
    name: str
    coaches: tuple[Coach, ...]
    standing: int

    def seats(self) -> tuple[Seat, ...]:
        """Every seat and berth, coach by coach, in a stable index order."""
        return _seats_of(self)

    def classes(self) -> tuple[SeatClass, ...]:
        """Classes sold on this make-up in 12306 display order (standing last, if any)."""
        present = {c.seat_class for c in self.coaches if c.seat_count > 0}
        if self.standing > 0:
            present.add(SeatClass.STANDING)
        return tuple(k for k in CLASS_ORDER if k in present)

    def capacity(self, seat_class: SeatClass) -> int:
        """Number of places of a class (standing: the standing capacity)."""
        if seat_class is SeatClass.STANDING:
            return self.standing
        return sum(c.seat_count for c in self.coaches if c.seat_class is seat_class)

    @property
    def total_seats(self) -> int:
        return sum(c.seat_count for c in self.coaches)


def coach_label(coach: int) -> str:
    """12306's coach label, e.g. "05车"."""
    return f"{coach:02d}车"


def _coach_seats(coach: Coach, start: int) -> list[Seat]:
    klass = coach.seat_class
    if klass is None:
        return []
    out: list[Seat] = []
    if coach.levels:
        for bay in range(1, coach.rows + 1):
            for side in (2 * bay - 1, 2 * bay):
                for level in coach.levels:
                    label = f"{side:02d}{_LEVEL_MARK[level]}"
                    out.append(Seat(start + len(out), coach.number, klass, label, bay, None, level))
        return out
    if coach.letters:
        for row in range(1, coach.rows + 1):
            letters = coach.letters
            if row == coach.rows and coach.seats_in_last_row is not None:
                letters = letters[: coach.seats_in_last_row]
            for letter in letters:
                out.append(
                    Seat(start + len(out), coach.number, klass, f"{row:02d}{letter}", row, letter)
                )
        return out
    for number in range(1, coach.seat_count + 1):
        row = (number - 1) // HARD_SEAT_PER_ROW + 1
        out.append(Seat(start + len(out), coach.number, klass, f"{number:03d}号", row))
    return out


@cache
def _seats_of(composition: Composition) -> tuple[Seat, ...]:
    seats: list[Seat] = []
    for coach in composition.coaches:
        seats.extend(_coach_seats(coach, len(seats)))
    return tuple(seats)


def _business(number: int, rows: int) -> Coach:
    return Coach(number, SeatClass.BUSINESS, rows, BUSINESS_LETTERS)


def _first(number: int, rows: int) -> Coach:
    return Coach(number, SeatClass.FIRST, rows, FIRST_LETTERS)


def _second(number: int, rows: int) -> Coach:
    return Coach(number, SeatClass.SECOND, rows, SECOND_LETTERS)


def _hard_seat(number: int) -> Coach:
    # A 25-series hard seat coach seats 118: 23 full rows of five and a last row of three.
    return Coach(number, SeatClass.HARD_SEAT, 24, seats_in_last_row=3)


def _soft_sleeper(number: int) -> Coach:
    return Coach(number, SeatClass.SOFT_SLEEPER, 9, levels=SOFT_SLEEPER_LEVELS)


def _hard_sleeper(number: int) -> Coach:
    return Coach(number, SeatClass.HARD_SLEEPER, 11, levels=HARD_SLEEPER_LEVELS)


def _dining(number: int) -> Coach:
    return Coach(number, None)


EMU_8 = Composition(
    "emu-8",
    "8-car EMU (CR400AF type)",
    (
        _business(1, 6),
        _first(2, 14),
        _second(3, 18),
        _second(4, 15),
        _second(5, 13),
        _second(6, 18),
        _second(7, 18),
        _second(8, 18),
    ),
    standing=60,
)

EMU_16 = Composition(
    "emu-16",
    "16-car EMU (CR400AF-A type)",
    (
        _business(1, 8),
        _first(2, 14),
        _first(3, 14),
        *(_second(n, 19) for n in range(4, 9)),
        _dining(9),
        *(_second(n, 19) for n in range(10, 16)),
        _business(16, 8),
    ),
    standing=120,
)

EMU_8_INTERCITY = Composition(
    "emu-8-intercity",
    "8-car intercity EMU (CRH6A type)",
    (_first(1, 12), *(_second(n, 15) for n in range(2, 9))),
    standing=1000,
)

SLEEPER_18 = Composition(
    "sleeper-18",
    "18-car sleeper train (25T type)",
    (
        _hard_seat(1),
        _hard_seat(2),
        _hard_seat(3),
        _soft_sleeper(4),
        _soft_sleeper(5),
        *(_hard_sleeper(n) for n in range(6, 9)),
        _dining(9),
        *(_hard_sleeper(n) for n in range(10, 18)),
        _hard_seat(18),
    ),
    standing=120,
)

SEATER_18 = Composition(
    "seater-18",
    "18-car day train (25G type): hard seats with a few hard sleepers",
    (
        *(_hard_seat(n) for n in range(1, 9)),
        _dining(9),
        *(_hard_seat(n) for n in range(10, 16)),
        *(_hard_sleeper(n) for n in range(16, 19)),
    ),
    standing=400,
)

COMPOSITIONS: dict[str, Composition] = {
    c.id: c for c in (EMU_8, EMU_16, EMU_8_INTERCITY, SLEEPER_18, SEATER_18)
}


def get_composition(composition_id: str) -> Composition:
    """The composition with this id, or NotFound."""
    try:
        return COMPOSITIONS[composition_id]
    except KeyError:
        raise NotFound("composition", "unknown", f"no composition {composition_id!r}") from None


def composition_for(train_type: str, corridor_kind: str, short_haul: bool = False) -> str:
    """The usual make-up for a train type on a kind of line.

    G trains run as 16 cars on long trips and 8 cars on short ones; D trains as 8 cars;
    C trains and anything on an intercity line as intercity EMUs; Z/T/K as sleeper trains
    (K on short daytime trips as seat trains).
    """
    kind = train_type.upper()
    if kind == "C" or (corridor_kind == "intercity" and kind not in ("G", "D")):
        return EMU_8_INTERCITY.id
    if kind == "G":
        return EMU_8.id if short_haul else EMU_16.id
    if kind == "D":
        return EMU_8.id
    if kind == "K" and short_haul:
        return SEATER_18.id
    if kind in ("Z", "T", "K"):
        return SLEEPER_18.id
    raise NotFound("train_type", "unknown", f"no composition for train type {train_type!r}")
