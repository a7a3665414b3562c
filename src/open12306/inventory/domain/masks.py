"""Segment bitmasks: ranges, free gaps, and the tables that find gaps by bit operations.

Bit ``s`` of a seat's mask is set when segment ``s`` (stop s to stop s+1) is sold. A ticket from
stop i to stop j uses segments i..j-1. A *gap* ``(a, b)`` is a maximal run of free segments
a..b-1; a seat is free for (i, j) exactly when one of its gaps contains i..j-1.

``Geometry`` holds the per-size tables the pools use to find gaps with a few big-int operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

MAX_SEGMENTS = 63


def range_mask(i: int, j: int) -> int:
    """Bits of segments i..j-1: what a ticket from stop i to stop j occupies."""
    return ((1 << (j - i)) - 1) << i


def gap_around(mask: int, i: int, j: int, segments: int) -> tuple[int, int]:
    """The maximal free run (a, b) holding segments i..j-1, which must be free in ``mask``."""
    a = (mask & ((1 << i) - 1)).bit_length()
    above = mask >> j
    b = segments if not above else j + (above & -above).bit_length() - 1
    return a, b


def free_gaps(mask: int, segments: int) -> list[tuple[int, int]]:
    """Every maximal free run (a, b) of ``mask``, left to right."""
    gaps: list[tuple[int, int]] = []
    start: int | None = None
    for s in range(segments + 1):
        free = s < segments and not (mask >> s) & 1
        if free and start is None:
            start = s
        elif not free and start is not None:
            gaps.append((start, s))
            start = None
    return gaps


def piece_starts(mask: int) -> int:
    """Bits where a sold run of ``mask`` begins (sold here, free or absent just before)."""
    return mask & ~(mask << 1)


@dataclass(frozen=True, slots=True)
class Geometry:
    """Precomputed tables for a run of ``segments`` segments, shared by every run of that size.

    A stop pair (i, j) is flattened to ``pair = i * width + j``. A free gap (a, b) is keyed by
    its length first, ``key = (b - a) * width + a``, so the lowest set bit of a bitmask of gap
    keys is the shortest gap. ``candidates[pair]`` is the bitmask of the gap keys that contain
    the pair: AND it with a pool's bitmask of non-empty gaps to find every free pattern at once.
    """

    segments: int
    width: int
    range_masks: tuple[int, ...]
    candidates: tuple[int, ...]

    def pair(self, i: int, j: int) -> int:
        return i * self.width + j

    def gap_key(self, a: int, b: int) -> int:
        return (b - a) * self.width + a

    def gap_of(self, key: int) -> tuple[int, int]:
        length, a = divmod(key, self.width)
        return a, a + length

    def pairs(self) -> list[tuple[int, int]]:
        """Every stop pair (i, j) with i < j."""
        n = self.segments
        return [(i, j) for i in range(n) for j in range(i + 1, n + 1)]

    def best_key(self, hits: int, i: int, j: int) -> int:
        """The gap key among ``hits`` (non-empty, containing (i, j)) that fits tightest.

        Shortest gap first; among gaps of that length, one that leaves a single fragment
        (aligned with j, then with i) before one that splits into two; then leftmost.
        """
        width = self.width
        low = (hits & -hits).bit_length() - 1
        length = low // width
        row = hits >> (length * width)
        if j - length >= 0 and (row >> (j - length)) & 1:
            return length * width + j - length
        if (row >> i) & 1:
            return length * width + i
        return low

    def fit_rank(self, key: int, i: int, j: int) -> tuple[int, int, int]:
        """The sort key ``best_key`` minimises: (gap length, fragments left, a)."""
        length, a = divmod(key, self.width)
        return length, (a != i) + (a + length != j), a


@lru_cache(maxsize=64)
def geometry(segments: int) -> Geometry:
    """The tables for ``segments`` segments (cached: pure and immutable)."""
    width = segments + 1
    range_masks = [0] * (width * width)
    candidates = [0] * (width * width)
    for i in range(segments):
        for j in range(i + 1, width):
            range_masks[i * width + j] = range_mask(i, j)
            bits = 0
            for a in range(i + 1):
                for b in range(j, width):
                    bits |= 1 << ((b - a) * width + a)
            candidates[i * width + j] = bits
    return Geometry(segments, width, tuple(range_masks), tuple(candidates))
