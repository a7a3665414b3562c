"""The simulator's schedule: every search, order and bot submission of a sale window, drawn
from a seed. Pure (a ``random.Random`` of the seed is the only source of chance): the same
inputs and seed give the same plan.

Each second ``s`` of the window, human orders for travel day ``k`` arrive at
``rate × demand share × intensity_k(s)``: the days already on sale at a steady residual rate,
the day on release by ``demand.release_profile``. Each order is preceded by two searches of its
pair; browsing searches (people comparing, refreshing before the release) make up the rest of
``searches_per_order``. A share of paid orders is refunded a few seconds later. Bots add
``bots / (1 - bots)`` of the human orders, from the release on, at the hottest pairs of the day
on release, each from one of a few accounts and addresses.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CLASS_WISH = (("second", 0.8), ("first", 0.15), ("business", 0.05))
PARTIES = (1, 1, 1, 2, 2, 3)


@dataclass(frozen=True)
class Leg:
    """A train between two cities on a day: its code, boarding and alighting stop codes, the
    classes it sells and the corridor it runs on."""

    train: str
    from_code: str
    to_code: str
    classes: tuple[str, ...]
    corridor: str


@dataclass(frozen=True)
class Event:
    """One planned request: ``kind`` search, order or bot; at ``at`` seconds into the window."""

    at: float
    kind: str
    day: int
    origin: str
    destination: str
    leg: Leg | None = None
    seat_class: str = ""
    party: int = 1
    refund_after: float | None = None
    rider: int = -1


@dataclass(frozen=True)
class PlanSpec:
    """What to plan: window length, steady human order rate (orders/s at intensity 1), the
    share of bot submissions, searches per order, the share of paid orders refunded."""

    seconds: int
    order_rate: float
    bots: float = 0.2
    searches_per_order: float = 9.0
    refund_share: float = 0.05
    residual: float = 0.25


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method in pieces, exact for any mean)."""
    count = 0
    while mean > 0:
        step = min(mean, 30.0)
        mean -= step
        limit, product = math.exp(-step), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count


class _Picker:
    """Draws keys with probability ∝ weight."""

    def __init__(self, weights: Mapping[tuple[str, str], float]) -> None:
        self.keys = sorted(k for k, w in weights.items() if w > 0)
        self.cumulative = list(itertools.accumulate(weights[k] for k in self.keys))

    def __bool__(self) -> bool:
        return bool(self.keys)

    def pick(self, rng: random.Random) -> tuple[str, str]:
        x = rng.random() * self.cumulative[-1]
        return self.keys[min(len(self.keys) - 1, bisect.bisect_right(self.cumulative, x))]


def _seat_class(rng: random.Random, classes: Sequence[str]) -> str:
    wished = [(c, w) for c, w in CLASS_WISH if c in classes]
    if not wished:
        return classes[0]
    x = rng.random() * sum(w for _, w in wished)
    for name, weight in wished:
        x -= weight
        if x <= 0:
            return name
    return wished[-1][0]


def plan(
    spec: PlanSpec,
    demand: Sequence[Mapping[tuple[str, str], float]],
    legs: Sequence[Mapping[tuple[str, str], Sequence[Leg]]],
    intensity: Sequence[Sequence[float]],
    seed: int,
) -> list[Event]:
    """The window's events, sorted by time. ``demand[k]`` weighs day ``k``'s pairs (any scale),
    ``legs[k]`` the trains serving them, ``intensity[k][s]`` day ``k``'s order intensity in
    second ``s``; the day on release is the last."""
    rng = random.Random(seed)
    events: list[Event] = []
    days = len(demand)
    pickers = [_Picker({p: w for p, w in demand[k].items() if legs[k].get(p)}) for k in range(days)]
    totals = [sum(demand[k][p] for p in pickers[k].keys) for k in range(days)]
    scale = max(totals) or 1.0
    riders = itertools.count()
    browse = max(0.0, spec.searches_per_order - 2)
    for second in range(spec.seconds):
        for k in range(days):
            if not pickers[k]:
                continue
            mean = spec.order_rate * totals[k] / scale * intensity[k][second]
            for _ in range(_poisson(rng, mean)):
                events.extend(_order(rng, spec, legs[k], pickers[k], k, second, next(riders)))
            ramp = 1.0
            if intensity[k][second] == 0.0:  # before the release: refreshing the search
                ramp = 0.3 + 2.0 * second / max(1, spec.seconds)
            looks = spec.order_rate * totals[k] / scale * max(ramp, intensity[k][second]) * browse
            for _ in range(_poisson(rng, looks)):
                o, d = pickers[k].pick(rng)
                events.append(Event(second + rng.random(), "search", k, o, d))
    events.extend(_bots(rng, spec, events, days - 1, legs[-1], demand[-1], intensity[-1]))
    events.sort(key=lambda e: (e.at, e.kind, e.rider))
    return events


def _order(
    rng: random.Random,
    spec: PlanSpec,
    legs: Mapping[tuple[str, str], Sequence[Leg]],
    picker: _Picker,
    day: int,
    second: int,
    rider: int,
) -> list[Event]:
    o, d = picker.pick(rng)
    at = second + rng.random()
    leg = rng.choice(list(legs[(o, d)]))
    refund = rng.uniform(3.0, 15.0) if rng.random() < spec.refund_share else None
    return [
        Event(max(0.0, at - 0.6), "search", day, o, d),
        Event(max(0.0, at - 0.3), "search", day, o, d),
        Event(
            at,
            "order",
            day,
            o,
            d,
            leg,
            _seat_class(rng, leg.classes),
            rng.choice(PARTIES),
            refund,
            rider,
        ),
    ]


def _bots(
    rng: random.Random,
    spec: PlanSpec,
    events: Sequence[Event],
    day: int,
    legs: Mapping[tuple[str, str], Sequence[Leg]],
    demand: Mapping[tuple[str, str], float],
    intensity: Sequence[float],
) -> list[Event]:
    """Bot submissions: the hottest pairs (weight squared), from the release second on, over
    three decay lengths of the spike, as fast as they can."""
    humans = sum(1 for e in events if e.kind == "order")
    wanted = round(humans * spec.bots / (1 - spec.bots)) if spec.bots < 1 else 0
    served = {p: w * w for p, w in demand.items() if legs.get(p)}
    if wanted <= 0 or not served:
        return []
    picker = _Picker(served)
    start = next((s for s, x in enumerate(intensity) if x > 0), 0)
    span = max(1.0, min(spec.seconds - start, (spec.seconds - start) / 3))
    out = []
    for n in range(wanted):
        o, d = picker.pick(rng)
        leg = rng.choice(list(legs[(o, d)]))
        at = start + rng.random() * span
        seat_class = _seat_class(rng, leg.classes)
        out.append(Event(at, "bot", day, o, d, leg, seat_class, rng.choice((1, 2)), None, n))
    return out
