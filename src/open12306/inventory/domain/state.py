"""The persistent state of a run's inventory, apart from its configuration."""

from __future__ import annotations

from dataclasses import dataclass

from open12306.inventory.domain.seats import SeatClass


@dataclass(frozen=True, slots=True)
class InventoryState:
    """What must be stored to rebuild a run's inventory (seats, quotas and capacities are
    configuration and come from the composition and the timetable instead).

    ``masks[s]``: sold segments of seat s; ``starts[s]``: first segment of each sold piece.
    ``standing``: (seated class, from stop, to stop, places) for the standing places sold.
    """

    segments: int
    masks: tuple[int, ...]
    starts: tuple[int, ...]
    standing: tuple[tuple[SeatClass, int, int, int], ...] = ()
