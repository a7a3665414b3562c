"""Counting a run's free places from its stored state, without the pools a seller needs.

Search and run views only ask "how many places of this class are left from stop i to stop j";
building a ``RunInventory`` (a gap bucket per stop pair and pool, every seat placed in them)
to answer that costs far more than the answer. ``RunCounts`` groups each pool's seats by their
sold-segment mask instead (a few dozen distinct masks per pool, counted at C speed), so a run
written by a sale is readable again in microseconds. Its answers equal ``RunInventory``'s for
the same state (``remaining``, ``standing_sold``); tests hold the two together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Protocol

from open12306.inventory.domain.masks import Geometry
from open12306.inventory.domain.quotas import Quota
from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.domain.state import InventoryState
from open12306.shared.errors import DomainError

STANDING = SeatClass.STANDING

Picker = Callable[[Sequence[int]], tuple[int, ...]]


class SeatCounts(Protocol):
    """What a reader of a run's inventory asks (``RunInventory`` and ``RunCounts`` answer)."""

    def remaining(
        self, seat_class: SeatClass, i: int, j: int, minutes_to_departure: int | None = None
    ) -> int: ...

    def standing_sold(self, seat_class: SeatClass) -> tuple[int, ...]: ...


def picker(indices: Sequence[int]) -> Picker:
    """A function taking the masks of ``indices`` out of a run's per-seat masks, as a tuple."""
    if len(indices) > 1:
        return itemgetter(*indices)
    if len(indices) == 1:
        index = indices[0]
        return lambda masks: (masks[index],)
    return lambda masks: ()


@dataclass(frozen=True, slots=True)
class ClassLayout:
    """The pools of one seated class: its ordinary seats and each quota's seats."""

    general: Picker
    quotas: tuple[tuple[Quota, Picker], ...]


@dataclass(frozen=True, slots=True)
class CountLayout:
    """A train composition's configuration as counting needs it (built once per composition)."""

    geometry: Geometry
    classes: Mapping[SeatClass, ClassLayout]
    standing: Mapping[SeatClass, int]
    seat_count: int

    def counts(self, state: InventoryState) -> RunCounts:
        """The counts of the run ``state`` describes; DomainError if it does not fit."""
        if state.segments != self.geometry.segments or len(state.masks) != self.seat_count:
            raise DomainError("state", "seat_count", "state and composition differ")
        return RunCounts(self, state)


def _masks_of(pick: Picker, masks: Sequence[int]) -> tuple[tuple[int, int], ...]:
    return tuple(Counter(pick(masks)).items())


def _free(pool: tuple[tuple[int, int], ...], sold: int) -> int:
    return sum(n for mask, n in pool if not mask & sold)


class RunCounts:
    """Free places of one run by class and stop pair, read from its state (never sold from)."""

    __slots__ = ("_general", "_layout", "_quotas", "_standing_sold", "segments")

    def __init__(self, layout: CountLayout, state: InventoryState) -> None:
        self._layout = layout
        self.segments = state.segments
        masks = state.masks
        self._general = {c: _masks_of(cl.general, masks) for c, cl in layout.classes.items()}
        self._quotas = {
            c: tuple((quota, _masks_of(pick, masks)) for quota, pick in cl.quotas)
            for c, cl in layout.classes.items()
            if cl.quotas
        }
        sold: dict[SeatClass, list[int]] = {c: [0] * self.segments for c in layout.standing}
        for seat_class, i, j, places in state.standing:
            row = sold.get(seat_class)
            if row is None or not 0 <= i < j <= self.segments or places <= 0:
                raise DomainError("state", "corrupt", f"bad standing record {seat_class} {i}-{j}")
            for segment in range(i, j):
                row[segment] += places
        self._standing_sold = sold

    def _pools(
        self, seat_class: SeatClass, i: int, j: int, minutes: int | None
    ) -> list[tuple[tuple[int, int], ...]]:
        general = self._general.get(seat_class)
        if general is None:
            return []
        quotas = self._quotas.get(seat_class, ())
        pools = [pool for quota, pool in quotas if quota.open_to(i, j, minutes)]
        pools.append(general)
        return pools

    def _seated(self, seat_class: SeatClass, i: int, j: int, minutes: int | None) -> int:
        geo = self._layout.geometry
        sold = geo.range_masks[i * geo.width + j]
        return sum(_free(pool, sold) for pool in self._pools(seat_class, i, j, minutes))

    def remaining(
        self, seat_class: SeatClass, i: int, j: int, minutes_to_departure: int | None = None
    ) -> int:
        """Places of ``seat_class`` one passenger could still buy from stop i to stop j (the
        rule of ``RunInventory.remaining``, standing included)."""
        if not 0 <= i < j <= self.segments:
            raise DomainError("to_stop", "bad_range", f"stops {i}-{j} are not on this run")
        if seat_class is not STANDING:
            return self._seated(seat_class, i, j, minutes_to_departure)
        return sum(
            capacity - max(self._standing_sold[parent][i:j])
            for parent, capacity in self._layout.standing.items()
            if not self._seated(parent, i, j, minutes_to_departure)
        )

    def standing_sold(self, seat_class: SeatClass) -> tuple[int, ...]:
        """Standing places sold per segment under ``seat_class``."""
        row = self._standing_sold.get(seat_class)
        return tuple(row) if row is not None else (0,) * self.segments
