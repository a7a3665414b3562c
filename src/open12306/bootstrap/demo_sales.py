"""Random sales on the runs of the next days, so the demo shows 有 / a number / 无 as 12306 does."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from open12306.inventory.domain import Request, RunInventory, SoldOut
from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.services.run_inventory import InventoryService
from open12306.search.services.read_model import ReadModel

MAX_MISSES = 40


def fill_inventory(
    inventory: RunInventory,
    classes: Sequence[tuple[SeatClass, int]],
    segments: int,
    target: float,
    rng: random.Random,
) -> tuple[int, int]:
    """Sell random journeys until ``target`` of the seat-segments are sold (or demand stalls).

    Returns (tickets sold, seat-segments sold)."""
    total = sum(capacity for _, capacity in classes) * segments
    weights = [capacity for _, capacity in classes]
    goal = int(total * target)
    sold = tickets = misses = 0
    while sold < goal and misses < MAX_MISSES:
        seat_class = rng.choices(classes, weights)[0][0]
        i = rng.randrange(segments)
        j = rng.randrange(i + 1, segments + 1)
        party = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        try:
            inventory.allocate(
                Request(seat_class, i, j, party=party, together=False, allow_standing=True)
            )
        except SoldOut:
            misses += 1
            continue
        misses = 0
        tickets += party
        sold += party * (j - i)
    return tickets, sold


def simulate_fill(
    inventory: InventoryService,
    read_model: ReadModel,
    days: Sequence[date],
    fill: float,
    seed: int,
    types: frozenset[str] = frozenset(),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fill every run of ``days`` (of the given train types, or all): each run gets a target
    around ``fill``; a tenth sell out. ``progress(done, total)`` is told after every run."""
    rng = random.Random(seed)
    catalog = read_model.catalog
    wanted = set(days)
    keys = sorted(
        key
        for key in read_model.runs
        if key[1] in wanted and (not types or catalog.train(key[0]).train_type in types)
    )
    tickets = sold = capacity_total = 0
    for done, key in enumerate(keys, start=1):
        composition = catalog.composition(key[0])
        classes = [
            (c, composition.capacity(c))
            for c in composition.classes()
            if c is not SeatClass.STANDING
        ]
        segments = catalog.train(key[0]).segments
        target = 1.0 if rng.random() < 0.1 else min(1.0, max(0.0, rng.gauss(fill, 0.2)))
        run_rng = random.Random(rng.random())
        sold_run = inventory.change(
            key,
            functools.partial(
                fill_inventory, classes=classes, segments=segments, target=target, rng=run_rng
            ),
        )
        tickets += sold_run[0]
        sold += sold_run[1]
        capacity_total += sum(c for _, c in classes) * segments
        if progress is not None:
            progress(done, len(keys))
    return {
        "runs": len(keys),
        "tickets": tickets,
        "load_factor": sold / capacity_total if capacity_total else 0.0,
    }


def next_days(today: date, count: int) -> list[date]:
    return [today + timedelta(days=n) for n in range(count)]
