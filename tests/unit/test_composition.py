from collections import Counter

import pytest

from open12306.catalog.domain.composition import (
    COMPOSITIONS,
    Coach,
    Composition,
    coach_label,
    composition_for,
    get_composition,
)
from open12306.inventory.domain.seats import Berth, SeatClass
from open12306.shared.errors import NotFound


def test_known_compositions_exist() -> None:
    assert {"emu-8", "emu-16", "emu-8-intercity", "sleeper-18"} <= set(COMPOSITIONS)
    for cid, comp in COMPOSITIONS.items():
        assert comp.id == cid


def test_emu_sizes_are_close_to_real_trains() -> None:
    assert 540 <= COMPOSITIONS["emu-8"].total_seats <= 620
    assert 1150 <= COMPOSITIONS["emu-16"].total_seats <= 1250
    assert len(COMPOSITIONS["emu-16"].coaches) == 16
    assert len(COMPOSITIONS["emu-8"].coaches) == 8
    assert len(COMPOSITIONS["sleeper-18"].coaches) == 18


@pytest.mark.parametrize("cid", sorted(COMPOSITIONS))
def test_seat_indexes_are_dense_and_stable(cid: str) -> None:
    comp = COMPOSITIONS[cid]
    seats = comp.seats()
    assert [s.index for s in seats] == list(range(len(seats)))
    assert seats == comp.seats()
    assert len(seats) == comp.total_seats
    coaches = [s.coach for s in seats]
    assert coaches == sorted(coaches)


@pytest.mark.parametrize("cid", sorted(COMPOSITIONS))
def test_labels_are_unique_within_a_coach(cid: str) -> None:
    seats = COMPOSITIONS[cid].seats()
    keys = Counter((s.coach, s.label) for s in seats)
    assert max(keys.values()) == 1


@pytest.mark.parametrize("cid", sorted(COMPOSITIONS))
def test_capacity_matches_seats_per_class(cid: str) -> None:
    comp = COMPOSITIONS[cid]
    per_class = Counter(s.seat_class for s in comp.seats())
    for klass in comp.classes():
        if klass is SeatClass.STANDING:
            assert comp.capacity(klass) == comp.standing > 0
        else:
            assert comp.capacity(klass) == per_class[klass] > 0
    assert set(per_class) | {SeatClass.STANDING} == set(comp.classes())


def test_emu_seat_letters_by_class() -> None:
    letters: dict[SeatClass, set[str]] = {}
    for seat in COMPOSITIONS["emu-16"].seats():
        assert seat.letter is not None and seat.berth is None
        assert seat.label.endswith(seat.letter)
        letters.setdefault(seat.seat_class, set()).add(seat.letter)
    assert letters[SeatClass.SECOND] == {"A", "B", "C", "D", "F"}
    assert letters[SeatClass.FIRST] == {"A", "C", "D", "F"}
    assert letters[SeatClass.BUSINESS] == {"A", "C", "F"}


def test_second_class_row_holds_five_seats() -> None:
    seats = [s for s in COMPOSITIONS["emu-8"].seats() if s.coach == 3]
    row_sizes = Counter(s.row for s in seats)
    assert set(row_sizes.values()) == {5}
    assert seats[0].label == "01A" and seats[4].label == "01F" and seats[5].label == "02A"


def test_intercity_sells_only_first_and_second() -> None:
    comp = COMPOSITIONS["emu-8-intercity"]
    assert comp.classes() == (SeatClass.FIRST, SeatClass.SECOND, SeatClass.STANDING)
    assert comp.standing > comp.capacity(SeatClass.SECOND)


def test_sleeper_berths() -> None:
    comp = COMPOSITIONS["sleeper-18"]
    assert comp.classes() == (
        SeatClass.SOFT_SLEEPER,
        SeatClass.HARD_SLEEPER,
        SeatClass.HARD_SEAT,
        SeatClass.STANDING,
    )
    hard = [s for s in comp.seats() if s.seat_class is SeatClass.HARD_SLEEPER]
    soft = [s for s in comp.seats() if s.seat_class is SeatClass.SOFT_SLEEPER]
    assert {s.berth for s in hard} == {Berth.LOWER, Berth.MIDDLE, Berth.UPPER}
    assert {s.berth for s in soft} == {Berth.LOWER, Berth.UPPER}
    bay = Counter((s.coach, s.row) for s in hard)
    assert set(bay.values()) == {6}
    compartment = Counter((s.coach, s.row) for s in soft)
    assert set(compartment.values()) == {4}
    first_bay = [s.label for s in hard if s.coach == hard[0].coach and s.row == 1]
    assert first_bay == ["01下", "01中", "01上", "02下", "02中", "02上"]
    assert all(s.letter is None for s in hard + soft)


def test_hard_seat_coach_has_118_numbered_seats() -> None:
    seats = [s for s in COMPOSITIONS["sleeper-18"].seats() if s.coach == 1]
    assert len(seats) == 118
    assert seats[0].label == "001号" and seats[-1].label == "118号"
    assert all(s.seat_class is SeatClass.HARD_SEAT and s.letter is None for s in seats)


def test_dining_car_sells_nothing() -> None:
    comp = COMPOSITIONS["emu-16"]
    assert 9 not in {s.coach for s in comp.seats()}
    assert Coach(9, None).seat_count == 0


def test_custom_composition() -> None:
    comp = Composition("tiny", "tiny", (Coach(1, SeatClass.SECOND, 2, ("A", "B")),), 3)
    assert [s.label for s in comp.seats()] == ["01A", "01B", "02A", "02B"]
    assert comp.capacity(SeatClass.STANDING) == 3
    assert comp.capacity(SeatClass.FIRST) == 0


def test_composition_for() -> None:
    assert composition_for("G", "hsr") == "emu-16"
    assert composition_for("G", "hsr", short_haul=True) == "emu-8"
    assert composition_for("D", "hsr") == "emu-8"
    assert composition_for("C", "intercity") == "emu-8-intercity"
    assert composition_for("Z", "conventional") == "sleeper-18"
    assert composition_for("K", "conventional", short_haul=True) == "seater-18"
    with pytest.raises(NotFound):
        composition_for("X", "hsr")


def test_get_composition_and_label() -> None:
    assert get_composition("emu-8").id == "emu-8"
    with pytest.raises(NotFound) as err:
        get_composition("nope")
    assert err.value.field == "composition"
    assert coach_label(5) == "05车"
