import pytest

from open12306.inventory.domain import Request, RunInventory, SoldOut
from open12306.inventory.domain.quota_policy import QuotaPolicy
from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError

SEATS = [Seat(n, 1, SeatClass.SECOND, f"{n:02d}A", n) for n in range(10)]


def test_short_trains_and_zero_share_hold_nothing() -> None:
    assert QuotaPolicy().quotas(3, {SeatClass.SECOND: 100}) == ()
    assert QuotaPolicy(share=0.0).quotas(10, {SeatClass.SECOND: 100}) == ()


def test_long_journeys_keep_quota_seats_until_release() -> None:
    policy = QuotaPolicy(share=0.2, long_share=0.5, min_segments=6, release_hours=48)
    quotas = policy.quotas(10, {SeatClass.SECOND: 10, SeatClass.STANDING: 50})
    assert [(q.seat_class, q.count, q.min_segments) for q in quotas] == [(SeatClass.SECOND, 2, 5)]
    inventory = RunInventory.empty(SEATS, 10, quotas=quotas)
    early = 3 * 24 * 60
    assert inventory.remaining(SeatClass.SECOND, 0, 2, early) == 8
    assert inventory.remaining(SeatClass.SECOND, 0, 10, early) == 10
    for _ in range(8):
        inventory.allocate(Request(SeatClass.SECOND, 0, 2), early)
    with pytest.raises(SoldOut):
        inventory.allocate(Request(SeatClass.SECOND, 0, 2), early)
    assert inventory.remaining(SeatClass.SECOND, 0, 2, 48 * 60) == 2
    inventory.allocate(Request(SeatClass.SECOND, 0, 2), 48 * 60)


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(DomainError) as error:
        QuotaPolicy(share=1.5)
    assert error.value.field == "quota_share"
