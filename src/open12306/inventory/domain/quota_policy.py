"""Which seats of a run are held back for long journeys (预分) and until when."""

from __future__ import annotations

from dataclasses import dataclass

from open12306.inventory.domain import Quota
from open12306.inventory.domain.seats import SeatClass
from open12306.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """Hold ``share`` of every seated class for journeys covering at least ``long_share`` of
    the route's segments, on trains of at least ``min_segments`` segments, until
    ``release_hours`` before the run leaves its origin; then anyone may buy them.

    12306 publishes no figures for its pre-allocation; these defaults are this project's
    choice (a fifth of the seats, half the route, released two days ahead) and configurable.
    """

    share: float = 0.2
    long_share: float = 0.5
    min_segments: int = 6
    release_hours: int = 48

    def __post_init__(self) -> None:
        if not 0.0 <= self.share < 1.0:
            raise DomainError("quota_share", "out_of_range", "quota share must be in [0, 1)")
        if not 0.0 < self.long_share <= 1.0:
            raise DomainError("quota_long_share", "out_of_range", "long share must be in (0, 1]")
        if self.release_hours < 0:
            raise DomainError("quota_release_hours", "negative", "release hours must be >= 0")

    @property
    def release_minutes(self) -> int:
        return self.release_hours * 60

    def quotas(self, segments: int, capacity: dict[SeatClass, int]) -> tuple[Quota, ...]:
        """The quotas of a run with ``segments`` segments and these seats per class."""
        if self.share <= 0 or segments < self.min_segments:
            return ()
        long_trip = max(2, round(segments * self.long_share))
        held = []
        for seat_class, seats in capacity.items():
            count = int(seats * self.share)
            if seat_class is SeatClass.STANDING or count <= 0:
                continue
            held.append(
                Quota(
                    seat_class,
                    count=count,
                    min_segments=long_trip,
                    release_minutes_before_departure=self.release_minutes,
                )
            )
        return tuple(held)
