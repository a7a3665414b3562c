"""Quotas (预分): held back for qualifying journeys until their release time."""

import pytest

from open12306.inventory.domain import Quota, Request, RunInventory, SoldOut
from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError

SECOND = SeatClass.SECOND


def seats(n: int, seat_class: SeatClass = SECOND) -> list[Seat]:
    return [Seat(k, 1, seat_class, f"1-{k}", k // 5 + 1, "ABCDF"[k % 5]) for k in range(n)]


def test_short_journeys_cannot_take_long_journey_seats_until_release() -> None:
    quota = Quota(SECOND, count=2, min_segments=4, release_minutes_before_departure=120)
    inventory = RunInventory.empty(seats(4), 6, quotas=[quota])
    assert inventory.remaining(SECOND, 0, 2) == 2
    assert inventory.remaining(SECOND, 0, 4) == 4
    short = [inventory.allocate(Request(SECOND, 0, 2), 600).seats for _ in range(2)]
    assert sorted(s for (s,) in short) == [0, 1]  # the ordinary seats
    with pytest.raises(SoldOut):
        inventory.allocate(Request(SECOND, 0, 2), 600)
    with pytest.raises(SoldOut):
        inventory.allocate(Request(SECOND, 0, 2))  # unknown time: the quota holds
    long = inventory.allocate(Request(SECOND, 0, 5), 600)
    assert long.seats[0] in (2, 3)
    # released two hours before departure: the last quota seat is an ordinary seat
    assert inventory.remaining(SECOND, 0, 2, 600) == 0
    assert inventory.remaining(SECOND, 0, 2, 120) == 1
    assert inventory.allocate(Request(SECOND, 0, 2), 120).seats[0] in (2, 3)
    assert inventory.check() == []


def test_station_quota_admits_only_its_origins() -> None:
    quota = Quota(SECOND, seats=(0,), origins=frozenset({2}))
    inventory = RunInventory.empty(seats(2), 4, quotas=[quota])
    assert inventory.allocate(Request(SECOND, 0, 4)).seats == (1,)
    with pytest.raises(SoldOut):
        inventory.allocate(Request(SECOND, 1, 2))
    matrix = inventory.count_matrix(SECOND)
    assert matrix[2][4] == 1 and matrix[3][4] == 0 and matrix[1][2] == 0
    assert inventory.count_matrix(SECOND, minutes_to_departure=0)[3][4] == 1  # released
    assert inventory.allocate(Request(SECOND, 2, 3)).seats == (0,)


def test_a_qualifying_request_uses_the_quota_seat_when_fits_equally() -> None:
    quota = Quota(SECOND, count=1, min_segments=2)
    inventory = RunInventory.empty(seats(2), 3, quotas=[quota])
    assert inventory.allocate(Request(SECOND, 0, 3)).seats == (1,)
    assert inventory.remaining(SECOND, 0, 1) == 1


def test_quota_configuration_is_checked() -> None:
    with pytest.raises(DomainError):
        Quota(SECOND, count=1)  # no criterion
    with pytest.raises(DomainError):
        Quota(SECOND, seats=(0,), count=1, min_segments=1)
    with pytest.raises(DomainError):
        Quota(SeatClass.STANDING, count=1, min_segments=1)
    with pytest.raises(DomainError):  # two quotas on one seat
        RunInventory.empty(
            seats(3),
            3,
            quotas=[
                Quota(SECOND, seats=(2,), min_segments=1),
                Quota(SECOND, seats=(1, 2), min_segments=2),
            ],
        )
    with pytest.raises(DomainError):  # more seats than the class has
        RunInventory.empty(seats(3), 3, quotas=[Quota(SECOND, count=4, min_segments=1)])
    with pytest.raises(DomainError):  # a seat of another class
        RunInventory.empty(seats(3), 3, quotas=[Quota(SeatClass.FIRST, seats=(0,), min_segments=1)])


def test_count_from_the_end_skips_seats_of_earlier_quotas() -> None:
    quotas = [Quota(SECOND, count=1, min_segments=1), Quota(SECOND, count=2, min_segments=2)]
    inventory = RunInventory.empty(seats(5), 3, quotas=quotas)
    # seat 4 in the first quota, seats 2-3 in the second: a 1-segment ride sees 0, 1, 4
    taken = {inventory.allocate(Request(SECOND, 0, 1)).seats[0] for _ in range(3)}
    assert taken == {0, 1, 4}
