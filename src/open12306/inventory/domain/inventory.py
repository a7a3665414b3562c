"""The seat inventory of one run: sell, refund, count and check, all in memory and pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from open12306.inventory.domain import codec
from open12306.inventory.domain.allocator import (
    Layout,
    first_free,
    free_seats,
    pick_party,
    pick_single,
)
from open12306.inventory.domain.counts import ClassLayout, CountLayout, picker
from open12306.inventory.domain.masks import (
    MAX_SEGMENTS,
    Geometry,
    free_gaps,
    geometry,
    piece_starts,
)
from open12306.inventory.domain.pools import GapPool
from open12306.inventory.domain.quotas import Quota, resolve_quota_seats
from open12306.inventory.domain.requests import Allocation, Request, SoldOut, Strategy
from open12306.inventory.domain.seats import CLASS_ORDER, Seat, SeatClass
from open12306.inventory.domain.standing import StandingPool
from open12306.inventory.domain.state import InventoryState
from open12306.shared.errors import DomainError

STANDING = SeatClass.STANDING
# Makes an Allocation without the named tuple's Python-level __new__ (hot path only).
_new_allocation: Callable[[type[Allocation], tuple[object, ...]], Allocation] = tuple.__new__


class _ClassStock:
    """The pools of one seat class: its ordinary seats and one pool per quota."""

    __slots__ = ("general", "general_only", "quotas", "seat_class", "size")

    def __init__(self, seat_class: SeatClass, general: GapPool, size: int) -> None:
        self.seat_class = seat_class
        self.general = general
        self.general_only = [general]
        self.quotas: list[tuple[Quota, GapPool]] = []
        self.size = size

    def pools_for(self, i: int, j: int, minutes: int | None) -> list[GapPool]:
        """The pools a request from i to j may draw on at this time, quota pools first."""
        if not self.quotas:
            return self.general_only
        pools = [pool for quota, pool in self.quotas if quota.open_to(i, j, minutes)]
        pools.append(self.general)
        return pools

    def copy(self, pools: dict[int, GapPool]) -> _ClassStock:
        """The same stock over copied pools (``pools``: id of an original → its copy)."""
        twin = _ClassStock(self.seat_class, pools[id(self.general)], self.size)
        twin.quotas = [(quota, pools[id(pool)]) for quota, pool in self.quotas]
        return twin

    def all_pools(self) -> list[GapPool]:
        return [self.general, *(pool for _, pool in self.quotas)]


class RunInventory:
    """Seats and standing room of one train on one date, over its ``segments`` segments.

    ``minutes_to_departure`` arguments are the minutes left until the run leaves its origin;
    they decide whether quotas are released (None: not yet). Build with ``empty`` or
    ``from_state``/``decode``; persist with ``to_state``/``encode``.
    """

    def __init__(
        self,
        seats: Sequence[Seat],
        segments: int,
        standing: Mapping[SeatClass, int] | None = None,
        quotas: Sequence[Quota] = (),
        strategy: Strategy = Strategy.BEST_FIT,
    ) -> None:
        if not 1 <= segments <= MAX_SEGMENTS:
            raise DomainError("segments", "out_of_range", f"a run has 1 to {MAX_SEGMENTS} segments")
        for position, seat in enumerate(seats):
            if seat.index != position:
                raise DomainError("seats", "bad_index", f"seat {seat.label} is not at {seat.index}")
            if seat.seat_class is STANDING:
                raise DomainError("seats", "standing", "standing is a capacity, not a seat")
        self.seats: tuple[Seat, ...] = tuple(seats)
        self.segments = segments
        self.strategy = strategy
        # Seat classes whose single, unfussy requests take the inlined best-fit path.
        self._fast: dict[SeatClass, GapPool] = {}
        self.quotas: tuple[Quota, ...] = tuple(quotas)
        self._geo: Geometry = geometry(segments)
        self._masks = [0] * len(seats)
        self._starts = [0] * len(seats)
        self._layout = _layout(self.seats)
        self._stocks: dict[SeatClass, _ClassStock] = {}
        self._pool_of: list[GapPool] = []
        self._pool_seats: dict[int, list[int]] = {}
        self._standing: dict[SeatClass, StandingPool] = {}
        self._build_pools()
        for seat_class, capacity in (standing or {}).items():
            if seat_class is STANDING:
                raise DomainError("standing", "class", "standing belongs to a seated class")
            self._standing[seat_class] = StandingPool(capacity, segments)

    def _build_pools(self) -> None:
        for seat in self.seats:
            stock = self._stocks.get(seat.seat_class)
            if stock is None:
                pool = GapPool(self._geo, self._masks, self._starts)
                stock = self._stocks[seat.seat_class] = _ClassStock(seat.seat_class, pool, 0)
            stock.size += 1
        owner = [self._stocks[seat.seat_class].general for seat in self.seats]
        for quota, indices in zip(
            self.quotas, resolve_quota_seats(self.seats, self.quotas), strict=True
        ):
            stock = self._stocks.get(quota.seat_class)
            if stock is None:
                raise DomainError("quota", "wrong_seat", f"the run has no {quota.seat_class} seats")
            pool = GapPool(self._geo, self._masks, self._starts)
            stock.quotas.append((quota, pool))
            for index in indices:
                owner[index] = pool
        self._pool_of = owner
        if self.strategy is Strategy.BEST_FIT:
            self._fast = {c: stock.general for c, stock in self._stocks.items() if not stock.quotas}
        for index, owner_pool in enumerate(owner):
            self._pool_seats.setdefault(id(owner_pool), []).append(index)

    def _fill_pools(self) -> None:
        for seat in range(len(self._pool_of) - 1, -1, -1):
            self._pool_of[seat].add_seat(seat)

    # --- construction and persistence -------------------------------------------------------

    @classmethod
    def empty(
        cls,
        seats: Sequence[Seat],
        segments: int,
        standing: Mapping[SeatClass, int] | None = None,
        quotas: Sequence[Quota] = (),
        strategy: Strategy = Strategy.BEST_FIT,
    ) -> RunInventory:
        """A run with nothing sold."""
        inventory = cls(seats, segments, standing, quotas, strategy)
        inventory._fill_pools()
        return inventory

    @classmethod
    def from_state(
        cls,
        state: InventoryState,
        seats: Sequence[Seat],
        standing: Mapping[SeatClass, int] | None = None,
        quotas: Sequence[Quota] = (),
        strategy: Strategy = Strategy.BEST_FIT,
    ) -> RunInventory:
        """The run ``state`` describes, with this configuration; DomainError if they disagree."""
        inventory = cls(seats, state.segments, standing, quotas, strategy)
        if len(state.masks) != len(seats) or len(state.starts) != len(seats):
            raise DomainError("state", "seat_count", "state and composition differ in seats")
        full = (1 << state.segments) - 1
        for seat, (mask, starts) in enumerate(zip(state.masks, state.starts, strict=True)):
            if mask & ~full or starts & ~mask or piece_starts(mask) & ~starts:
                raise DomainError("state", "corrupt", f"seat {seat} has an impossible mask")
        inventory._masks[:] = state.masks
        inventory._starts[:] = state.starts
        inventory._fill_pools()
        for seat_class, i, j, places in state.standing:
            pool = inventory._standing.get(seat_class)
            if pool is None or not 0 <= i < j <= state.segments or places <= 0:
                raise DomainError("state", "corrupt", f"bad standing record {seat_class} {i}-{j}")
            pool.take(i, j, places)
        return inventory

    def copy(self) -> RunInventory:
        """An independent inventory in the same state: much cheaper than building an empty
        one or decoding one (the configuration is shared, the mutable state copied)."""
        twin = RunInventory.__new__(RunInventory)
        twin.seats, twin.segments, twin.strategy = self.seats, self.segments, self.strategy
        twin.quotas, twin._geo, twin._layout = self.quotas, self._geo, self._layout
        twin._masks = self._masks.copy()
        twin._starts = self._starts.copy()
        pools = {
            id(pool): pool.copy(twin._masks, twin._starts)
            for stock in self._stocks.values()
            for pool in stock.all_pools()
        }
        twin._stocks = {c: stock.copy(pools) for c, stock in self._stocks.items()}
        twin._pool_of = [pools[id(pool)] for pool in self._pool_of]
        twin._pool_seats = {id(pools[k]): seats for k, seats in self._pool_seats.items()}
        twin._fast = {c: pools[id(pool)] for c, pool in self._fast.items()}
        twin._standing = {c: pool.copy() for c, pool in self._standing.items()}
        return twin

    def to_state(self) -> InventoryState:
        standing = tuple(
            (seat_class, i, j, places)
            for seat_class in CLASS_ORDER
            if seat_class in self._standing
            for (i, j), places in sorted(self._standing[seat_class].held.items())
        )
        return InventoryState(self.segments, tuple(self._masks), tuple(self._starts), standing)

    def encode(self) -> bytes:
        """The state as bytes (format in ``codec``)."""
        return codec.encode(self.to_state())

    @classmethod
    def decode(
        cls,
        data: bytes,
        seats: Sequence[Seat],
        standing: Mapping[SeatClass, int] | None = None,
        quotas: Sequence[Quota] = (),
        strategy: Strategy = Strategy.BEST_FIT,
    ) -> RunInventory:
        return cls.from_state(codec.decode(data), seats, standing, quotas, strategy)

    # --- selling and refunding --------------------------------------------------------------

    def _check_range(self, i: int, j: int) -> None:
        if not 0 <= i < j <= self.segments:
            raise DomainError("to_stop", "bad_range", f"stops {i}-{j} are not on this run")

    def allocate(self, request: Request, minutes_to_departure: int | None = None) -> Allocation:
        """Sell places for ``request`` or raise SoldOut; a failure changes nothing."""
        allocation = self.try_allocate(request, minutes_to_departure)
        if allocation is None:
            raise SoldOut(request.seat_class)
        return allocation

    def try_allocate(
        self, request: Request, minutes_to_departure: int | None = None
    ) -> Allocation | None:
        """Like ``allocate`` but None when sold out (a batch loop need not pay for raising)."""
        i = request.from_stop
        j = request.to_stop
        if j > self.segments:
            self._check_range(i, j)
        fast = self._fast.get(request.seat_class)
        if fast is not None and request.party == 1 and not request.letters and not request.berths:
            seat = fast.take_best(i, j)
            if seat is not None:
                return _new_allocation(Allocation, (request.seat_class, i, j, (seat,), None))
            return self._stand(request, False)
        if request.seat_class is STANDING:
            return self._allocate_standing(request, minutes_to_departure)
        return self._allocate_seats(request, minutes_to_departure)

    def _allocate_seats(self, request: Request, minutes: int | None) -> Allocation | None:
        i, j = request.from_stop, request.to_stop
        stock = self._stocks.get(request.seat_class)
        if stock is None:
            return self._stand(request, False)
        pools = stock.pools_for(i, j, minutes)
        wants = request.preferences
        chosen: list[int] | None = None
        if request.party == 1 and wants[0] is None:
            seat = first_free(pools, i, j, self._geo, self.strategy)
            if seat is not None:
                chosen = [seat]
            free_any = seat is not None
        else:
            free = free_seats(pools, i, j, self._geo, self.strategy)
            free_any = bool(free)
            if request.party == 1 and free:
                chosen = [pick_single(free, wants[0], self._layout)]
            elif request.party > 1:
                chosen = pick_party(free, wants, request.together, self._layout)
        if chosen is None:
            return self._stand(request, free_any)
        for seat in chosen:
            self._pool_of[seat].take(seat, i, j)
        return Allocation(request.seat_class, i, j, tuple(chosen))

    def _stand(self, request: Request, seats_free: bool) -> Allocation | None:
        """Standing for a seated request the class cannot seat, when allowed and room is left."""
        if not request.allow_standing or seats_free:
            return None
        i, j, party, seat_class = (
            request.from_stop,
            request.to_stop,
            request.party,
            request.seat_class,
        )
        pool = self._standing.get(seat_class)
        if pool is None or pool.free(i, j) < party:
            return None
        pool.take(i, j, party)
        return Allocation(seat_class, i, j, (None,) * party, seat_class)

    def _allocate_standing(self, request: Request, minutes: int | None) -> Allocation | None:
        i, j, party = request.from_stop, request.to_stop, request.party
        for parent in CLASS_ORDER:
            pool = self._standing.get(parent)
            if pool is None or self._has_free(parent, i, j, minutes):
                continue
            if pool.free(i, j) >= party:
                pool.take(i, j, party)
                return Allocation(STANDING, i, j, (None,) * party, parent)
        return None

    def release(self, allocation: Allocation) -> None:
        """Refund exactly what ``allocation`` sold; DomainError (``not_held``) if it is not held."""
        i, j = allocation.from_stop, allocation.to_stop
        self._check_range(i, j)
        places = allocation.seats
        if not places:
            raise DomainError("allocation", "empty", "an allocation has at least one place")
        if allocation.standing_pool is not None:
            pool = self._standing.get(allocation.standing_pool)
            if pool is None or any(place is not None for place in places):
                raise DomainError("allocation", "not_held", "not a standing allocation of this run")
            pool.give_back(i, j, len(places))
            return
        seats: list[int] = []
        for place in places:
            if (
                place is None
                or not 0 <= place < len(self.seats)
                or self.seats[place].seat_class != allocation.seat_class
                or place in seats
                or not self._pool_of[place].holds(place, i, j)
            ):
                raise DomainError("allocation", "not_held", f"seat {place} does not hold {i}-{j}")
            seats.append(place)
        for seat in seats:
            self._pool_of[seat].give_back(seat, i, j)

    # --- counting ---------------------------------------------------------------------------

    def _has_free(self, seat_class: SeatClass, i: int, j: int, minutes: int | None) -> bool:
        stock = self._stocks.get(seat_class)
        return stock is not None and any(pool.hits(i, j) for pool in stock.pools_for(i, j, minutes))

    def _free_count(self, seat_class: SeatClass, i: int, j: int, minutes: int | None) -> int:
        stock = self._stocks.get(seat_class)
        if stock is None:
            return 0
        return sum(pool.count(i, j) for pool in stock.pools_for(i, j, minutes))

    def remaining(
        self, seat_class: SeatClass, i: int, j: int, minutes_to_departure: int | None = None
    ) -> int:
        """Places of ``seat_class`` a single passenger could still buy from stop i to stop j.

        For STANDING: the standing room left on every segment of the range, summed over the
        seated classes that have no free seat there (standing is only sold then).
        """
        self._check_range(i, j)
        if seat_class is STANDING:
            return sum(
                pool.free(i, j)
                for parent, pool in self._standing.items()
                if not self._has_free(parent, i, j, minutes_to_departure)
            )
        return self._free_count(seat_class, i, j, minutes_to_departure)

    def count_matrix(
        self, seat_class: SeatClass, minutes_to_departure: int | None = None
    ) -> list[list[int]]:
        """``m[i][j] == remaining(seat_class, i, j, ...)`` for all stops, 0 where i >= j."""
        width = self._geo.width
        flat = self._flat_counts(seat_class, minutes_to_departure)
        return [flat[row * width : (row + 1) * width] for row in range(width)]

    def _flat_counts(self, seat_class: SeatClass, minutes: int | None) -> list[int]:
        width = self._geo.width
        if seat_class is STANDING:
            total = [0] * (width * width)
            for parent, room in self._standing.items():
                seated = self._flat_counts(parent, minutes)
                for i, j in self._geo.pairs():
                    if not seated[i * width + j]:
                        total[i * width + j] += room.free(i, j)
            return total
        stock = self._stocks.get(seat_class)
        if stock is None:
            return [0] * (width * width)
        total = list(stock.general.count_table())
        for quota, pool in stock.quotas:
            table = pool.count_table()
            for i, j in self._geo.pairs():
                if quota.open_to(i, j, minutes):
                    total[i * width + j] += table[i * width + j]
        return total

    def count_layout(self) -> CountLayout:
        """This run's configuration as ``RunCounts`` needs it (same pools, quotas, standing)."""
        classes = {
            seat_class: ClassLayout(
                picker(self._pool_seats.get(id(stock.general), [])),
                tuple(
                    (quota, picker(self._pool_seats.get(id(pool), [])))
                    for quota, pool in stock.quotas
                ),
            )
            for seat_class, stock in self._stocks.items()
        }
        standing = {c: pool.capacity for c, pool in self._standing.items()}
        return CountLayout(self._geo, classes, standing, len(self.seats))

    def seat_mask(self, seat: int) -> int:
        """The sold segments of ``seat``."""
        return self._masks[seat]

    def seat_classes(self) -> tuple[SeatClass, ...]:
        """The seated classes of the run, in display order."""
        return tuple(c for c in CLASS_ORDER if c in self._stocks)

    def sold_seat_segments(self, seat_class: SeatClass | None = None) -> int:
        """Seat-segments sold (of one class, or all); divide by seats * segments for load."""
        return sum(
            mask.bit_count()
            for seat, mask in zip(self.seats, self._masks, strict=True)
            if seat_class is None or seat.seat_class == seat_class
        )

    def standing_sold(self, seat_class: SeatClass) -> tuple[int, ...]:
        """Standing places sold per segment under ``seat_class``."""
        pool = self._standing.get(seat_class)
        return tuple(pool.sold) if pool else (0,) * self.segments

    # --- invariants -------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Every invariant breach found by recomputing from the per-seat masks (empty: sound)."""
        problems: list[str] = []
        full = (1 << self.segments) - 1
        for seat, (mask, starts) in enumerate(zip(self._masks, self._starts, strict=True)):
            if mask & ~full:
                problems.append(f"seat {seat}: mask {mask:b} beyond {self.segments} segments")
            if starts & ~mask or piece_starts(mask) & ~starts:
                problems.append(f"seat {seat}: piece starts {starts:b} do not fit mask {mask:b}")
        for stock in self._stocks.values():
            for pool in stock.all_pools():
                problems.extend(self._check_pool(stock.seat_class, pool))
        for seat_class, room in self._standing.items():
            problems.extend(room.check(seat_class))
        return problems

    def _check_pool(self, seat_class: SeatClass, pool: GapPool) -> list[str]:
        problems: list[str] = []
        width = self._geo.width
        members = self._pool_seats.get(id(pool), [])
        geo = self._geo
        expected = {
            (geo.gap_key(a, b), seat)
            for seat in members
            for a, b in free_gaps(self._masks[seat], self.segments)
        }
        actual = {(key, seat) for key, bucket in enumerate(pool.buckets) for seat in bucket}
        for key, seat in sorted(expected ^ actual)[:10]:
            where = "missing from" if (key, seat) in expected else "stray in"
            problems.append(f"{seat_class} seat {seat} {where} gap {geo.gap_of(key)}")
        nonempty = sum(1 << key for key, bucket in enumerate(pool.buckets) if bucket)
        if nonempty != pool.nonempty:
            problems.append(f"{seat_class}: non-empty gap bits out of step with the buckets")
        if any(self.seats[seat].seat_class != seat_class for seat in members):
            problems.append(f"{seat_class}: a pool holds a seat of another class")
        table = pool.count_table()
        for i, j in self._geo.pairs():
            sold = self._geo.range_masks[i * width + j]
            recount = sum(1 for seat in members if not self._masks[seat] & sold)
            if table[i * width + j] != recount or pool.count(i, j) != recount:
                problems.append(
                    f"{seat_class} count {i}-{j}: pools say {table[i * width + j]}, seats {recount}"
                )
        return problems


def _layout(seats: Sequence[Seat]) -> Layout:
    rows: dict[tuple[int, int], int] = {}
    row = tuple(rows.setdefault((seat.coach, seat.row), len(rows)) for seat in seats)
    attr = tuple(
        seat.letter if seat.letter is not None else (str(seat.berth) if seat.berth else None)
        for seat in seats
    )
    return Layout(row, tuple(seat.coach for seat in seats), attr)
