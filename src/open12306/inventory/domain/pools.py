"""Pattern pools: the seats of one class partition, grouped by their free gaps.

A seat whose mask has free runs (a1, b1), (a2, b2)... sits in the bucket of each run. A seat is
free for (i, j) exactly when it sits in a bucket whose gap contains i..j-1, and in at most one
such bucket. ``nonempty`` is a bitmask of the gap keys whose bucket holds a seat, so one AND
with ``Geometry.candidates`` finds every free pattern for a request without scanning seats or
empty buckets. Selling or refunding a seat moves it between at most three buckets.

The per-seat masks live in lists shared by every pool of a run (``masks``: sold segments;
``starts``: the first segment of each sold piece, so a refund can be checked to be exactly a
piece that was sold).
"""

from __future__ import annotations

from open12306.inventory.domain.masks import Geometry, free_gaps
from open12306.shared.errors import DomainError


class GapPool:
    """One partition of a seat class (its ordinary seats, or one quota's seats).

    Within a bucket the seat added last is offered first (``popitem`` is O(1), where taking
    from the front of a dict that keeps losing its first keys is not); pools are filled from
    the highest seat index down, so an empty run sells its seats in index order.
    """

    __slots__ = (
        "_cache",
        "_cache_version",
        "buckets",
        "geometry",
        "masks",
        "nonempty",
        "starts",
        "version",
    )

    def __init__(self, geometry: Geometry, masks: list[int], starts: list[int]) -> None:
        self.geometry = geometry
        self.masks = masks
        self.starts = starts
        self.buckets: list[dict[int, None]] = [{} for _ in range(geometry.width**2)]
        self.nonempty = 0
        self.version = 0
        self._cache: list[int] = []
        self._cache_version = -1

    def copy(self, masks: list[int], starts: list[int]) -> GapPool:
        """The same pool over another run's (copied) masks."""
        twin = GapPool.__new__(GapPool)
        twin.geometry = self.geometry
        twin.masks = masks
        twin.starts = starts
        twin.buckets = [{} for _ in self.buckets]
        keys = self.nonempty
        while keys:
            key = (keys & -keys).bit_length() - 1
            twin.buckets[key] = self.buckets[key].copy()
            keys &= keys - 1
        twin.nonempty = self.nonempty
        twin.version = self.version
        twin._cache = self._cache
        twin._cache_version = self._cache_version
        return twin

    def _put(self, key: int, seat: int) -> None:
        bucket = self.buckets[key]
        if not bucket:
            self.nonempty |= 1 << key
        bucket[seat] = None

    def _drop(self, key: int, seat: int) -> None:
        bucket = self.buckets[key]
        del bucket[seat]
        if not bucket:
            self.nonempty &= ~(1 << key)

    def add_seat(self, seat: int) -> None:
        """Put ``seat`` (with its current mask) into the buckets of its free gaps."""
        for a, b in free_gaps(self.masks[seat], self.geometry.segments):
            self._put(self.geometry.gap_key(a, b), seat)
        self.version += 1

    def hits(self, i: int, j: int) -> int:
        """Bitmask of the non-empty gap keys that contain (i, j)."""
        return self.nonempty & self.geometry.candidates[i * self.geometry.width + j]

    def take(self, seat: int, i: int, j: int) -> None:
        """Sell segments i..j-1 of ``seat``, which must be free there."""
        geo = self.geometry
        width = geo.width
        mask = self.masks[seat]
        sold = geo.range_masks[i * width + j]
        if mask & sold:
            raise DomainError("seat", "not_free", f"seat {seat} is not free on {i}-{j}")
        a = (mask & ((1 << i) - 1)).bit_length()
        above = mask >> j
        b = geo.segments if not above else j + (above & -above).bit_length() - 1
        self._drop((b - a) * width + a, seat)
        if a < i:
            self._put((i - a) * width + a, seat)
        if j < b:
            self._put((b - j) * width + j, seat)
        self.masks[seat] = mask | sold
        self.starts[seat] |= 1 << i
        self.version += 1

    def take_best(self, i: int, j: int) -> int | None:
        """Sell (i, j) on the best-fit seat of this pool and return it (None: nothing free).

        The hot path of the whole product: the rule of ``Geometry.best_key`` and the bucket
        moves of ``take``, inlined, knowing the gap the seat comes from.
        """
        geo = self.geometry
        width = geo.width
        hits = self.nonempty & geo.candidates[i * width + j]
        if not hits:
            return None
        key = (hits & -hits).bit_length() - 1
        length = key // width
        row = hits >> (length * width)
        a = j - length
        if a >= 0 and (row >> a) & 1:
            key = length * width + a
        elif (row >> i) & 1:
            key, a = length * width + i, i
        else:
            a = key - length * width
        buckets = self.buckets
        bucket = buckets[key]
        seat = bucket.popitem()[0]
        nonempty = self.nonempty
        if not bucket:
            nonempty &= ~(1 << key)
        if a < i:
            key = (i - a) * width + a
            bucket = buckets[key]
            if not bucket:
                nonempty |= 1 << key
            bucket[seat] = None
        b = a + length
        if j < b:
            key = (b - j) * width + j
            bucket = buckets[key]
            if not bucket:
                nonempty |= 1 << key
            bucket[seat] = None
        self.nonempty = nonempty
        self.masks[seat] |= geo.range_masks[i * width + j]
        self.starts[seat] |= 1 << i
        self.version += 1
        return seat

    def holds(self, seat: int, i: int, j: int) -> bool:
        """True when segments i..j-1 of ``seat`` are exactly one piece sold earlier."""
        geo = self.geometry
        mask = self.masks[seat]
        starts = self.starts[seat]
        sold = geo.range_masks[i * geo.width + j]
        if mask & sold != sold or not (starts >> i) & 1:
            return False
        if starts & (sold ^ (1 << i)):
            return False
        return j >= geo.segments or not (mask >> j) & 1 or bool((starts >> j) & 1)

    def give_back(self, seat: int, i: int, j: int) -> None:
        """Refund segments i..j-1 of ``seat``; ``holds(seat, i, j)`` must be true."""
        if not self.holds(seat, i, j):
            raise DomainError("allocation", "not_held", f"seat {seat} does not hold {i}-{j}")
        geo = self.geometry
        width = geo.width
        mask = self.masks[seat] & ~geo.range_masks[i * width + j]
        a = (mask & ((1 << i) - 1)).bit_length()
        above = mask >> j
        b = geo.segments if not above else j + (above & -above).bit_length() - 1
        if a < i:
            self._drop((i - a) * width + a, seat)
        if j < b:
            self._drop((b - j) * width + j, seat)
        self._put((b - a) * width + a, seat)
        self.masks[seat] = mask
        self.starts[seat] &= ~(1 << i)
        self.version += 1

    def count(self, i: int, j: int) -> int:
        """Seats of this pool free on (i, j)."""
        if self._cache_version == self.version:
            return self._cache[i * self.geometry.width + j]
        hits = self.hits(i, j)
        total = 0
        buckets = self.buckets
        while hits:
            low = hits & -hits
            total += len(buckets[low.bit_length() - 1])
            hits ^= low
        return total

    def count_table(self) -> list[int]:
        """Free seats for every stop pair, flattened as ``i * width + j`` (cached until the
        next change; 0 where i >= j).

        Entry (i, j) is the sum of bucket sizes over gaps (a, b) with a <= i and b >= j: a
        running sum down ``a`` then up ``b``, in O(width**2).
        """
        if self._cache_version == self.version:
            return self._cache
        width = self.geometry.width
        sizes = [0] * (width * width)
        for key, bucket in enumerate(self.buckets):
            if bucket:
                a, b = self.geometry.gap_of(key)
                sizes[a * width + b] = len(bucket)
        for a in range(1, width):
            row, above = a * width, (a - 1) * width
            for b in range(width):
                sizes[row + b] += sizes[above + b]
        for a in range(width):
            row = a * width
            for b in range(width - 2, -1, -1):
                sizes[row + b] += sizes[row + b + 1]
        for a in range(width):
            for b in range(a + 1):
                sizes[a * width + b] = 0
        self._cache = sizes
        self._cache_version = self.version
        return sizes
