"""Counts read from a run's stored state answer exactly what the full inventory answers."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.inventory.domain import Quota, Request, RunInventory, SoldOut
from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError

FIRST, SECOND, STANDING = SeatClass.FIRST, SeatClass.SECOND, SeatClass.STANDING
SEATS = [
    Seat(k, 1 + k // 10, FIRST if k < 12 else SECOND, f"{k}", k // 4, "ACDF"[k % 4])
    for k in range(40)
]
ROOM = {SECOND: 5}
QUOTAS = [
    Quota(SECOND, count=6, min_segments=5, release_minutes_before_departure=120),
    Quota(FIRST, seats=(0, 1), origins=frozenset({0, 2})),
]
SEGMENTS = 8
ASKED = (FIRST, SECOND, STANDING, SeatClass.BUSINESS)
MINUTES = (None, 0, 60, 240, 10_000)


def _busy(seed: int, steps: int) -> RunInventory:
    rng = random.Random(seed)
    inventory = RunInventory.empty(SEATS, SEGMENTS, ROOM, QUOTAS)
    held = []
    for _ in range(steps):
        i = rng.randrange(SEGMENTS)
        j = rng.randrange(i + 1, SEGMENTS + 1)
        request = Request(rng.choice((FIRST, SECOND)), i, j, rng.randint(1, 3), allow_standing=True)
        with contextlib.suppress(SoldOut):
            held.append(inventory.allocate(request, rng.choice(MINUTES)))
        if held and rng.random() < 0.25:
            inventory.release(held.pop(rng.randrange(len(held))))
    return inventory


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 100_000), steps=st.integers(0, 150))
def test_counts_from_the_state_equal_the_inventory_everywhere(seed: int, steps: int) -> None:
    inventory = _busy(seed, steps)
    counts = (
        RunInventory.empty(SEATS, SEGMENTS, ROOM, QUOTAS)
        .count_layout()
        .counts(inventory.to_state())
    )
    for i in range(SEGMENTS):
        for j in range(i + 1, SEGMENTS + 1):
            for seat_class in ASKED:
                for minutes in MINUTES:
                    assert counts.remaining(seat_class, i, j, minutes) == inventory.remaining(
                        seat_class, i, j, minutes
                    ), (seat_class, i, j, minutes)
    for seat_class in ASKED:
        assert counts.standing_sold(seat_class) == inventory.standing_sold(seat_class)


def test_a_busy_run_is_really_counted_not_just_a_full_train() -> None:
    inventory = _busy(7, 120)
    counts = inventory.count_layout().counts(inventory.to_state())
    answers = {counts.remaining(SECOND, i, i + 1) for i in range(SEGMENTS)}
    assert len(answers) > 1  # the test run is partly sold, not empty or full
    assert any(counts.standing_sold(SECOND))


@pytest.mark.parametrize(("i", "j"), [(-1, 2), (3, 3), (5, 2), (0, SEGMENTS + 1)])
def test_a_range_off_the_run_is_refused_as_the_inventory_refuses_it(i: int, j: int) -> None:
    inventory = RunInventory.empty(SEATS, SEGMENTS, ROOM, QUOTAS)
    counts = inventory.count_layout().counts(inventory.to_state())
    with pytest.raises(DomainError) as counted:
        counts.remaining(SECOND, i, j)
    with pytest.raises(DomainError) as decoded:
        inventory.remaining(SECOND, i, j)
    assert counted.value.reason == decoded.value.reason == "bad_range"


def test_a_state_of_another_composition_is_refused() -> None:
    other = RunInventory.empty(SEATS[:10], SEGMENTS)
    layout = RunInventory.empty(SEATS, SEGMENTS, ROOM, QUOTAS).count_layout()
    with pytest.raises(DomainError):
        layout.counts(other.to_state())
