"""Standing (无座): sold per segment up to a capacity, only once the class is full."""

import pytest

from open12306.inventory.domain import Request, RunInventory, SoldOut
from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError

SECOND = SeatClass.SECOND
STANDING = SeatClass.STANDING


def run(capacity: int = 3) -> RunInventory:
    seats = [Seat(0, 1, SECOND, "1-1A", 1, "A")]
    return RunInventory.empty(seats, 4, standing={SECOND: capacity})


def test_standing_is_sold_only_when_no_seat_is_free() -> None:
    inventory = run()
    assert inventory.remaining(STANDING, 0, 4) == 0
    with pytest.raises(SoldOut):
        inventory.allocate(Request(STANDING, 0, 4))
    seated = inventory.allocate(Request(SECOND, 0, 2, allow_standing=True))
    assert seated.seats == (0,) and not seated.standing
    assert inventory.remaining(STANDING, 0, 2) == 3
    assert inventory.remaining(STANDING, 1, 3) == 3  # the seat is taken on segment 1
    assert inventory.remaining(STANDING, 2, 4) == 0  # the seat is free there
    stand = inventory.allocate(Request(SECOND, 0, 2, party=2, allow_standing=True))
    assert stand.seats == (None, None) and stand.standing_pool is SECOND
    assert inventory.standing_sold(SECOND) == (2, 2, 0, 0)
    with pytest.raises(SoldOut):  # no room for 2 more on 0-2
        inventory.allocate(Request(STANDING, 0, 2, party=2))
    only = inventory.allocate(Request(STANDING, 1, 2))
    assert only.seat_class is STANDING and only.standing_pool is SECOND
    assert inventory.remaining(STANDING, 0, 2) == 0
    assert inventory.count_matrix(STANDING)[0][1] == 1
    assert inventory.check() == []


def test_without_allow_standing_a_full_class_is_sold_out() -> None:
    inventory = run()
    inventory.allocate(Request(SECOND, 0, 4))
    with pytest.raises(SoldOut):
        inventory.allocate(Request(SECOND, 0, 4))


def test_standing_release_is_exact() -> None:
    inventory = run()
    inventory.allocate(Request(SECOND, 0, 4))
    stand = inventory.allocate(Request(STANDING, 1, 3, party=2))
    before = inventory.encode()
    with pytest.raises(DomainError):
        inventory.release(stand._replace(to_stop=4))
    with pytest.raises(DomainError):
        inventory.release(stand._replace(seats=(None, None, None)))
    with pytest.raises(DomainError):
        inventory.release(stand._replace(seats=(0, None)))
    assert inventory.encode() == before
    inventory.release(stand)
    assert inventory.standing_sold(SECOND) == (0, 0, 0, 0)


def test_standing_configuration_is_checked() -> None:
    seats = [Seat(0, 1, SECOND, "1-1A", 1, "A")]
    with pytest.raises(DomainError):
        RunInventory.empty(seats, 2, standing={STANDING: 5})
    with pytest.raises(DomainError):
        RunInventory.empty(seats, 2, standing={SECOND: -1})
