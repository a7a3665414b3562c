"""Choosing seats: best fit or first fit, passenger preferences, and parties seated together.

Every function here only reads the pools; the caller sells what they return, so a request that
cannot be met changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from open12306.inventory.domain.masks import Geometry
from open12306.inventory.domain.pools import GapPool
from open12306.inventory.domain.requests import Strategy

_FIRST_FIT = Strategy.FIRST_FIT


@dataclass(frozen=True, slots=True)
class Layout:
    """Per-seat facts the choice needs, indexed by seat: row and coach keys, letter or berth."""

    row: tuple[int, ...]
    coach: tuple[int, ...]
    attr: tuple[str | None, ...]


def first_free(
    pools: Sequence[GapPool], i: int, j: int, geo: Geometry, strategy: Strategy
) -> int | None:
    """The one seat a single passenger without preference gets, or None when none is free.

    Best fit: the first seat of the tightest non-empty gap bucket (a pool earlier in the list
    wins ties). First fit: the lowest free seat index.
    """
    candidates = geo.candidates[i * geo.width + j]
    if strategy is _FIRST_FIT:
        lows = [
            min(pool.buckets[key]) for pool in pools for key in _keys(pool.nonempty & candidates)
        ]
        return min(lows) if lows else None
    if len(pools) == 1:
        pool = pools[0]
        hits = pool.nonempty & candidates
        return next(reversed(pool.buckets[geo.best_key(hits, i, j)])) if hits else None
    best: tuple[tuple[int, int, int], int] | None = None
    for rank, pool in enumerate(pools):
        hits = pool.nonempty & candidates
        if hits:
            key = geo.best_key(hits, i, j)
            if best is None or geo.fit_rank(key, i, j) < best[0]:
                best = geo.fit_rank(key, i, j), rank
                seat = next(reversed(pool.buckets[key]))
    return seat if best is not None else None


def _keys(bits: int) -> list[int]:
    keys = []
    while bits:
        low = bits & -bits
        keys.append(low.bit_length() - 1)
        bits ^= low
    return keys


def free_seats(
    pools: Sequence[GapPool], i: int, j: int, geo: Geometry, strategy: Strategy
) -> list[int]:
    """Every seat free on (i, j), in the strategy's order of preference."""
    candidates = geo.candidates[i * geo.width + j]
    found: list[int] = []
    if strategy is _FIRST_FIT:
        for pool in pools:
            for key in _keys(pool.nonempty & candidates):
                found.extend(pool.buckets[key])
        found.sort()
        return found
    ranked = [
        (geo.fit_rank(key, i, j), rank, key)
        for rank, pool in enumerate(pools)
        for key in _keys(pool.nonempty & candidates)
    ]
    ranked.sort()
    for _, rank, key in ranked:
        found.extend(reversed(pools[rank].buckets[key]))
    return found


def pick_single(free: Sequence[int], want: str | None, layout: Layout) -> int:
    """The first seat of ``free`` (not empty) matching ``want``, else the first seat."""
    attr = layout.attr
    for seat in free:
        if attr[seat] == want:
            return seat
    return free[0]


def assign(
    seats: Sequence[int], wants: Sequence[str | None], attr: Sequence[str | None]
) -> tuple[list[int], int]:
    """Seat each passenger from ``seats`` (len >= passengers), earliest first, meeting as many
    preferences as possible; returns the seats in passenger order and how many wishes were met.
    """
    chosen = [-1] * len(wants)
    used: set[int] = set()
    met = 0
    for p, want in enumerate(wants):
        if want is None:
            continue
        for seat in seats:
            if attr[seat] == want and seat not in used:
                chosen[p] = seat
                used.add(seat)
                met += 1
                break
    rest = (seat for seat in seats if seat not in used)
    for p in range(len(wants)):
        if chosen[p] < 0:
            chosen[p] = next(rest)
    return chosen, met


def _in_one_group(
    free: Sequence[int], wants: Sequence[str | None], key: Sequence[int], attr: Sequence[str | None]
) -> list[int] | None:
    """Seats for the party within one group (a row or a coach), or None if no group fits.

    The first group, in ``free`` order, to offer enough seats wins; with preferences, the first
    group to meet them all wins, else the group that meets the most.
    """
    party = len(wants)
    wished = {w for w in wants if w is not None}
    groups: dict[int, list[int]] = {}
    ready: list[int] = []
    for seat in free:
        group_key = key[seat]
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = []
        group.append(seat)
        if len(group) == party:
            if not wished:
                return group
            ready.append(group_key)
        if len(group) >= party and attr[seat] in wished:
            chosen, met = assign(group, wants, attr)
            if met == len(wants) - wants.count(None):
                return chosen
    if not ready:
        return None
    best = max(ready, key=lambda k: assign(groups[k], wants, attr)[1])
    return assign(groups[best], wants, attr)[0]


def pick_party(
    free: Sequence[int], wants: Sequence[str | None], together: bool, layout: Layout
) -> list[int] | None:
    """Seats for a party (one per entry of ``wants``) from ``free``, or None if too few.

    Together: one row, else one coach, else anywhere; preferences are met where possible.
    """
    if len(free) < len(wants):
        return None
    if together and len(wants) > 1:
        for key in (layout.row, layout.coach):
            chosen = _in_one_group(free, wants, key, layout.attr)
            if chosen is not None:
                return chosen
    return assign(free, wants, layout.attr)[0]
