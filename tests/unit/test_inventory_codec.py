"""The byte form of a run's inventory: round trips and refusal of damaged input."""

import contextlib
import random

import pytest

from open12306.inventory.domain import (
    InventoryState,
    Quota,
    Request,
    RunInventory,
    SoldOut,
    decode_state,
    encode_state,
)
from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError

SECOND = SeatClass.SECOND
SEATS = [Seat(k, 1 + k // 10, SECOND, f"{k}", k // 5, "ABCDF"[k % 5]) for k in range(30)]
STANDING = {SECOND: 4}
QUOTAS = [Quota(SECOND, count=5, min_segments=6)]


def busy_run(seed: int) -> RunInventory:
    rng = random.Random(seed)
    inventory = RunInventory.empty(SEATS, 9, STANDING, QUOTAS)
    held = []
    for _ in range(120):
        i = rng.randrange(9)
        j = rng.randrange(i + 1, 10)
        with contextlib.suppress(SoldOut):
            held.append(
                inventory.allocate(Request(SECOND, i, j, rng.randint(1, 3), allow_standing=True))
            )
        if held and rng.random() < 0.3:
            inventory.release(held.pop(rng.randrange(len(held))))
    assert any(a.standing for a in held)
    return inventory


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_keeps_every_mask_count_and_standing(seed: int) -> None:
    inventory = busy_run(seed)
    data = inventory.encode()
    again = RunInventory.decode(data, SEATS, STANDING, QUOTAS)
    assert again.encode() == data
    assert again.check() == []
    assert again.to_state() == inventory.to_state()
    for i in range(9):
        for j in range(i + 1, 10):
            for cls in (SECOND, SeatClass.STANDING):
                assert again.remaining(cls, i, j) == inventory.remaining(cls, i, j)
    assert decode_state(encode_state(inventory.to_state())) == inventory.to_state()


def test_layout_is_as_documented() -> None:
    state = InventoryState(9, (0b101, 0), (0b101, 0), ((SECOND, 1, 3, 2),))
    data = encode_state(state)
    assert data[:4] == b"I12K" and data[4] == 1 and data[5] == 9 and data[6] == 2
    assert len(data) == 16 + 2 * 2 * 2 + 8 + 4
    assert data[16:18] == (0b101).to_bytes(2, "little")


def test_damaged_bytes_are_refused() -> None:
    data = busy_run(1).encode()
    for damaged in (
        data[:-1],
        data[:10],
        b"X" + data[1:],
        data[:20] + bytes([data[20] ^ 1]) + data[21:],
    ):
        with pytest.raises(DomainError) as err:
            RunInventory.decode(damaged, SEATS, STANDING, QUOTAS)
        assert err.value.reason == "corrupt"


def test_state_that_does_not_fit_the_configuration_is_refused() -> None:
    data = busy_run(1).encode()
    with pytest.raises(DomainError):
        RunInventory.decode(data, SEATS[:-1], STANDING, QUOTAS)
    with pytest.raises(DomainError):
        RunInventory.decode(data, SEATS, {}, QUOTAS)  # standing sold but no standing room
    impossible = InventoryState(9, (0b110,) + (0,) * 29, (0,) * 30)  # a piece with no start
    with pytest.raises(DomainError):
        RunInventory.from_state(impossible, SEATS)
    over = InventoryState(9, (0,) * 30, (0,) * 30, ((SECOND, 0, 2, 5),))
    with pytest.raises(DomainError):
        RunInventory.from_state(over, SEATS, STANDING)
