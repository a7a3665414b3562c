"""Quotas (预分): seats held back for some journeys until a release time before departure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class Quota:
    """Seats of ``seat_class`` that only qualifying requests may take until released.

    The seats are ``seats`` (indices) or, when that is empty, the last ``count`` seats of the
    class not already in an earlier quota. A request from stop i to stop j qualifies when it
    covers at least ``min_segments`` segments and, where given, boards at one of ``origins``
    and alights at one of ``destinations`` (an empty set admits nobody: a plain hold-back).
    From ``release_minutes_before_departure`` minutes before the run leaves its origin the
    seats are ordinary. An unknown time (None) means the quota is still in force.
    """

    seat_class: SeatClass
    seats: tuple[int, ...] = ()
    count: int = 0
    min_segments: int = 0
    origins: frozenset[int] | None = None
    destinations: frozenset[int] | None = None
    release_minutes_before_departure: int = 0

    def __post_init__(self) -> None:
        if self.seat_class is SeatClass.STANDING:
            raise DomainError("quota", "standing", "quotas hold seats, not standing room")
        if bool(self.seats) == bool(self.count):
            raise DomainError("quota", "seats_or_count", "give either seat indices or a count")
        if self.count < 0 or self.min_segments < 0:
            raise DomainError("quota", "negative", "count and min_segments are >= 0")
        if self.min_segments == 0 and self.origins is None and self.destinations is None:
            raise DomainError("quota", "no_criterion", "a quota needs at least one criterion")

    def released(self, minutes_to_departure: int | None) -> bool:
        """True once the quota's seats are ordinary."""
        return (
            minutes_to_departure is not None
            and minutes_to_departure <= self.release_minutes_before_departure
        )

    def admits(self, i: int, j: int) -> bool:
        """True when a request from stop i to stop j may take the quota's seats."""
        return (
            j - i >= self.min_segments
            and (self.origins is None or i in self.origins)
            and (self.destinations is None or j in self.destinations)
        )

    def open_to(self, i: int, j: int, minutes_to_departure: int | None) -> bool:
        return self.released(minutes_to_departure) or self.admits(i, j)


def resolve_quota_seats(seats: Sequence[Seat], quotas: Sequence[Quota]) -> list[tuple[int, ...]]:
    """The seat indices of each quota, checked: right class, no seat in two quotas."""
    taken: set[int] = set()
    resolved: list[tuple[int, ...]] = []
    for quota in quotas:
        if quota.seats:
            chosen = quota.seats
            for index in chosen:
                if not 0 <= index < len(seats) or seats[index].seat_class != quota.seat_class:
                    raise DomainError(
                        "quota", "wrong_seat", f"seat {index} is not a {quota.seat_class}"
                    )
        else:
            pool = [
                s.index for s in seats if s.seat_class == quota.seat_class and s.index not in taken
            ]
            if quota.count > len(pool):
                raise DomainError(
                    "quota", "too_many", f"not {quota.count} {quota.seat_class} seats left"
                )
            chosen = tuple(pool[len(pool) - quota.count :])
        if taken.intersection(chosen) or len(set(chosen)) != len(chosen):
            raise DomainError("quota", "overlap", "a seat is in two quotas")
        taken.update(chosen)
        resolved.append(chosen)
    return resolved
