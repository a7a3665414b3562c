"""A sliding-window rate limit estimated from two fixed-window counters.

Failures are counted per key in fixed windows of ``window`` seconds (window starts are
multiples of ``window`` in Unix time). The number of failures in the sliding window that ends
now is estimated as the previous window's count, weighted by the share of it still inside the
sliding window, plus the current window's count. That closes the burst a plain fixed window
allows at its boundary (``limit`` failures at the end of one window and ``limit`` more at the
start of the next) while storing only two small rows per key. Times are whole Unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` (estimated) failures in any ``window`` seconds."""

    limit: int
    window: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < 1:
            raise ValueError("a rate limit needs a positive limit and window")

    def window_start(self, now: int) -> int:
        """Start of the fixed window holding ``now``."""
        return now - now % self.window

    def allows(self, previous: int, current: int, now: int) -> bool:
        """Whether one more attempt is allowed at ``now`` given the two windows' counts."""
        elapsed = now - self.window_start(now)
        # previous * (window - elapsed) / window + current < limit, in integers.
        return previous * (self.window - elapsed) + current * self.window < self.limit * self.window

    def retry_after(self, previous: int, current: int, now: int) -> int:
        """Seconds until an attempt is allowed again if no more failures are counted
        (0 when one is allowed now)."""
        if self.allows(previous, current, now):
            return 0
        elapsed = now - self.window_start(now)
        if current >= self.limit:
            # Wait for the next window, where ``current`` becomes the weighted previous count.
            rest = self.window - elapsed
            return rest + self._unweighted_after(current, 0)
        return self._unweighted_after(previous, current) - elapsed

    def _unweighted_after(self, previous: int, current: int) -> int:
        """The first elapsed second of a window at which previous·(W−e)/W + current < limit."""
        # previous * (W - e) < (limit - current) * W  <=>  e > W - (limit - current) * W / previous
        bound = self.window * previous - (self.limit - current) * self.window
        return max(0, bound // previous + 1) if previous else 0
