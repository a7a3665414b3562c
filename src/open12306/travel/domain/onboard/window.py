"""When a conductor may sell on a segment: while the train is (about to be) on it.

A segment runs from the scheduled departure at its stop to the scheduled arrival at the next.
Sales open ``opens_minutes`` before that departure (boarding) and stay open until
``late_minutes`` after that arrival, so a late train can still sell. These are our defaults,
not a published 12306 rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from open12306.shared.errors import DomainError


class OutsideWindow(DomainError):
    status = 409


@dataclass(frozen=True, slots=True)
class SaleWindow:
    """How long before the segment a sale opens, and how long after it closes."""

    opens_minutes: int = 60
    late_minutes: int = 360

    def __post_init__(self) -> None:
        if self.opens_minutes < 0 or self.late_minutes < 0:
            raise DomainError("window", "invalid", "window minutes are not negative")

    def check(self, departs: datetime, arrives: datetime, now: datetime) -> None:
        """Raise ``OutsideWindow`` unless ``now`` is within the segment's sale window."""
        if now < departs - timedelta(minutes=self.opens_minutes):
            raise OutsideWindow("from", "not_under_way", "the train is not on this segment yet")
        if now > arrives + timedelta(minutes=self.late_minutes):
            raise OutsideWindow("from", "segment_over", "the train has left this segment")
