"""A copied inventory is the same run, and independent of the one it was copied from."""

from __future__ import annotations

import contextlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.inventory.domain import Allocation, Request, RunInventory, SoldOut
from tests.unit.test_inventory_codec import QUOTAS, SEATS, SECOND, STANDING


def _traffic(inventory: RunInventory, rng: random.Random, steps: int) -> list[Allocation]:
    held: list[Allocation] = []
    for _ in range(steps):
        i = rng.randrange(9)
        j = rng.randrange(i + 1, 10)
        minutes = rng.choice([None, 60])
        with contextlib.suppress(SoldOut):
            request = Request(SECOND, i, j, rng.randint(1, 3), allow_standing=True)
            held.append(inventory.allocate(request, minutes))
        if held and rng.random() < 0.3:
            inventory.release(held.pop(rng.randrange(len(held))))
    return held


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), before=st.integers(0, 80), after=st.integers(1, 80))
def test_a_copy_sells_exactly_like_its_original_and_apart_from_it(
    seed: int, before: int, after: int
) -> None:
    original = RunInventory.empty(SEATS, 9, STANDING, QUOTAS)
    _traffic(original, random.Random(seed), before)
    frozen = original.encode()
    copied = original.copy()
    assert copied.encode() == frozen
    _traffic(copied, random.Random(seed + 1), after)
    assert original.encode() == frozen  # selling on the copy left the original alone
    assert original.check() == [] and copied.check() == []
    _traffic(original, random.Random(seed + 1), after)  # the same demand on the original
    assert original.encode() == copied.encode()
    for i in range(9):
        for j in range(i + 1, 10):
            assert copied.remaining(SECOND, i, j) == original.remaining(SECOND, i, j)


def test_a_copy_of_an_empty_run_sells_like_a_new_empty_run() -> None:
    template = RunInventory.empty(SEATS, 9, STANDING, QUOTAS)
    copied, fresh = template.copy(), RunInventory.empty(SEATS, 9, STANDING, QUOTAS)
    _traffic(copied, random.Random(7), 60)
    _traffic(fresh, random.Random(7), 60)
    assert copied.encode() == fresh.encode()
    assert template.encode() == RunInventory.empty(SEATS, 9, STANDING, QUOTAS).encode()
