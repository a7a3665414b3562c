"""Selling and refunding seats: seat reuse, best fit, first fit, preferences, parties."""

import pytest

from open12306.inventory.domain import Allocation, Request, RunInventory, SoldOut, Strategy
from open12306.inventory.domain.seats import Berth, Seat, SeatClass
from open12306.shared.errors import DomainError

SECOND = SeatClass.SECOND
SLEEPER = SeatClass.HARD_SLEEPER


def seats_of(*coaches: tuple[SeatClass, int, str]) -> list[Seat]:
    """Coaches of (class, rows, letters); a sleeper's letters are ignored: 2 x 3 berths a row."""
    seats: list[Seat] = []
    for number, (seat_class, rows, letters) in enumerate(coaches, start=1):
        for row in range(1, rows + 1):
            if seat_class is SLEEPER:
                for berth in (Berth.LOWER, Berth.MIDDLE, Berth.UPPER) * 2:
                    label = f"{number}-{row}{berth}"
                    seats.append(Seat(len(seats), number, seat_class, label, row, None, berth))
            else:
                for letter in letters:
                    label = f"{number}-{row}{letter}"
                    seats.append(Seat(len(seats), number, seat_class, label, row, letter))
    return seats


def sell(inventory: RunInventory, i: int, j: int, **kw: object) -> Allocation:
    return inventory.allocate(Request(SECOND, i, j, **kw))  # type: ignore[arg-type]


def test_seat_reuse_sells_the_unsold_legs_of_a_seat() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 1, "A")), 5)
    first = sell(inventory, 0, 3)
    assert first.seats == (0,)
    assert inventory.remaining(SECOND, 3, 5) == 1
    assert inventory.remaining(SECOND, 2, 4) == 0
    assert sell(inventory, 3, 5).seats == (0,)
    with pytest.raises(SoldOut) as refused:
        sell(inventory, 2, 4)
    assert (refused.value.field, refused.value.reason) == ("seat_class", "sold_out")
    inventory.release(first)
    assert inventory.seat_mask(0) == 0b11000
    assert inventory.remaining(SECOND, 0, 3) == 1
    assert inventory.check() == []


def test_best_fit_takes_the_tightest_free_gap() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 1, "ABC")), 6)
    inventory.allocate(Request(SECOND, 0, 2))  # seat 0: free gap 2-6
    inventory.allocate(Request(SECOND, 0, 1))  # seat 1: free gap 1-6 (seat 0 is taken there)
    inventory.release(inventory.allocate(Request(SECOND, 0, 1)))  # a refund leaves no trace
    assert [inventory.seat_mask(s) for s in range(3)] == [0b11, 0b1, 0]
    # gaps holding 3-5: seat 0 2-6 (4 long), seat 1 1-6 (5), seat 2 0-6 (6)
    assert inventory.allocate(Request(SECOND, 3, 5)).seats == (0,)
    # now 1-3 fits seat 1 (gap 1-6) before seat 2 (0-6); seat 0 has only 2-3 there
    assert inventory.allocate(Request(SECOND, 1, 3)).seats == (1,)
    assert inventory.check() == []


def test_best_fit_prefers_tight_gap_over_low_index() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 1, "ABC")), 6)
    inventory.allocate(Request(SECOND, 0, 2))  # seat 0: gap 2-6
    inventory.allocate(Request(SECOND, 0, 1))  # tightest for 0-1 is seat 0? no, taken: seat 1
    assert inventory.seat_mask(0) == 0b11 and inventory.seat_mask(1) == 0b1
    inventory.allocate(Request(SECOND, 4, 6))  # gaps: seat0 2-6 (4), seat1 1-6 (5), seat2 0-6
    assert inventory.seat_mask(0) == 0b110011
    choice = inventory.allocate(Request(SECOND, 2, 4))  # seat0 gap 2-4 fits exactly
    assert choice.seats == (0,)


def test_first_fit_takes_the_lowest_free_seat() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 1, "ABC")), 6, strategy=Strategy.FIRST_FIT)
    inventory.allocate(Request(SECOND, 0, 1))  # seat 0
    inventory.allocate(Request(SECOND, 2, 6))  # seat 0 again: lowest free
    assert inventory.seat_mask(0) == 0b111101
    assert inventory.allocate(Request(SECOND, 1, 2)).seats == (0,)
    assert inventory.allocate(Request(SECOND, 1, 2)).seats == (1,)


def test_best_and_first_fit_differ_where_a_tighter_gap_exists() -> None:
    picks = {}
    for strategy in Strategy:
        inventory = RunInventory.empty(seats_of((SECOND, 1, "AB")), 4, strategy=strategy)
        inventory.allocate(Request(SECOND, 0, 4))  # seat 0 full
        inventory.release(inventory.allocate(Request(SECOND, 0, 1)))  # no trace
        inventory.allocate(Request(SECOND, 2, 4))  # seat 1: gap 0-2 left
        inventory.release(Allocation(SECOND, 0, 4, (0,)))  # seat 0 empty again: gap 0-4
        picks[strategy] = inventory.allocate(Request(SECOND, 0, 2)).seats
    assert picks == {Strategy.BEST_FIT: (1,), Strategy.FIRST_FIT: (0,)}


def test_a_refused_request_changes_nothing() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 1, "AB")), 3)
    sell(inventory, 0, 3)
    sell(inventory, 1, 2)
    before = inventory.encode()
    with pytest.raises(SoldOut):
        sell(inventory, 0, 3, party=2)
    with pytest.raises(SoldOut):
        sell(inventory, 1, 2, party=1)
    assert inventory.encode() == before


def test_release_refuses_what_is_not_held() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 1, "AB"), (SLEEPER, 1, "")), 4)
    a = sell(inventory, 0, 2)
    b = sell(inventory, 2, 4)
    assert a.seats == b.seats  # the same seat, two adjacent pieces
    before = inventory.encode()
    bogus = [
        Allocation(SECOND, 0, 4, a.seats),  # spans two pieces
        Allocation(SECOND, 0, 1, a.seats),  # part of a piece
        Allocation(SECOND, 0, 2, (1,)),  # a seat that was never sold
        Allocation(SECOND, 0, 2, (a.seats[0], a.seats[0])),  # the same seat twice
        Allocation(SLEEPER, 0, 2, a.seats),  # another class
        Allocation(SECOND, 0, 2, (99,)),  # no such seat
        Allocation(SECOND, 0, 2, (None,), SECOND),  # standing never sold
    ]
    for allocation in bogus:
        with pytest.raises(DomainError) as err:
            inventory.release(allocation)
        assert err.value.reason == "not_held"
    assert inventory.encode() == before
    inventory.release(a)
    with pytest.raises(DomainError):
        inventory.release(a)  # twice
    inventory.release(b)
    assert inventory.seat_mask(a.seats[0]) == 0
    assert inventory.check() == []


def test_window_preference_is_met_when_a_window_seat_is_free() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 2, "ABCDF")), 3)
    assert inventory.allocate(Request(SECOND, 0, 3, letters=("F",))).seats == (4,)
    assert inventory.allocate(Request(SECOND, 0, 3, letters=("F",))).seats == (9,)
    # no F left: falls back to any seat, as 12306 does
    fallback = inventory.allocate(Request(SECOND, 0, 3, letters=("F",)))
    assert fallback.seats[0] is not None and inventory.seats[fallback.seats[0]].letter != "F"


def test_berth_preference() -> None:
    inventory = RunInventory.empty(seats_of((SLEEPER, 2, "")), 2)
    got = inventory.allocate(Request(SLEEPER, 0, 2, berths=(Berth.UPPER, Berth.LOWER), party=2))
    berths = [inventory.seats[s].berth for s in got.seats if s is not None]
    assert berths == [Berth.UPPER, Berth.LOWER]
    seats = {inventory.seats[s].row for s in got.seats if s is not None}
    assert len(seats) == 1  # one compartment


def test_party_together_same_row_then_same_coach_then_anywhere() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 2, "ABC"), (SECOND, 2, "ABC")), 2)
    row = inventory.allocate(Request(SECOND, 0, 2, party=3))
    assert {
        (inventory.seats[s].coach, inventory.seats[s].row) for s in row.seats if s is not None
    } == {(1, 1)}
    # break every remaining row: one seat of each sold
    for seat in (3, 6, 9):
        inventory.allocate(Request(SECOND, 0, 2, letters=(inventory.seats[seat].letter,)))
    coach = inventory.allocate(Request(SECOND, 0, 2, party=3))
    places = [inventory.seats[s] for s in coach.seats if s is not None]
    assert len({p.coach for p in places}) == 1 and len({p.row for p in places}) == 2
    anywhere = inventory.allocate(Request(SECOND, 0, 2, party=3))
    assert len({inventory.seats[s].coach for s in anywhere.seats if s is not None}) == 2
    assert inventory.remaining(SECOND, 0, 2) == 0


def test_party_together_with_letters_takes_a_row_that_meets_them() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 2, "ABCDF")), 2)
    inventory.allocate(Request(SECOND, 0, 2, letters=("A",)))  # row 1 loses its A
    got = inventory.allocate(Request(SECOND, 0, 2, party=2, letters=("A", "B")))
    assert [inventory.seats[s].label for s in got.seats if s is not None] == ["1-2A", "1-2B"]


def test_party_not_together_is_seated_where_best_fit_says() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 1, "AB"), (SECOND, 1, "AB")), 2)
    got = inventory.allocate(Request(SECOND, 0, 2, party=4, together=False))
    assert sorted(s for s in got.seats if s is not None) == [0, 1, 2, 3]


def test_count_matrix_matches_remaining_for_every_pair() -> None:
    inventory = RunInventory.empty(seats_of((SECOND, 2, "ABCDF")), 5)
    for i, j in [(0, 2), (1, 4), (3, 5), (0, 5), (2, 3)]:
        sell(inventory, i, j, party=2)
    matrix = inventory.count_matrix(SECOND)
    for i in range(6):
        for j in range(6):
            expected = inventory.remaining(SECOND, i, j) if i < j else 0
            assert matrix[i][j] == expected
    assert inventory.sold_seat_segments() == 2 * (2 + 3 + 2 + 5 + 1)


def test_requests_are_validated() -> None:
    for kwargs in ({"party": 0}, {"party": 6}, {"letters": ("E",)}, {"letters": ("A", "B")}):
        with pytest.raises(DomainError):
            Request(SECOND, 0, 1, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(DomainError):
        Request(SECOND, 2, 2)
    inventory = RunInventory.empty(seats_of((SECOND, 1, "A")), 2)
    with pytest.raises(DomainError) as err:
        inventory.allocate(Request(SECOND, 0, 3))
    assert err.value.reason == "bad_range"
    with pytest.raises(SoldOut):
        inventory.allocate(Request(SeatClass.BUSINESS, 0, 1))  # no such class on the run


def test_seats_must_be_indexed_in_order() -> None:
    seats = seats_of((SECOND, 1, "AB"))
    with pytest.raises(DomainError):
        RunInventory.empty([seats[1], seats[0]], 3)
