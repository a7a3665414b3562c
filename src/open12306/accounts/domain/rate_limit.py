"""Limits on failed attempts: exponential backoff per key, and a sliding-window ceiling.

``Backoff`` throttles one source of failures (a client address, a username from one address):
a few failures cost nothing, each one after that doubles the wait before the next attempt,
and a source quiet for long enough is forgotten. It needs the times of the recent failures.

``RateLimit`` is a sliding window estimated from two fixed-window counters. Failures are
counted per key in fixed windows of ``window`` seconds (window starts are
multiples of ``window`` in Unix time). The number of failures in the sliding window that ends
now is estimated as the previous window's count, weighted by the share of it still inside the
sliding window, plus the current window's count. That closes the burst a plain fixed window
allows at its boundary (``limit`` failures at the end of one window and ``limit`` more at the
start of the next) while storing only two small rows per key. Times are whole Unix seconds.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

# IPv6 clients are bucketed by /64: one subscriber gets a whole /64 and can pick any address.
IPV6_BUCKET_PREFIX = 64


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


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff over a key's recent failures, times in whole Unix seconds.

    A failure counts while it is less than ``memory`` seconds older than the key's latest
    failure, and the key is forgotten ``memory`` seconds after its latest failure. With ``n``
    counted failures the next attempt is allowed ``wait(n)`` seconds after the latest one:
    nothing while ``n < free``, then ``base`` seconds doubling with each failure, at most
    ``cap``. ``cap <= memory``, so a wait always ends before its failures are forgotten.
    """

    free: int
    base: int
    cap: int
    memory: int

    def __post_init__(self) -> None:
        if self.free < 1 or self.base < 1 or self.cap < self.base or self.memory < self.cap:
            raise ValueError("a backoff needs 1 <= free, 1 <= base <= cap <= memory")

    def wait(self, failures: int) -> int:
        """Seconds the next attempt waits after the latest of ``failures`` counted failures."""
        if failures < self.free:
            return 0
        doublings = min(failures - self.free, self.cap.bit_length())
        return min(self.cap, self.base << doublings)

    def retry_after(self, failures: Sequence[int], now: int) -> int:
        """Seconds from ``now`` until an attempt is allowed (0: now), given the times of the
        key's failures (each failure once; older ones than ``memory`` may be left out)."""
        if not failures:
            return 0
        latest = max(failures)
        if now - latest >= self.memory:
            return 0
        counted = sum(1 for moment in failures if moment > latest - self.memory)
        return max(0, latest + self.wait(counted) - now)

    def keep_from(self, now: int) -> int:
        """The oldest failure time still needed once a failure is counted at ``now``."""
        return now - self.memory + 1

    def look_back(self, now: int) -> int:
        """The oldest failure time ``retry_after`` at ``now`` can need."""
        return now - 2 * self.memory + 2


def address_bucket(address: str) -> str:
    """The client an address stands for when counting failures: an IPv4 address itself (also
    written IPv4-mapped), an IPv6 address's /64, anything else (a socket name) as given, or
    its hash when longer than 64 characters."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        if len(address) <= 64:
            return address
        return "h:" + hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()[:32]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_BUCKET_PREFIX), strict=False))
    return str(ip)
